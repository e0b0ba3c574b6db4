"""Departments plug their own consumers into a running mesh (issue 5).

A mesh whose reference consumers leave some departments alone (EXTERNAL_DEPARTMENTS);
those departments are answered by consumers an integrator would write:
- health: the Node.js example (amqplib + the published JSON Schemas, no Python, none of
  our code), connecting with the URI the operator's CLI hands out;
- market_regulation: a consumer made from departments/template/ in a folder of its own,
  as docs/department-guide.md tells a newcomer to do;
- taxation: the nameko SDK example (departments/examples/nameko-department).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.mesh import PORT_BASE, ROOT, TEST_VHOST, Mesh, reset_vhost

EXTERNAL = ("health", "market_regulation", "taxation")


@pytest.fixture(scope="module")
def plug_mesh(tmp_path_factory):
    mesh = Mesh(
        tmp_path_factory.mktemp("plug"),
        reset_vhost(f"{TEST_VHOST}_plug"),
        PORT_BASE + 400,
        extra_env={"EXTERNAL_DEPARTMENTS": ",".join(EXTERNAL)},
    )
    mesh.start()
    yield mesh
    mesh.stop()


@pytest.fixture(scope="module")
def plug_client(plug_mesh):
    return plug_mesh.client()


def operator_uri(mesh, department):
    """What the operator gives the department: its broker URI, from the CLI."""
    run = subprocess.run(
        [sys.executable, "-m", "ops.cli", "broker-users", "uri", department],
        cwd=ROOT,
        env=mesh.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.strip()


class Consumer:
    """A department's consumer process, started like its integrator would start it."""

    def __init__(self, command, cwd, env, log_path, ready_text):
        self.log_path = Path(log_path)
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=open(log_path, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while ready_text not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"consumer did not start:\n{self.log()}")
            time.sleep(0.2)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def node_department(plug_mesh, tmp_path_factory):
    node = shutil.which("node")
    assert node, "Node.js 20+ is needed for the Node.js department example"
    folder = ROOT / "departments" / "examples" / "node-department"
    assert (folder / "node_modules" / "amqplib").is_dir(), "run `make setup` (npm ci)"
    env = {
        "PATH": os.environ["PATH"],
        "AMQP_URL": operator_uri(plug_mesh, "health"),
        "DEPARTMENT": "health",
    }  # nothing of Python's or ours in its environment
    consumer = Consumer(
        [node, "department.js"],
        folder,
        env,
        tmp_path_factory.mktemp("node") / "node.log",
        "consuming",
    )
    yield consumer
    consumer.stop()


def decided_task(view, item_code):
    return next(t for t in view["tasks"] if t["item_code"] == item_code)


def test_a_nodejs_consumer_decides_its_departments_tasks(plug_client, node_department):
    approved = plug_client.apply("birth")
    rejected = plug_client.apply("birth", name="Reject health")

    view = plug_client.wait_for_decision(approved, timeout=60)
    assert view["status"] == "approved"
    assert decided_task(view, "HN-WJ-0001")["state"] == "approved"
    view = plug_client.wait_for_decision(rejected, timeout=60)
    assert view["status"] == "rejected"
    health = decided_task(view, "HN-WJ-0001")
    assert health["state"] == "rejected" and "(node)" in health["reason"]
    log = node_department.log()
    assert f"{approved}:HN-WJ-0001" in log and f"{rejected}:HN-WJ-0001" in log


RULE_MARKER = "    # -- your rules go here (step 4 of the guide) --\n"
NEW_RULE = (
    '    if task["applicant"]["name"] == "Refused by the template":\n'
    '        return {"decision": "rejected", "reason": "template rule: refused"}\n'
)


def python_env(mesh, department):
    """A consumer's environment: the SDK on PYTHONPATH, its broker URI, nothing else."""
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "DEPARTMENT": department,
        "AMQP_URI": operator_uri(mesh, department),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def template_department(plug_mesh, tmp_path_factory):
    """A newcomer's consumer: the template copied to a repository of its own, one rule
    written (step 4 of the guide), its tests run, then started."""
    repository = tmp_path_factory.mktemp("second-repository") / "market-regulation-consumer"
    shutil.copytree(ROOT / "departments" / "template", repository)
    source = (repository / "department.py").read_text()
    assert RULE_MARKER in source
    (repository / "department.py").write_text(source.replace(RULE_MARKER, RULE_MARKER + NEW_RULE))
    env = python_env(plug_mesh, "market_regulation")
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    consumer = Consumer(
        [sys.executable, "department.py"],
        repository,
        env,
        repository / "consumer.log",
        "consuming tasks for market_regulation",
    )
    yield consumer
    consumer.stop()


@pytest.fixture(scope="module")
def nameko_example(plug_mesh, tmp_path_factory):
    folder = ROOT / "departments" / "examples" / "nameko-department"
    consumer = Consumer(
        [sys.executable, "-m", "nameko", "run", "--config", "config.yaml", "service"],
        folder,
        python_env(plug_mesh, "taxation"),
        tmp_path_factory.mktemp("nameko") / "nameko.log",
        "Connected to",
    )
    yield consumer
    consumer.stop()


def test_a_consumer_made_from_the_template_and_the_nameko_example_decide_their_tasks(
    plug_client, template_department, nameko_example
):
    approved = plug_client.apply("enterprise_startup")
    refused = plug_client.apply("enterprise_startup", name="Refused by the template")

    view = plug_client.wait_for_decision(approved, timeout=60)
    assert view["status"] == "approved", view
    assert {t["item_code"]: t["state"] for t in view["tasks"]}["HN-SW-0001"] == "approved"
    view = plug_client.wait_for_decision(refused, timeout=60)
    assert view["status"] == "rejected"
    registration = decided_task(view, "HN-SJ-0001")
    assert registration["state"] == "rejected"
    assert registration["reason"] == "template rule: refused"
    assert decided_task(view, "HN-SW-0001")["state"] == "cancelled"  # never reached taxation
    assert f"{approved}:HN-SW-0001" not in template_department.log()
