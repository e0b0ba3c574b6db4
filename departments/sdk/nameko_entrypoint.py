"""`@approval_task(department)`: a nameko entrypoint for a department's approval tasks.

    class HealthDepartment:
        name = "health-department"

        @approval_task("health")
        def decide(self, task):
            return {"decision": "approved", "data": {"reference_number": "..."}}

The task is acknowledged only after the result was published with publisher
confirms; a result the broker does not confirm leaves the task on the queue
(requeued after a pause, counted in departments_result_publish_failures_total);
a failing handler is retried once and then dead-lettered, a handler that lost its
connection to something (ConnectionError, OSError, an RPC timeout) has the task requeued
after a pause (the same failure policy as the platform's own consumers,
onestop/common/messaging.py, written here so that the SDK needs nothing of the platform
but onestop.contracts: no pymongo). Cancellations of tasks arrive on the same
queue and are acknowledged without calling the handler. After a broker restart
nameko's queue consumer reconnects and unacknowledged tasks are redelivered.

Each department's entrypoint has its own connection, as the department's broker
user: `DEPARTMENT_AMQP_URIS[department]` in the nameko config, else `AMQP_URI`.
Results carry that user as the AMQP `user_id` property (checked by RabbitMQ),
which is how routing knows they are the department's. The user may not declare
anything: the platform declares the queues.
"""

import json
import logging

import eventlet
from amqp.exceptions import ConnectionError as AmqpConnectionError
from kombu import Connection, Queue
from nameko.amqp.publish import Publisher
from nameko.exceptions import RpcTimeout
from nameko.messaging import Consumer, QueueConsumer

from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage, open_envelope
from onestop.contracts.topology import department_queue_name, results_exchange, result_routing_key
from departments.sdk.metrics import DEAD_LETTERED, REDELIVERIES, RESULT_PUBLISH_FAILURES
from departments.sdk.pika_worker import result_envelope

log = logging.getLogger(__name__)

# something the handler needs is away: requeue after a pause, nothing is lost
TRANSIENT_ERRORS = (ConnectionError, OSError, RpcTimeout)
RETRY_PAUSE_SECONDS = 1.0


def department_amqp_uri(config, department):
    """The broker URI of a department's user: DEPARTMENT_AMQP_URIS[department] or AMQP_URI."""
    return (config.get("DEPARTMENT_AMQP_URIS") or {}).get(department) or config["AMQP_URI"]


class DepartmentQueueConsumer(QueueConsumer):
    """nameko's queue consumer, one per department, connected as the department's user."""

    def __init__(self, department):
        self.department = department
        super().__init__()

    @property
    def sharing_key(self):
        return type(self), self.department

    @property
    def amqp_uri(self):
        return department_amqp_uri(self.container.config, self.department)

    def on_decode_error(self, message, exc):
        """A body that is not what its content type says: dead-letter it, never leave it
        unacknowledged (kombu only logs it, and it would hold a prefetch slot forever)."""
        log.warning(
            "undecodable task message on %s dead-lettered: %s",
            message.delivery_info.get("routing_key"),
            exc,
        )
        DEAD_LETTERED.labels(department_queue_name(self.department), "invalid").inc()
        message.reject(requeue=False)


class ApprovalTask(Consumer):
    def __init__(self, department, **kwargs):
        self.department = department
        self.queue_consumer = DepartmentQueueConsumer(department)
        # declared by the platform; the department's user has no right to declare
        super().__init__(Queue(department_queue_name(department), no_declare=True), **kwargs)
        self._publisher = self._user_id = None

    def setup(self):
        super().setup()
        uri = department_amqp_uri(self.container.config, self.department)
        self._user_id = Connection(uri).userid
        self._publisher = Publisher(
            uri, use_confirms=True, serializer="json", mandatory=True, delivery_mode=2, declare=[]
        )

    def handle_message(self, body, message):
        if isinstance(body, (bytes, str)):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        try:
            envelope = open_envelope(
                body, {contract.TASK, contract.CANCELLATION}, contract.PAYLOAD_SCHEMAS
            )
        except Exception as exc:
            self._dead_letter(message, self.queue.name, exc, "invalid")
            return
        if envelope["type"] == contract.CANCELLATION:
            log.info(
                "task %s cancelled: %s",
                envelope["payload"]["task_id"],
                envelope["payload"]["reason"],
            )
            self._settle_message(message, requeue=False)
            return
        super().handle_message(envelope["payload"], message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None and result is not None:  # None: decided elsewhere (officer)
            task = worker_ctx.args[0]
            try:
                envelope = result_envelope(task, result)
            except ValueError as exc:  # the handler's answer is not a result: a handler error
                exc_info = (type(exc), exc, exc.__traceback__)
            else:
                try:
                    self._publish(task, envelope)
                except Exception:  # not confirmed: keep the task, try again after a pause
                    log.warning(
                        "result for task %s not confirmed; requeueing the task",
                        task["task_id"],
                        exc_info=True,
                    )
                    RESULT_PUBLISH_FAILURES.labels(self.department).inc()
                    eventlet.sleep(RETRY_PAUSE_SECONDS)
                    self._settle_message(message, requeue=True)
                    return result, exc_info
        self.handle_message_processed(message, result, exc_info)
        return result, exc_info

    def _publish(self, task, envelope):
        self._publisher.publish(
            envelope,
            exchange=results_exchange,
            routing_key=result_routing_key(task["department"]),
            message_id=envelope["message_id"],
            correlation_id=envelope["correlation_id"],
            user_id=self._user_id,
        )

    def handle_message_processed(self, message, result=None, exc_info=None):
        """Ack; dead-letter an invalid message; requeue after a pause when something was
        away; requeue a failure once, dead-letter it when it fails again."""
        queue_name = self.queue.name
        if exc_info is None:
            self._settle_message(message, requeue=False)
            return
        exc = exc_info[1]
        if isinstance(exc, InvalidMessage):
            self._dead_letter(message, queue_name, exc, "invalid")
        elif isinstance(exc, TRANSIENT_ERRORS):
            REDELIVERIES.labels(queue_name, "transient").inc()
            eventlet.sleep(RETRY_PAUSE_SECONDS)
            self._settle_message(message, requeue=True)
        elif message.delivery_info.get("redelivered"):
            self._dead_letter(message, queue_name, f"{type(exc).__name__}: {exc}", "error")
        else:
            REDELIVERIES.labels(queue_name, "error").inc()
            self._settle_message(message, requeue=True)

    def _settle_message(self, message, requeue):
        """Ack or requeue; when the connection just broke, leave it: the broker redelivers
        every unacknowledged task (handlers are idempotent)."""
        try:
            if requeue:
                self.queue_consumer.requeue_message(message)
            else:
                self.queue_consumer.ack_message(message)
        except (OSError, AmqpConnectionError) as exc:
            log.warning(
                "could not %s a task from %s (%s: %s); the broker will redeliver it",
                "requeue" if requeue else "ack",
                self.queue.name,
                type(exc).__name__,
                exc,
            )

    def _dead_letter(self, message, queue_name, reason, cause):
        """Reject without requeue: the queue's dead-letter exchange keeps the message
        (the department's user may not publish there itself)."""
        log.warning("task message from %s dead-lettered: %s", queue_name, reason)
        DEAD_LETTERED.labels(queue_name, cause).inc()
        message.reject(requeue=False)


approval_task = ApprovalTask.decorator
