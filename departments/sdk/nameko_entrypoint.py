"""`@approval_task(department)`: a nameko entrypoint for a department's approval tasks.

    class HealthDepartment:
        name = "health-department"

        @approval_task("health")
        def decide(self, task):
            return {"decision": "approved", "data": {"reference_number": "..."}}

The task is acknowledged only after the result was published with publisher
confirms; a failing handler is retried once and then dead-lettered (the
platform's failure policy, onestop.common.messaging). Cancellations of tasks
arrive on the same queue and are acknowledged without calling the handler.
"""
import json
import logging

from nameko.amqp.publish import Publisher

from onestop.common.messaging import ReliableConsumer
from onestop.contracts import messages as contract
from onestop.contracts.envelope import open_envelope
from onestop.contracts.topology import department_queue, results_exchange, result_routing_key
from departments.sdk.pika_worker import result_envelope

log = logging.getLogger(__name__)


class ApprovalTask(ReliableConsumer):
    def __init__(self, department, **kwargs):
        self.department = department
        super().__init__(department_queue(department), **kwargs)

    def handle_message(self, body, message):
        if isinstance(body, (bytes, str)):
            try:
                body = json.loads(body)
            except ValueError:
                body = None
        try:
            envelope = open_envelope(body, {contract.TASK, contract.CANCELLATION},
                                     contract.PAYLOAD_SCHEMAS)
        except Exception as exc:
            self._dead_letter(message, self.queue.name, exc, "invalid")
            return
        if envelope["type"] == contract.CANCELLATION:
            log.info("task %s cancelled: %s", envelope["payload"]["task_id"],
                     envelope["payload"]["reason"])
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(envelope["payload"], message)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None and result is not None:  # None: decided elsewhere (officer)
            try:
                self._publish_result(worker_ctx.args[0], result)
            except Exception as exc:  # not confirmed: do not ack, let the policy decide
                exc_info = (type(exc), exc, exc.__traceback__)
        self.handle_message_processed(message, result, exc_info)
        return result, exc_info

    def _publish_result(self, task, answer):
        envelope = result_envelope(task, answer)
        if getattr(self, "_publisher", None) is None:
            self._publisher = Publisher(self.container.config["AMQP_URI"], use_confirms=True,
                                        serializer="json", mandatory=True, delivery_mode=2,
                                        declare=[results_exchange])
        self._publisher.publish(envelope, exchange=results_exchange,
                                routing_key=result_routing_key(task["department"]),
                                message_id=envelope["message_id"],
                                correlation_id=envelope["correlation_id"])


approval_task = ApprovalTask.decorator
