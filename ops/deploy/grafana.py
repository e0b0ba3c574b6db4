"""The Grafana dashboards, written as code and generated into deploy/grafana/dashboards/.

Three dashboards, each for one audience:
- overview (supervisors): throughput, decision time by scenario, open and overdue
  work by department, review scores, rectification, notifications, licences, firing
  alerts;
- department (a department's office, with department and office selectors);
- machinery (operators): per-entrypoint calls, errors and latency, dead letters,
  publisher confirms, queue depth and consumers, MongoDB latency.

Every query names only metrics from docs/metrics.md or the recording rules;
tests/unit/test_grafana_dashboards.py parses each one as PromQL and checks it.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "deploy" / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
GOOD_LEVELS = "very_satisfied|satisfied|basically_satisfied"
WIDTH = 24


class Layout:
    """Places panels left to right in rows of 24 columns."""

    def __init__(self):
        self.x = self.y = self.row_height = 0
        self.next_id = 1

    def place(self, width, height):
        if self.x + width > WIDTH:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        position = {"x": self.x, "y": self.y, "w": width, "h": height}
        self.x += width
        self.row_height = max(self.row_height, height)
        return position

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel = {
            "id": self._id(),
            "type": "row",
            "title": title,
            "collapsed": False,
            "gridPos": {"x": 0, "y": self.y, "w": WIDTH, "h": 1},
            "panels": [],
        }
        self.y += 1
        return panel

    def _id(self):
        self.next_id += 1
        return self.next_id - 1


def panel(
    layout,
    title,
    targets,
    kind="timeseries",
    unit="short",
    width=8,
    height=8,
    description="",
    stack=False,
):
    """A panel; targets are (expr, legend) pairs."""
    defaults = {"unit": unit, "min": 0}
    if kind == "timeseries":
        defaults["custom"] = {
            "fillOpacity": 15 if stack else 5,
            "stacking": {"mode": "normal" if stack else "none"},
        }
    options = (
        {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull"]},
            "tooltip": {"mode": "multi"},
        }
        if kind == "timeseries"
        else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    )
    if kind == "bargauge":
        options.update(displayMode="gradient", orientation="horizontal")
    return {
        "id": layout._id(),
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": layout.place(width, height),
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
                "instant": kind != "timeseries",
                "range": kind == "timeseries",
            }
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def query_variable(name, label, query, multi=False, include_all=False):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": include_all,
        "allValue": ".*" if include_all else None,
        "current": {},
        "options": [],
        "hide": 0,
    }


def dashboard(uid, title, description, panels, variables=(), tags=()):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["onestop", *tags],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": list(variables)},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["onestop"],
                "asDropdown": True,
                "title": "One-step Approval",
            }
        ],
        "panels": panels,
    }


def overview():
    lay = Layout()
    panels = [
        lay.row("Throughput"),
        panel(
            lay,
            "Applications per hour by scenario",
            [("sum by (scenario) (scenario:applications_submitted:rate5m) * 3600", "{{scenario}}")],
            stack=True,
        ),
        panel(
            lay,
            "Applications per hour by channel",
            [
                (
                    "sum by (channel) (rate(intake_applications_submitted_total[$__rate_interval])) * 3600",
                    "{{channel}}",
                )
            ],
            stack=True,
        ),
        panel(
            lay,
            "Decisions per hour by outcome",
            [("sum by (outcome) (scenario:decisions:rate5m) * 3600", "{{outcome}}")],
            stack=True,
        ),
        panel(
            lay,
            "Scenario views and plans per hour (catalog; the ten most asked for)",
            [
                (
                    "topk(10, sum by (scenario) (rate(catalog_scenario_requests_total"
                    "[$__rate_interval]))) * 3600",
                    "{{scenario}}",
                )
            ],
            width=12,
        ),
        panel(
            lay,
            "Searches per hour (catalog; nothing found: the synonyms lack people's words)",
            [
                (
                    "sum by (result) (rate(catalog_searches_total[$__rate_interval])) * 3600",
                    "{{result}}",
                )
            ],
            stack=True,
            width=12,
        ),
        lay.row("Decision time and promised limits"),
        panel(
            lay,
            "Submit-to-decision time, 90th percentile by scenario",
            [("scenario:submit_to_decision_seconds:p90_1h", "{{scenario}}")],
            unit="s",
            width=12,
        ),
        panel(
            lay,
            "Applications in review, at risk and past the promised limit",
            [
                ("sum(routing_applications_in_review)", "in review"),
                ("sum(routing_applications_at_risk)", "at risk"),
                ("sum(routing_applications_overdue)", "past the limit"),
            ],
            width=12,
        ),
        panel(
            lay,
            "At risk by scenario",
            [("sort_desc(sum by (scenario) (routing_applications_at_risk) > 0)", "{{scenario}}")],
            kind="bargauge",
            width=12,
        ),
        panel(
            lay,
            "Past the promised limit by scenario",
            [("sort_desc(sum by (scenario) (routing_applications_overdue) > 0)", "{{scenario}}")],
            kind="bargauge",
            width=12,
        ),
        lay.row("Departments"),
        panel(
            lay,
            "Overdue tasks by department",
            [("sort_desc(department:tasks_overdue:sum)", "{{department}}")],
            kind="bargauge",
        ),
        panel(
            lay,
            "Open tasks by department",
            [("sort_desc(department:tasks_open:sum)", "{{department}}")],
            kind="bargauge",
        ),
        panel(
            lay,
            "Waiting for the applicant's correction by department",
            [
                (
                    "sort_desc(sum by (department) (routing_tasks_awaiting_correction))",
                    "{{department}}",
                )
            ],
            kind="bargauge",
        ),
        lay.row("Reviews and rectification"),
        panel(
            lay,
            "Good-review rate (last day)",
            [(":feedback_good_review_ratio:1d", "all")],
            kind="stat",
            unit="percentunit",
            width=6,
        ),
        panel(
            lay,
            "Reviews by level (all time, by the latest level)",
            [('sum by (level) (feedback_review_levels{dimension="department"})', "{{level}}")],
            kind="bargauge",
            width=6,
        ),
        panel(
            lay,
            "Good-review rate by department (all time)",
            [('sort(feedback_good_review_ratio{dimension="department"})', "{{key}}")],
            kind="bargauge",
            unit="percentunit",
            width=6,
        ),
        panel(
            lay,
            "Rectification cases by state",
            [("sum by (state) (feedback_rectification_cases)", "{{state}}")],
            kind="bargauge",
            width=6,
        ),
        panel(
            lay,
            "Rectification deadlines missed by department (last day)",
            [
                (
                    "sort_desc(sum by (department) (increase(feedback_rectifications_overdue_total[1d])))",
                    "{{department}}",
                )
            ],
            kind="bargauge",
            width=12,
        ),
        panel(
            lay,
            "Rectification timeliness by deadline",
            [
                (
                    'avg by (deadline) (feedback_rectification_timeliness_ratio{dimension="department"})',
                    "{{deadline}}",
                )
            ],
            kind="stat",
            unit="percentunit",
            width=12,
        ),
        lay.row("Published statistics (GET /api/statistics)"),
        panel(
            lay,
            "Decided on time and share handled online (last 30 days)",
            [
                (
                    'sum(increase(feedback_statistics_total{figure="decided_on_time"}[30d])) / '
                    'sum(increase(feedback_statistics_total{figure="decided"}[30d]))',
                    "decided on time",
                ),
                (
                    'sum(increase(feedback_statistics_total{figure="submitted",channel=~"online|mobile"}[30d])) / '
                    'sum(increase(feedback_statistics_total{figure="submitted"}[30d]))',
                    "online + mobile",
                ),
            ],
            kind="stat",
            unit="percentunit",
            width=8,
            description="Counters restart with feedback's process: the published figures "
            "(GET /api/statistics) are the record; these follow them between restarts.",
        ),
        panel(
            lay,
            "Average working days to decision by department (last 30 days)",
            [
                (
                    'sort_desc(sum by (department) (increase(feedback_statistics_department_total{figure="working_days"}[30d])) / '
                    'sum by (department) (increase(feedback_statistics_department_total{figure="decided"}[30d])))',
                    "{{department}}",
                )
            ],
            kind="bargauge",
            width=8,
        ),
        panel(
            lay,
            "Materials and counter visits saved per day",
            [
                (
                    'sum(increase(feedback_statistics_total{figure="materials_saved"}[1d]))',
                    "materials (e-licences reused)",
                ),
                ('sum(increase(feedback_statistics_total{figure="visits_saved"}[1d]))', "visits"),
            ],
            width=8,
        ),
        lay.row("Notifications"),
        panel(
            lay,
            "Notifications per hour, by notice",
            [
                (
                    'sum by (notice) (rate(notify_notifications_total{channel="inbox"}'
                    "[$__rate_interval])) * 3600",
                    "{{notice}}",
                )
            ],
            width=12,
            stack=True,
        ),
        panel(
            lay,
            "Deliveries per hour, by channel and outcome",
            [
                (
                    "sum by (channel, outcome) (rate(notify_deliveries_total[$__rate_interval]))"
                    " * 3600",
                    "{{channel}} {{outcome}}",
                )
            ],
            width=12,
            description="failed: refused or timed out, retried later, then dead-lettered",
        ),
        lay.row("Licences and alerts"),
        panel(
            lay,
            "Licences issued, verified and revoked per hour",
            [
                ("sum(rate(license_licenses_issued_total[$__rate_interval])) * 3600", "issued"),
                ("sum(rate(license_verifications_total[$__rate_interval])) * 3600", "verified"),
                ("sum(rate(license_licenses_revoked_total[$__rate_interval])) * 3600", "revoked"),
            ],
            width=12,
        ),
        panel(
            lay,
            "Firing alerts",
            [
                (
                    'sum by (alertname, severity) (ALERTS{alertstate="firing"})',
                    "{{alertname}} ({{severity}})",
                )
            ],
            kind="bargauge",
            width=12,
        ),
    ]
    return dashboard(
        "onestop-overview",
        "One-step Approval — overview",
        "For supervisors: throughput, decision time, overdue work, reviews.",
        panels,
        tags=["supervision"],
    )


def department():
    lay = Layout()
    d = 'department="$department"'
    office = f'{d}, office=~"$office"'
    queue = 'queue="approval.tasks.$department"'
    panels = [
        lay.row("Work at the selected offices"),
        panel(
            lay,
            "Open tasks by office",
            [(f"sum by (office) (routing_tasks_open{{{office}}})", "{{office}}")],
            stack=True,
        ),
        panel(
            lay,
            "Overdue tasks by office",
            [(f"sum by (office) (routing_tasks_overdue{{{office}}})", "{{office}}")],
            stack=True,
        ),
        panel(
            lay,
            "Waiting for correction by office",
            [(f"sum by (office) (routing_tasks_awaiting_correction{{{office}}})", "{{office}}")],
            stack=True,
        ),
        lay.row("Flow"),
        panel(
            lay,
            "Tasks sent and decided per hour",
            [
                (f"sum(rate(routing_tasks_sent_total{{{d}}}[$__rate_interval])) * 3600", "sent"),
                (
                    f"sum by (decision) (rate(routing_tasks_decided_total{{{d}}}[$__rate_interval]))"
                    " * 3600",
                    "{{decision}}",
                ),
            ],
        ),
        panel(
            lay,
            "Task decision time (50th and 90th percentile)",
            [
                (
                    f"histogram_quantile(0.5, sum by (le) (rate(routing_task_decision_seconds_bucket"
                    f"{{{d}}}[$__rate_interval])))",
                    "p50",
                ),
                (
                    f"histogram_quantile(0.9, sum by (le) (rate(routing_task_decision_seconds_bucket"
                    f"{{{d}}}[$__rate_interval])))",
                    "p90",
                ),
            ],
            unit="s",
        ),
        panel(
            lay,
            "Corrections requested per hour",
            [
                (
                    f"sum(rate(routing_corrections_requested_total{{{d}}}[$__rate_interval])) * 3600",
                    "corrections",
                )
            ],
        ),
        lay.row("Queue"),
        panel(
            lay,
            "Tasks waiting in the department's queue",
            [
                (f"sum(rabbitmq_queue_messages_ready{{{queue}}})", "ready"),
                (f"sum(rabbitmq_queue_messages_unacked{{{queue}}})", "being decided"),
            ],
            width=12,
        ),
        panel(
            lay,
            "Consumers on the department's queue",
            [(f"sum(rabbitmq_queue_consumers{{{queue}}})", "consumers")],
            width=6,
        ),
        panel(
            lay,
            "Reference consumer answers per hour",
            [
                (
                    f"sum by (decision) (rate(departments_answers_total{{{d}}}[$__rate_interval]))"
                    " * 3600",
                    "{{decision}}",
                )
            ],
            width=6,
        ),
        lay.row("Reviews and rectification"),
        panel(
            lay,
            "Good-review rate",
            [
                (f"department:feedback_good_review_ratio:1d{{{d}}}", "last day"),
                (
                    'feedback_good_review_ratio{dimension="department", key="$department"}',
                    "all time",
                ),
            ],
            kind="stat",
            unit="percentunit",
            width=6,
        ),
        panel(
            lay,
            "Reviews by level (last day)",
            [(f"sum by (level) (increase(feedback_reviews_total{{{d}}}[1d]))", "{{level}}")],
            kind="bargauge",
            width=6,
        ),
        panel(
            lay,
            "Rectification cases opened, closed and deadlines missed per day",
            [
                (f"sum(increase(feedback_rectification_cases_opened_total{{{d}}}[1d]))", "opened"),
                (f"sum(increase(feedback_rectification_cases_closed_total{{{d}}}[1d]))", "closed"),
                (
                    f"sum by (deadline) (increase(feedback_rectifications_overdue_total{{{d}}}[1d]))",
                    "missed {{deadline}}",
                ),
            ],
            width=12,
        ),
    ]
    variables = [
        query_variable(
            "department", "Department", "label_values(routing_tasks_sent_total, department)"
        ),
        query_variable(
            "office",
            "Office",
            'label_values(routing_tasks_open{department="$department"}, office)',
            multi=True,
            include_all=True,
        ),
    ]
    return dashboard(
        "onestop-department",
        "One-step Approval — department",
        "One department's offices: open, overdue and corrected work, its queue, its reviews.",
        panels,
        variables,
        tags=["department"],
    )


def machinery():
    lay = Layout()
    panels = [
        lay.row("Services"),
        panel(lay, "Targets up", [("up", "{{job}}")], kind="stat", width=24, height=4),
        panel(
            lay,
            "Entrypoint calls per second by service and outcome",
            [("sum by (job, outcome) (job:entrypoint_calls:rate5m)", "{{job}} {{outcome}}")],
        ),
        panel(
            lay,
            "Calls per second by entrypoint kind",
            [("sum by (kind) (job:entrypoint_calls:rate5m)", "{{kind}}")],
            stack=True,
        ),
        panel(
            lay,
            "Error ratio by service",
            [("job:entrypoint_error_ratio:rate5m", "{{job}}")],
            unit="percentunit",
        ),
        panel(
            lay,
            "Entrypoint latency, 95th percentile",
            [
                (
                    "topk(10, job_entrypoint:entrypoint_duration_seconds:p95_5m)",
                    "{{job}} {{entrypoint}}",
                )
            ],
            unit="s",
            width=12,
        ),
        panel(
            lay,
            "MongoDB command latency, 95th percentile",
            [
                (
                    "histogram_quantile(0.95, sum by (job, command, le) "
                    "(rate(mongo_operation_duration_seconds_bucket[$__rate_interval])))",
                    "{{job}} {{command}}",
                )
            ],
            unit="s",
            width=12,
        ),
        lay.row("Public entry point (gateway) and sign-in (web)"),
        panel(
            lay,
            "Requests per second by service and status",
            [
                (
                    "sum by (service, code) (rate(gateway_requests_total[$__rate_interval]))",
                    "{{service}} {{code}}",
                )
            ],
        ),
        panel(
            lay,
            "Request latency at the gateway, 95th percentile",
            [
                (
                    "histogram_quantile(0.95, sum by (service, le) "
                    "(rate(gateway_request_duration_seconds_bucket[$__rate_interval])))",
                    "{{service}}",
                )
            ],
            unit="s",
        ),
        panel(
            lay,
            "Answered 503: service unavailable, per minute",
            [
                (
                    "sum by (service) (rate(gateway_upstream_unavailable_total[$__rate_interval]))"
                    " * 60",
                    "{{service}}",
                )
            ],
        ),
        panel(
            lay,
            "Sign-ins per minute by method and role",
            [
                (
                    "sum by (method, role) (rate(web_sign_ins_total[$__rate_interval])) * 60",
                    "{{method}} {{role}}",
                )
            ],
            description="Tokens issued by the screens' sign-in (web): method dev is the demo "
            "people's sign-in (WEB_DEV_SIGNIN), which a real deployment never offers.",
            width=24,
        ),
        lay.row("Messages"),
        panel(
            lay,
            "Dead-lettered messages per minute",
            [
                (
                    "sum by (job, queue, cause) (rate(messages_dead_lettered_total[$__rate_interval]))"
                    " * 60",
                    "{{job}} {{queue}} {{cause}}",
                )
            ],
        ),
        panel(
            lay,
            "Requeued messages per minute",
            [
                (
                    "sum by (job, queue, cause) (rate(messages_requeued_total[$__rate_interval])) * 60",
                    "{{job}} {{queue}} {{cause}}",
                )
            ],
        ),
        panel(
            lay,
            "Publishes not confirmed and outbox re-sends per minute",
            [
                (
                    "sum by (job, kind) (rate(outbox_publish_failures_total[$__rate_interval])) * 60",
                    "not confirmed {{job}} {{kind}}",
                ),
                (
                    "sum by (department) (rate(departments_result_publish_failures_total"
                    "[$__rate_interval])) * 60",
                    "result not confirmed {{department}}",
                ),
                (
                    "sum by (job, kind) (rate(outbox_republished_total[$__rate_interval])) * 60",
                    "re-sent {{job}} {{kind}}",
                ),
            ],
        ),
        panel(
            lay,
            "Results ignored and write conflicts per minute",
            [
                (
                    "sum by (kind) (rate(routing_results_ignored_total[$__rate_interval])) * 60",
                    "ignored {{kind}}",
                ),
                (
                    "sum(rate(routing_write_conflicts_total[$__rate_interval])) * 60",
                    "write conflicts",
                ),
            ],
            width=12,
        ),
        panel(
            lay,
            "Gauges readable",
            [
                ("routing_workload_up", "routing workload"),
                ("broker_exporter_up", "local broker exporter {{vhost}}"),
            ],
            kind="stat",
            width=12,
        ),
        lay.row("Broker"),
        panel(
            lay,
            "Queue depth (ready) by queue",
            [("sort_desc(sum by (queue) (rabbitmq_queue_messages_ready))", "{{queue}}")],
            width=12,
        ),
        panel(
            lay,
            "Unacknowledged by queue",
            [("sum by (queue) (rabbitmq_queue_messages_unacked)", "{{queue}}")],
            width=12,
        ),
        panel(
            lay,
            "Consumers by queue",
            [("sum by (queue) (rabbitmq_queue_consumers)", "{{queue}}")],
            kind="bargauge",
            width=12,
        ),
        panel(
            lay,
            "Connections and channels",
            [("sum(rabbitmq_connections)", "connections"), ("sum(rabbitmq_channels)", "channels")],
            width=12,
        ),
    ]
    return dashboard(
        "onestop-machinery",
        "One-step Approval — machinery",
        "For operators: services, entrypoints, messages, broker, store.",
        panels,
        tags=["operations"],
    )


DASHBOARDS = {"overview.json": overview, "department.json": department, "machinery.json": machinery}


def generated_files():
    return {
        DASHBOARD_DIR / name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }
