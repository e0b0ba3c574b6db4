"""Prometheus: the scrape configurations, recording rules and alerts, checked by promtool,
with a unit test for every alert, and the metrics inventory kept honest."""

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from onestop.common import config
from ops.deploy import inventory, prometheus
from tests.support.promql import metric_names

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "tests" / "alerts_test.yml"
OPERATIONS = ROOT / "docs" / "operations.md"


def promtool(*args):
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/setup.sh installs Debian's prometheus package"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)


def rule_groups(name):
    return yaml.safe_load((RULES / name).read_text())["groups"]


def alerts():
    return [rule for group in rule_groups("alerts.yml") for rule in group["rules"]]


def recorded_names():
    return {rule["record"] for group in rule_groups("recording.yml") for rule in group["rules"]}


def test_the_compose_scrape_configuration_is_valid():
    checked = promtool("check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_local_scrape_configuration_is_valid_and_covers_every_process(tmp_path):
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(prometheus.render(prometheus.local_config()))
    checked = promtool("check", "config", str(config_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {job["job_name"] for job in prometheus.local_config()["scrape_configs"]}
    compose_jobs = {job["job_name"] for job in prometheus.compose_config()["scrape_configs"]}
    assert jobs - {"broker-exporter"} == compose_jobs - {"rabbitmq"}
    # every process `make run` starts is a job, the screens (web) included
    from ops import runner
    from ops.deploy import __main__ as deploy, rabbitmq

    with deploy.default_environment():
        assert jobs == set(runner.processes(rabbitmq.departments()))
        targets = prometheus.local_targets()
    assert targets["web"] == f"127.0.0.1:{config.FRONTENDS['web']}"


def test_rules_are_valid():
    checked = promtool("check", "rules", *map(str, sorted(RULES.glob("*.yml"))))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_behaves_as_its_unit_test_says():
    tested = promtool("test", "rules", str(ALERT_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_test_that_fires_it_and_a_runbook():
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if not case.get("exp_alerts")
    }
    runbook = OPERATIONS.read_text(encoding="utf-8")
    for alert in alerts():
        name = alert["alert"]
        assert name in fired and name in quiet, f"{name} needs a firing and a quiet case"
        assert alert["annotations"]["runbook"] == f"docs/operations.md#{name.lower()}"
        assert re.search(rf"^#+ {name}$", runbook, re.MULTILINE), f"no runbook for {name}"
        assert alert["labels"]["severity"] in ("warning", "critical")


def test_rules_name_only_documented_metrics():
    known = inventory.series_names() | {"ALERTS"}
    recorded = recorded_names()
    for file_name in ("recording.yml", "alerts.yml"):
        for group in rule_groups(file_name):
            for rule in group["rules"]:
                unknown = metric_names(rule["expr"], known) - known - recorded
                assert not unknown, f"{rule.get('alert') or rule.get('record')}: {unknown}"


def test_rules_use_only_bounded_labels():
    """No aggregation keeps an identifier: only labels the inventory declares, job and instance."""
    declared = {label for metric in inventory.documented().values() for label in metric.labels}
    allowed = declared | {"job", "instance", "le", "vhost", "queue", "alertname", "severity"}
    text = "\n".join((RULES / name).read_text() for name in ("recording.yml", "alerts.yml"))
    for clause in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", text):
        labels = {label.strip() for label in clause.split(",") if label.strip()}
        assert labels <= allowed, labels - allowed


@functools.cache
def python_sources():
    return "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("onestop", "services", "ops", "departments")
        for path in (ROOT / folder).rglob("*.py")
    )


@pytest.mark.parametrize(
    "metric",
    sorted(inventory.documented().values(), key=lambda m: m.name),
    ids=lambda metric: metric.name,
)
def test_the_inventory_says_truly_what_the_code_exports(metric):
    """A metric is exported when the code names it; `(issue N)` marks those not yet exported."""
    if metric.source in ("prometheus",) or metric.source.startswith("rabbitmq"):
        return
    sources = python_sources()
    named = f'"{metric.name}"' in sources or metric.name.endswith(
        ("_entrypoint_calls_total", "_entrypoint_duration_seconds")
    )
    if metric.pending:
        assert not named, f"{metric.name} is exported now: remove the issue from its `from` cell"
    else:
        assert named, f"{metric.name} is documented as exported but no code names it"
