"""A plain pika department worker: proof that the department boundary needs no nameko.

Imports nothing of the platform but the message contract (`onestop.contracts`).
A task is acknowledged only after its result has been confirmed by the broker
(publisher confirms, mandatory); a broken connection is re-established and the
unacknowledged task is redelivered, so no task is lost. Handlers must be
idempotent: a redelivered task is answered again and routing ignores the
duplicate.

Connect as your department's broker user (docs/department-guide.md): results
carry it as the AMQP `user_id` property, which is how routing knows they are
yours. The user may not declare anything; the platform declares the queues.
"""

import json
import logging
import time

import pika
from marshmallow import ValidationError

from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage, make_envelope, open_envelope
from onestop.contracts.topology import RESULTS_EXCHANGE, department_queue_name, result_routing_key

log = logging.getLogger(__name__)


def result_envelope(task, answer):
    """The approval_result envelope for a handler's answer to a task (validated)."""
    payload = {
        "task_id": task["task_id"],
        "application_id": task["application_id"],
        "department": task["department"],
        "decision": answer["decision"],
        "reason": answer.get("reason", ""),
        "materials": answer.get("materials", []),
        "data": answer.get("data", {}),
        "decided_by": answer.get("decided_by", ""),
        "payment": answer.get("payment"),
    }
    try:
        payload = contract.ApprovalResultSchema().load(payload)
    except ValidationError as exc:
        raise ValueError(f"handler answer is not a valid result: {exc.messages}") from None
    return make_envelope(contract.RESULT, task["application_id"], payload)


def check_queues(channel, departments):
    """Fail with a clear message unless the platform has declared the department queues
    (a passive declare needs no permission)."""
    for department in departments:
        channel.queue_declare(department_queue_name(department), passive=True)


class Worker:
    def __init__(
        self, amqp_url, departments, handler, on_cancel=None, prefetch=10, on_outcome=None
    ):
        self.amqp_url = amqp_url
        self.departments = list(departments)
        self.handler = handler
        self.on_cancel = on_cancel or (lambda cancellation: None)
        self.on_outcome = on_outcome or (lambda kind, department: None)
        self.prefetch = prefetch
        self.stopping = False
        # the AMQP user_id of every result: RabbitMQ checks it is the connection's user
        self.user_id = pika.URLParameters(amqp_url).credentials.username

    def run(self):
        """Consume until stop(); reconnect with backoff after broker failures."""
        delay = 1
        while not self.stopping:
            try:
                self._consume()
                delay = 1
            except pika.exceptions.AMQPError as exc:  # connection lost, refused, queue missing
                log.warning("broker connection lost (%r); reconnecting in %ss", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 30)

    def stop(self):
        self.stopping = True

    def _consume(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_qos(prefetch_count=self.prefetch)
        check_queues(channel, self.departments)
        for department in self.departments:
            channel.basic_consume(
                department_queue_name(department),
                lambda ch, method, props, body: self._on_message(ch, method, props, body),
            )
        log.info("consuming tasks for %s", ", ".join(self.departments))
        try:
            while not self.stopping:
                connection.process_data_events(time_limit=1)
        finally:
            if connection.is_open:
                connection.close()

    def _on_message(self, channel, method, properties, body):
        try:
            envelope = open_envelope(
                json.loads(body), {contract.TASK, contract.CANCELLATION}, contract.PAYLOAD_SCHEMAS
            )
        except (InvalidMessage, ValueError) as exc:
            log.warning("unprocessable task message dead-lettered: %s", exc)
            self.on_outcome("invalid", "unknown")
            channel.basic_reject(method.delivery_tag, requeue=False)  # to the dead-letter queue
            return
        payload = envelope["payload"]
        if envelope["type"] == contract.CANCELLATION:
            self.on_cancel(payload)
            self.on_outcome("cancelled", payload["department"])
            channel.basic_ack(method.delivery_tag)
            return
        try:
            decided = self.handler(payload)
            if decided is None:  # decided elsewhere (by an officer): nothing to publish now
                channel.basic_ack(method.delivery_tag)
                self.on_outcome("deferred", payload["department"])
                return
            answer = result_envelope(payload, decided)
        except Exception:
            log.exception("handler failed for task %s", payload["task_id"])
            self.on_outcome("error", payload["department"])
            # requeue once; a second failure goes to the dead-letter queue
            channel.basic_reject(method.delivery_tag, requeue=not method.redelivered)
            return
        try:
            channel.basic_publish(
                RESULTS_EXCHANGE,
                result_routing_key(payload["department"]),
                json.dumps(answer).encode(),
                mandatory=True,
                properties=pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=2,
                    message_id=answer["message_id"],
                    correlation_id=answer["correlation_id"],
                    user_id=self.user_id,
                ),
            )
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            log.warning(
                "result for task %s not confirmed (%r); the task is requeued",
                payload["task_id"],
                exc,
            )
            self.on_outcome("publish_failed", payload["department"])
            time.sleep(1)  # the broker refused it: do not spin
            channel.basic_reject(method.delivery_tag, requeue=True)
            return
        channel.basic_ack(method.delivery_tag)  # only after the broker confirmed the result
        self.on_outcome(answer["payload"]["decision"], payload["department"])


def run_worker(amqp_url, departments, handler, **kwargs):
    worker = Worker(amqp_url, departments, handler, **kwargs)
    worker.run()
    return worker
