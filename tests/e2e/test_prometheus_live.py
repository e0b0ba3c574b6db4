"""A real Prometheus scrapes the running mesh while applications go through it, and its
HTTP API shows the flow metrics move (the local scrape configuration and the rules)."""

import socket
import subprocess
import time

import pytest
import requests

from ops.deploy import prometheus
from tests.support.polling import wait_for

RUN_SECONDS_LIMIT = 90


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prometheus_api(mesh, tmp_path_factory):
    """Prometheus on its own free port, scraping the test mesh every second; always stopped."""
    folder = tmp_path_factory.mktemp("prometheus")
    config_file = folder / "prometheus.yml"
    config_file.write_text(
        prometheus.render(
            prometheus.local_config(interval="1s", evaluation="1s", port=mesh.metrics_port)
        )
    )
    port = free_port()
    log = open(folder / "prometheus.log", "wb")
    process = subprocess.Popen(
        prometheus.prometheus_command(config_file, folder / "data", port, retention="1h"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/-/ready", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, (folder / "prometheus.log").read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def query(base, expr):
    response = requests.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    response.raise_for_status()
    return response.json()["data"]["result"]


def value(base, expr):
    result = query(base, expr)
    return float(result[0]["value"][1]) if result else 0.0


def wait_until(check, what, seconds=RUN_SECONDS_LIMIT):
    return wait_for(check, f"Prometheus to show {what}", timeout=seconds, interval=0.5)


def test_every_process_of_the_mesh_is_scraped(prometheus_api):
    jobs = {job["job_name"] for job in prometheus.local_config()["scrape_configs"]}

    def all_up():
        up = {r["metric"]["job"]: r["value"][1] for r in query(prometheus_api, "up")}
        return set(up) == jobs and all(v == "1" for v in up.values())

    wait_until(all_up, f"every job up ({sorted(jobs)})")


def test_the_flow_metrics_move_as_applications_go_through(prometheus_api, client):
    wait_until(lambda: query(prometheus_api, 'up{job="intake"} == 1'), "intake scraped")
    before = {
        "submitted": value(
            prometheus_api, 'sum(intake_applications_submitted_total{scenario="birth"})'
        ),
        "decided": value(prometheus_api, 'sum(routing_decisions_total{scenario="birth"})'),
        "sent": value(prometheus_api, "sum(routing_tasks_sent_total)"),
        "timed": value(
            prometheus_api, 'sum(routing_submit_to_decision_seconds_count{scenario="birth"})'
        ),
    }
    ids = [client.apply("birth") for _ in range(3)]
    for application_id in ids:
        client.wait_for_decision(application_id)

    wait_until(
        lambda: (
            value(prometheus_api, 'sum(intake_applications_submitted_total{scenario="birth"})')
            >= before["submitted"] + 3
        ),
        "three more submitted applications",
    )
    wait_until(
        lambda: (
            value(prometheus_api, 'sum(routing_decisions_total{scenario="birth"})')
            >= before["decided"] + 3
        ),
        "three more decisions",
    )
    wait_until(
        lambda: value(prometheus_api, "sum(routing_tasks_sent_total)") >= before["sent"] + 3 * 4,
        "the tasks of three birth applications sent",
    )
    wait_until(
        lambda: (
            value(prometheus_api, 'sum(routing_submit_to_decision_seconds_count{scenario="birth"})')
            >= before["timed"] + 3
        ),
        "three more submit-to-decision observations",
    )
    decided = query(prometheus_api, "sum by (department, decision) (routing_tasks_decided_total)")
    assert {r["metric"]["department"] for r in decided} >= {"health", "public_security"}


def test_store_gauges_show_open_work_and_queue_depth_reaches_prometheus(prometheus_api, client):
    client.apply("birth", name="Hold health")  # health never answers: its task stays open
    client.apply("birth", name="Correct health")  # health asks for a correction: it waits
    health = 'department="health"'

    wait_until(lambda: value(prometheus_api, "routing_workload_up") == 1, "routing_workload_up 1")
    wait_until(
        lambda: value(prometheus_api, f"sum(routing_tasks_open{{{health}}})") >= 1,
        "an open task at health (from routing's store)",
    )
    wait_until(
        lambda: value(prometheus_api, f"sum(routing_tasks_awaiting_correction{{{health}}})") >= 1,
        "a task at health waiting for the applicant's correction",
    )
    wait_until(
        lambda: value(prometheus_api, 'sum(routing_applications_in_review{scenario="birth"})') >= 2,
        "two birth applications in review",
    )
    assert value(prometheus_api, f"sum(routing_tasks_overdue{{{health}}})") == 0
    offices = query(prometheus_api, f"routing_tasks_open{{{health}}}")
    assert all(r["metric"]["office"].startswith("health.") for r in offices)

    def consumed():
        result = query(prometheus_api, 'rabbitmq_queue_consumers{queue="approval.tasks.health"}')
        return result and float(result[0]["value"][1]) >= 1

    wait_until(consumed, "a consumer on the health department's queue (broker exporter)")


def test_the_recording_and_alert_rules_evaluate_against_live_data(prometheus_api):
    def healthy_groups():
        groups = requests.get(f"{prometheus_api}/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        evaluated = [rule for rule in rules if rule.get("lastEvaluation", "").startswith("20")]
        return (
            rules and len(evaluated) == len(rules) and all(rule["health"] == "ok" for rule in rules)
        )

    wait_until(healthy_groups, "every rule evaluated without error")
    # a rate needs two scrapes of a series, then an evaluation of the rule: wait for them
    wait_until(
        lambda: (
            {r["metric"]["job"] for r in query(prometheus_api, "job:entrypoint_calls:rate5m")}
            >= {"intake", "routing"}
        ),
        "entrypoint call rates recorded for intake and routing",
    )
    firing = query(prometheus_api, 'ALERTS{alertstate="firing", alertname="ServiceDown"}')
    assert firing == []
