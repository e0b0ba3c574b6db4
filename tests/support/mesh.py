"""Start the mesh the way `make run` does, isolated for tests.

Own RabbitMQ virtual host, own embedded store on its own port and data folder,
own HTTP ports: a developer's running `make run` is not disturbed and does not
disturb the tests.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import secrets
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
TEST_VHOST = os.environ.get("TEST_VHOST", "onestop_test")
PORT_BASE = int(os.environ.get("TEST_PORT_BASE", "18000"))


def ensure_vhost(vhost=TEST_VHOST):
    """Create the tests' virtual host (rabbitmqctl on this machine; fail loudly otherwise)."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    listed = subprocess.run([ctl, "list_vhosts", "-q"], capture_output=True, text=True)
    if listed.returncode != 0:
        raise RuntimeError(
            f"rabbitmqctl failed ({listed.stderr.strip()}); the tests need their "
            f"own virtual host {vhost}"
        )
    if vhost not in listed.stdout.split():
        subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
        subprocess.run(
            [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def reset_vhost(vhost=TEST_VHOST):
    """Start from an empty virtual host: no queues or messages left by an earlier run."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "delete_vhost", vhost], capture_output=True)
    return ensure_vhost(vhost)


# a test mesh's ports: its port base plus these (the variable that sets each, in mesh_env)
PORT_OFFSETS = {
    "gateway": 0,
    "catalog": 1,
    "intake": 2,
    "routing": 3,
    "license": 4,
    "feedback": 5,
    "notify": 6,
    "web": 7,
    "gateway-metrics": 10,
    "departments-nameko": 11,
    "departments-pika": 12,
    "broker-exporter": 13,
    "embedded-mongo": 18,
}


def port_variable(name):
    return f"{name.upper().replace('-', '_')}_PORT"


def mesh_env(data_dir, amqp_uri, port_base=PORT_BASE):
    return dict(
        os.environ,
        AMQP_URI=amqp_uri,
        DATA_DIR=str(data_dir),
        PYTHONPATH=str(ROOT),
        **{port_variable(name): str(port_base + offset) for name, offset in PORT_OFFSETS.items()},
        MONGO_DB_PREFIX=f"t{uuid.uuid4().hex[:8]}_",
        # the tests mint bearer tokens with the key the mesh verifies them with
        AUTH_SIGNING_KEY=os.environ.get("AUTH_SIGNING_KEY") or secrets.token_hex(32),
        # broker users are global: each vhost's department users get their own names
        BROKER_USER_PREFIX=f"{amqp_uri.rsplit('/', 1)[-1] or 'default'}.department.",
    )


class Mesh:
    """The running mesh: base URL, service URLs, the log, and stop()."""

    def __init__(self, data_dir, amqp_uri, port_base=PORT_BASE, extra_env=None):
        self.data_dir = Path(data_dir)
        self.env = dict(mesh_env(self.data_dir, amqp_uri, port_base), **(extra_env or {}))
        self.amqp_uri = amqp_uri
        self.base = f"http://127.0.0.1:{port_base}"
        self.port_base = port_base
        self.log_path = self.data_dir / "mesh.log"
        self.process = None

    def service_url(self, name):
        return f"http://127.0.0.1:{self.port_base + PORT_OFFSETS[name]}"

    def metrics_port(self, name):
        """The port a process of this mesh serves /metrics on."""
        return self.port_base + PORT_OFFSETS["gateway-metrics" if name == "gateway" else name]

    def start(self, timeout=120):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops.runner"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        ready = self.data_dir / "READY"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready.exists():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"mesh did not become ready; log tail:\n{self.log_tail()}")

    def log_tail(self, lines=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout=30):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def token(self, role="applicant", sub=None, **claims):
        """A bearer token the mesh accepts (sub defaults to the sample applicant)."""
        return mint_token(self.env["AUTH_SIGNING_KEY"], role, sub, **claims)

    def as_(self, role="applicant", sub=None, **claims):
        """Authorization headers for one caller: mesh.get(path, headers=mesh.as_(...))."""
        return {"Authorization": f"Bearer {self.token(role, sub, **claims)}"}

    def client(self, **kwargs):
        from onestop.client import Client

        return Client(self.base, key=self.env["AUTH_SIGNING_KEY"], **kwargs)

    def get(self, path, **kwargs):
        return requests.get(self.base + path, timeout=30, **kwargs)

    def post(self, path, **kwargs):
        return requests.post(self.base + path, timeout=30, **kwargs)


DEFAULT_SUBS = {
    "applicant": "430102199001011234",
    "clerk": "clerk-0001",
    "officer": "officer-0001",
    "supervisor": "supervisor-0001",
    "operator": "operator-0001",
}


def start_clocked_mesh(data_dir, suffix, port_offset):
    """A started mesh of a test module's own (virtual host TEST_VHOST_<suffix>, ports from
    PORT_BASE + port_offset) whose clock the test moves: `clock_file` holds the offset in
    seconds (CLOCK_OFFSET_FILE), 0 at first. The caller stops it."""
    clock = Path(data_dir) / "clock-offset"
    clock.write_text("0")
    running = Mesh(
        data_dir,
        reset_vhost(f"{TEST_VHOST}_{suffix}"),
        port_base=PORT_BASE + port_offset,
        extra_env={"CLOCK_OFFSET_FILE": str(clock)},
    ).start()
    running.clock_file = clock
    return running


def mint_token(key, role="applicant", sub=None, **claims):
    from onestop.common.auth import mint

    if role == "officer":
        claims.setdefault("office", "health.430102")
    if role == "clerk":  # the counter of the sample applications' region
        claims.setdefault("region", "430102")
    return mint(role, sub or DEFAULT_SUBS[role], key=key, **claims)
