"""The provisioned Grafana dashboards: valid, placed, and every query real PromQL over
metrics the services or RabbitMQ export (docs/metrics.md) or the recording rules."""

import json
from pathlib import Path

import pytest
import yaml

from ops.deploy import grafana, inventory
from tests.support.promql import LABEL_VALUES, metric_names, substitute

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"


def known_names():
    recording = yaml.safe_load((ROOT / "deploy/prometheus/rules/recording.yml").read_text())
    recorded = {rule["record"] for group in recording["groups"] for rule in group["rules"]}
    return inventory.series_names() | recorded | {"ALERTS"} | set(inventory.RABBITMQ_PLUGIN_ONLY)


def panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard):
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def test_there_are_the_three_dashboards_for_their_audiences():
    assert [path.name for path in DASHBOARDS] == [
        "department.json",
        "machinery.json",
        "overview.json",
    ]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_every_query_parses_and_names_only_exported_metrics(path):
    dashboard = json.loads(path.read_text())
    known = known_names()
    count = 0
    for title, expr in queries(dashboard):
        unknown = metric_names(expr, known) - known
        assert not unknown, f"{path.name} / {title}: {unknown}"
        count += 1
    for variable in dashboard["templating"]["list"]:
        match = LABEL_VALUES.match(variable["query"]["query"])
        assert match, variable["query"]
        if match["selector"]:
            assert not metric_names(match["selector"], known) - known
    assert count >= 10


def test_a_query_naming_an_unknown_metric_is_caught():
    with pytest.raises(Exception):
        metric_names("sum(rate(routing_tasks_sent_total[5m]", set())
    assert metric_names("rate(routing_taks_sent_total[5m])", known_names()) - known_names()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_panels_are_placed_and_use_the_provisioned_datasource(path):
    dashboard = json.loads(path.read_text())
    datasource = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        position = panel["gridPos"]
        assert 0 <= position["x"] and position["x"] + position["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == uid
            assert panel["targets"], panel["title"]


def test_the_department_dashboard_selects_a_department_and_its_offices():
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/department.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["office"]["multi"] and variables["office"]["includeAll"]
    assert "$department" in variables["office"]["query"]["query"]
    exprs = [expr for _, expr in queries(dashboard)]
    assert all("$department" in expr for expr in exprs)
    assert any('office=~"$office"' in expr for expr in exprs)


def test_the_overview_shows_what_supervisors_watch():
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/overview.json").read_text())
    text = " ".join(expr for _, expr in queries(dashboard))
    for needle in (
        "scenario:applications_submitted:rate5m",
        "submit_to_decision_seconds",
        "department:tasks_overdue:sum",
        "feedback_good_review_ratio",
    ):
        assert needle in text


def test_the_machinery_shows_the_public_entry_point_and_the_sign_ins():
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/machinery.json").read_text())
    text = " ".join(expr for _, expr in queries(dashboard))
    for needle in ("gateway_requests_total", "web_sign_ins_total", "up"):
        assert needle in text


def test_the_committed_dashboards_are_the_generated_ones():
    for path, text in grafana.generated_files().items():
        assert path.read_text() == text, f"{path} is stale: run python -m ops.deploy"


def test_substitution_leaves_no_grafana_variable():
    assert "$" not in substitute('rate(x{department="$department"}[$__rate_interval])')
