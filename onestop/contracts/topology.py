"""Names on the broker and their declaration (design §4). One place, used by everyone."""

from kombu import Exchange, Queue

TASKS_EXCHANGE = "approval.tasks"
RESULTS_EXCHANGE = "approval.results"
DEAD_LETTER_EXCHANGE = "approval.dead"
DEAD_LETTER_QUEUE = "approval.dead"
RESULTS_QUEUE = "routing.results"

tasks_exchange = Exchange(TASKS_EXCHANGE, type="topic", durable=True)
results_exchange = Exchange(RESULTS_EXCHANGE, type="topic", durable=True)
dead_letter_exchange = Exchange(DEAD_LETTER_EXCHANGE, type="topic", durable=True)

DEAD_LETTER_ARGS = {"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE}

# The delay path of transient failures (onestop/common/messaging.py, docs/operations.md):
# a consumer that cannot handle a message now (store or broker away) republishes it to the
# retry exchange of the next delay, with the queue it came from as routing key, and acks the
# original. Each delay's queue holds it for its TTL, then dead-letters it through the default
# exchange ("") under that same routing key, i.e. back into the queue it came from, as a new
# message: unlike a requeue, this does not count toward a quorum queue's delivery limit.
# One exchange and queue per delay, shared by every consumer's queue.
RETRY_DELAYS_SECONDS = (1, 5, 15, 30)


def retry_name(seconds):
    return f"approval.retry.{seconds:g}s"


def retry_exchange(seconds):
    return Exchange(retry_name(seconds), type="fanout", durable=True)


def retry_queue(seconds):
    return Queue(
        retry_name(seconds),
        exchange=retry_exchange(seconds),
        routing_key="",
        durable=True,
        queue_arguments={"x-message-ttl": int(seconds * 1000), "x-dead-letter-exchange": ""},
    )


# the exchanges of the department boundary and the retries (deploy/rabbitmq/definitions.json)
BOUNDARY_EXCHANGES = (
    TASKS_EXCHANGE,
    RESULTS_EXCHANGE,
    DEAD_LETTER_EXCHANGE,
    *(retry_name(seconds) for seconds in RETRY_DELAYS_SECONDS),
)


def retry_delay(retries):
    """The delay before retry number `retries` + 1: growing, then the longest."""
    delays = RETRY_DELAYS_SECONDS
    return delays[min(max(retries, 0), len(delays) - 1)]


def task_routing_key(department, region):
    return f"task.{department}.{region}"


def result_routing_key(department):
    return f"result.{department}"


def department_queue_name(department):
    return f"approval.tasks.{department}"


def department_queue(department):
    """The durable queue a department consumes its tasks (and cancellations) from."""
    return Queue(
        department_queue_name(department),
        exchange=tasks_exchange,
        routing_key=f"task.{department}.#",
        durable=True,
        queue_arguments=DEAD_LETTER_ARGS,
    )


results_queue = Queue(
    RESULTS_QUEUE,
    exchange=results_exchange,
    routing_key="result.#",
    durable=True,
    queue_arguments=DEAD_LETTER_ARGS,
)
dead_letter_queue = Queue(
    DEAD_LETTER_QUEUE,
    exchange=dead_letter_exchange,
    routing_key="#",
    durable=True,
)


# Queues of entrypoints that no longer exist. Still bound to their exchange, each would
# collect a copy of every event for nobody; the runner (ops/runner.py) and the topology job
# (ops/deploy/broker_setup.py) delete them. Every event they held was also delivered to the
# handler that took the retired one's work (docs/adr/0028), so deleting them loses nothing.
# Deleting needs the administrator: the runner and the topology job have it.
RETIRED_QUEUES = (
    "evt-intake-application_submitted--feedback.count_application_submitted",
    "evt-routing-application_decided--feedback.count_application_decided",
    # notify took every status snapshot to find corrections; now correction_requested
    "evt-routing-application_updated--notify.handle_application_updated",
)


def retire_queues(channel):
    """Delete the retired queues (those absent are fine); the names deleted. The channel is
    closed at the end."""
    deleted = []
    try:
        for name in RETIRED_QUEUES:
            try:
                channel.queue_declare(name, passive=True)
            except Exception:  # absent: the broker closed this channel; take a fresh one
                channel = channel.connection.channel()
                continue
            channel.queue_delete(name)
            deleted.append(name)
    finally:
        if channel.is_open:
            channel.close()
    return deleted


def declare_all(connection, departments=(), exchanges=()):
    """Declare exchanges and queues (idempotent); used by the runner and by consumers.
    `exchanges`: the services' own (nameko-rpc, `<source>.events`: the platform's
    ops.deploy.broker_permissions.topology_exchanges), which no service user may declare
    but its own (docs/adr/0031)."""
    channel = connection.default_channel
    for entity in [
        *exchanges,
        tasks_exchange,
        results_exchange,
        dead_letter_exchange,
        results_queue,
        dead_letter_queue,
        *[retry_queue(seconds) for seconds in RETRY_DELAYS_SECONDS],
        *[department_queue(d) for d in departments],
    ]:
        entity.bind(channel).declare()  # a bound copy: module-level entities stay unbound
