"""The scrape-time gauges against the real store and the real broker."""

from datetime import timedelta

from kombu import Connection, Exchange, Queue
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ops.broker_exporter import build_registry
from onestop.common.clock import utcnow
from services.routing.gauges import WorkloadCollector
from services.routing.store import RoutingStore
from tests.unit.test_prometheus_gauges import workflow


def samples(registry):
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_workload_gauges_read_routings_store(db):
    store = RoutingStore(db)
    store.ensure_indexes()
    now = utcnow()
    for i in range(3):
        store.insert(workflow(f"open{i}", "birth", ("I1", "health", ())), {}, now)
    decided = workflow("done", "birth", ("I1", "health", ()))
    decided["status"] = "approved"
    store.insert(decided, {}, now)
    registry = CollectorRegistry()
    registry.register(
        WorkloadCollector(
            store.unfinished,
            now=lambda: utcnow() + timedelta(days=30),
            at_risk_hours=24,
            cache_seconds=0,
        )
    )

    found = samples(registry)

    office = (("department", "health"), ("office", "health.430102"))
    assert found[("routing_workload_up", ())] == 1
    assert found[("routing_tasks_open", office)] == 3
    assert found[("routing_tasks_overdue", office)] == 3
    assert found[("routing_applications_in_review", (("scenario", "birth"),))] == 3


def test_queue_depth_of_the_meshs_virtual_host(amqp_uri):
    queue = Queue(
        "h2.exporter.probe",
        exchange=Exchange("h2.exporter", type="direct"),
        routing_key="probe",
        durable=False,
        auto_delete=False,
    )
    with Connection(amqp_uri) as connection:
        queue.maybe_bind(connection.default_channel)
        queue.declare()
        queue.purge()
        producer = connection.Producer()
        for _ in range(2):
            producer.publish({"n": 1}, exchange=queue.exchange, routing_key="probe")
        try:
            found = samples(build_registry(amqp_uri))
        finally:
            queue.delete()

    vhost = amqp_uri.rsplit("/", 1)[1]
    labels = (("queue", "h2.exporter.probe"), ("vhost", vhost))
    assert found[("broker_exporter_up", (("vhost", vhost),))] == 1
    assert found[("rabbitmq_queue_messages_ready", labels)] == 2
    assert found[("rabbitmq_queue_consumers", labels)] == 0
