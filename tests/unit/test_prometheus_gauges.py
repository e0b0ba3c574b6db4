"""Gauges computed at scrape time: routing's workload and the local broker exporter."""

from datetime import datetime, timedelta, timezone

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ops.broker_exporter import QueueCollector, vhost_of
from onestop.common.working_days import WorkingCalendar
from services.routing import domain
from services.routing.gauges import WorkloadCollector, workload
from services.routing.store import TERMINAL_STATUSES

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)  # a Thursday
CALENDAR = WorkingCalendar({"holidays": [], "workdays": []})


def workflow(application_id, scenario, *tasks, promised_days=10):
    plan = {
        "catalog_version": 1,
        "promised_days": promised_days,
        "tasks": [
            {
                "item_code": code,
                "item_name": code,
                "department": dept,
                "level": "county",
                "region": "430102",
                "office": f"{dept}.430102",
                "depends_on": list(deps),
                "promised_days": 2,
                "legal_days": 5,
                "license_type": None,
            }
            for code, dept, deps in tasks
        ],
    }
    submitted = {
        "application_id": application_id,
        "scenario": scenario,
        "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
        "region": "430102",
        "channel": "online",
        "form": {},
        "materials": [],
        "submitted_at": NOW.isoformat(),
    }
    doc, _ = domain.new_workflow(submitted, plan, NOW, CALENDAR)
    return doc


def samples(registry):
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


class FakeStore:
    def __init__(self, docs):
        self.docs = docs
        self.queries = 0

    def unfinished(self):
        self.queries += 1
        return [d for d in self.docs if d["status"] not in TERMINAL_STATUSES]


def test_open_tasks_are_counted_per_office_and_overdue_after_their_due_date():
    births = [
        workflow(f"a{i}", "birth", ("I1", "health", ()), ("I2", "hrss", ("I1",))) for i in range(3)
    ]

    counts = workload(births, NOW, timedelta(hours=24))

    assert counts["routing_tasks_open"] == {("health", "health.430102"): 3}
    assert not counts["routing_tasks_overdue"]
    later = workload(births, NOW + timedelta(days=5), timedelta(hours=24))
    assert later["routing_tasks_overdue"] == {("health", "health.430102"): 3}
    assert later["routing_applications_in_review"] == {("birth",): 3}


def test_decided_applications_and_tasks_awaiting_correction_are_not_open():
    decided = workflow("a1", "birth", ("I1", "health", ()))
    decided["status"] = "approved"
    paused = workflow("a2", "birth", ("I1", "health", ()))
    paused["tasks"]["I1"]["state"] = "correction_required"

    counts = workload([decided, paused], NOW + timedelta(days=30), timedelta(hours=24))

    assert counts["routing_tasks_open"] == {}
    assert counts["routing_tasks_overdue"] == {}
    assert counts["routing_tasks_awaiting_correction"] == {("health", "health.430102"): 1}
    assert counts["routing_applications_in_review"] == {("birth",): 1}


def test_an_application_is_at_risk_before_its_promised_date_and_overdue_after():
    doc = workflow("a1", "marriage", ("I1", "civil_affairs", ()), promised_days=1)
    due = datetime.fromisoformat(doc["due"])

    early = workload([doc], due - timedelta(hours=30), timedelta(hours=24))
    near = workload([doc], due - timedelta(hours=2), timedelta(hours=24))
    late = workload([doc], due + timedelta(hours=1), timedelta(hours=24))

    assert not early["routing_applications_at_risk"]
    assert near["routing_applications_at_risk"] == {("marriage",): 1}
    assert not near["routing_applications_overdue"]
    assert late["routing_applications_overdue"] == {("marriage",): 1}


def test_the_collector_reports_zero_when_work_is_done_rather_than_dropping_the_series():
    doc = workflow("a1", "birth", ("I1", "health", ()))
    store = FakeStore([doc])
    registry = CollectorRegistry()
    registry.register(
        WorkloadCollector(store.unfinished, now=lambda: NOW, at_risk_hours=24, cache_seconds=0)
    )
    key = ("routing_tasks_open", (("department", "health"), ("office", "health.430102")))
    assert samples(registry)[key] == 1

    doc["status"] = "approved"

    after = samples(registry)
    assert after[key] == 0
    assert after[("routing_workload_up", ())] == 1


def test_a_store_outage_is_reported_and_does_not_fail_the_scrape():
    def broken():
        raise ConnectionError("store away")

    registry = CollectorRegistry()
    registry.register(WorkloadCollector(broken, now=lambda: NOW, at_risk_hours=24))

    assert samples(registry) == {("routing_workload_up", ()): 0}


def test_the_store_is_read_at_most_once_per_cache_period():
    store = FakeStore([workflow("a1", "birth", ("I1", "health", ()))])
    registry = CollectorRegistry()
    registry.register(
        WorkloadCollector(store.unfinished, now=lambda: NOW, at_risk_hours=24, cache_seconds=3600)
    )
    samples(registry)
    samples(registry)
    assert store.queries == 1


def test_queue_depth_uses_the_names_of_rabbitmqs_own_plugin():
    def list_queues(vhost):
        assert vhost == "onestop"
        return [
            {
                "name": "approval.tasks.health",
                "messages_ready": 4,
                "messages_unacknowledged": 1,
                "consumers": 2,
            }
        ]

    registry = CollectorRegistry()
    registry.register(QueueCollector("onestop", list_queues))
    found = samples(registry)

    labels = (("queue", "approval.tasks.health"), ("vhost", "onestop"))
    assert found[("rabbitmq_queue_messages_ready", labels)] == 4
    assert found[("rabbitmq_queue_messages_unacked", labels)] == 1
    assert found[("rabbitmq_queue_consumers", labels)] == 2
    assert found[("broker_exporter_up", (("vhost", "onestop"),))] == 1


def test_an_unreachable_broker_is_reported_as_down():
    def list_queues(vhost):
        raise OSError("no broker")

    registry = CollectorRegistry()
    registry.register(QueueCollector("/", list_queues))
    assert samples(registry) == {("broker_exporter_up", (("vhost", "/"),)): 0}


def test_the_virtual_host_comes_from_the_amqp_uri():
    assert vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert vhost_of("amqp://u:p@rabbitmq:5672/onestop_h2") == "onestop_h2"
    assert vhost_of("amqp://u:p@rabbitmq:5672/%2F") == "/"
