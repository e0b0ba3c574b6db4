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
    RESULTS_QUEUE, exchange=results_exchange, routing_key="result.#",
    durable=True, queue_arguments=DEAD_LETTER_ARGS,
)
dead_letter_queue = Queue(
    DEAD_LETTER_QUEUE, exchange=dead_letter_exchange, routing_key="#", durable=True,
)


def declare_all(connection, departments=()):
    """Declare exchanges and queues (idempotent); used by the runner and by consumers."""
    channel = connection.default_channel
    for entity in [tasks_exchange, results_exchange, dead_letter_exchange,
                   results_queue, dead_letter_queue,
                   *[department_queue(d) for d in departments]]:
        entity.bind(channel).declare()  # a bound copy: module-level entities stay unbound
