"""The officer API: departments without an integration decide their tasks by hand.

    GET  /api/officer/tasks                      the open tasks of the officer's office
    POST /api/officer/tasks/{task_id}/decision   decide one of them
    POST /api/officer/tasks/{task_id}/payment    confirm the fee of one awaiting payment

Officers authenticate with a bearer token of role `officer` whose `office` claim is their
office (`<department>.<region>`, onestop.common.auth). A decision is published as an
`approval_result` to `approval.results` as the office's **department broker user**, the
same path and the same check (routing/boundary.py) as a department's integration, so
routing applies it exactly like a consumer's answer. A task of another office is a 404:
whether it exists is not the officer's business (routing/views.py).
"""

import logging

from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider

from onestop.common import broker_users
from onestop.common.auth import Authenticator
from onestop.common.http import Unavailable, http, load, read_json
from onestop.contracts import messages as contract
from onestop.contracts.envelope import make_envelope
from onestop.contracts.topology import result_routing_key, results_exchange
from services.routing import views
from services.routing.schemas import OfficerDecisionSchema, OfficerPaymentSchema

log = logging.getLogger(__name__)


class DepartmentResults(DependencyProvider):
    """Publishes results as a department's broker user (publisher confirms, mandatory)."""

    def setup(self):
        self.base_uri = self.container.config["AMQP_URI"]
        self.publishers = {}

    def publisher(self, department):
        if department not in self.publishers:
            uri = broker_users.department_uris([department], self.base_uri).get(department)
            if uri is None:
                raise Unavailable(f"no broker credentials for department {department}")
            self.publishers[department] = (
                Publisher(
                    uri,
                    use_confirms=True,
                    mandatory=True,
                    delivery_mode=2,
                    serializer="json",
                    declare=[],
                ),
                broker_users.user_of_uri(uri),
            )
        return self.publishers[department]

    def publish(self, department, envelope):
        """Publish, confirmed; Unavailable (503) if not: nothing was decided, the officer
        retries."""
        try:
            publisher, user = self.publisher(department)
            publisher.publish(
                envelope,
                exchange=results_exchange,
                routing_key=result_routing_key(department),
                message_id=envelope["message_id"],
                correlation_id=envelope["correlation_id"],
                user_id=user,
            )
        except Exception as exc:
            log.warning(
                "officer decision on %s not published: %r", envelope["payload"]["task_id"], exc
            )
            raise Unavailable("the decision could not be delivered; try again") from None

    def get_dependency(self, worker_ctx):
        return self


class OfficerApi:
    """Mixed into RoutingService (its store is routing's)."""

    auth = Authenticator()
    department_results = DepartmentResults()

    @http("GET", "/api/officer/tasks")
    def officer_tasks(self, request):
        officer = self.auth.require(request, "officer")
        return views.officer_tasks(self.store.with_open_tasks_at(officer.office), officer.office)

    def _officer_task(self, request, task_id, schema, find):
        """(officer, validated body, application id, task) for a request about one task of
        the officer's office; `find` is the views function that says whether this task may
        be acted on (a 404 or 409 otherwise)."""
        officer = self.auth.require(request, "officer")
        body = load(schema, read_json(request))
        application_id = task_id.rpartition(":")[0]
        workflow = self.store.get(application_id) if application_id else None
        return officer, body, application_id, find(workflow, task_id, officer.office)

    def _publish_as_department(self, kind, application_id, task_id, task, fields):
        """Publish a message of `kind` about the task as its department's broker user,
        exactly as the department's own integration would; the envelope published."""
        envelope = make_envelope(
            kind,
            application_id,
            {
                "task_id": task_id,
                "application_id": application_id,
                "department": task["department"],
                **fields,
            },
        )
        self.department_results.publish(task["department"], envelope)
        return envelope

    @http("POST", "/api/officer/tasks/<string:task_id>/decision")
    def officer_decision(self, request, task_id):
        officer, decision, application_id, task = self._officer_task(
            request, task_id, OfficerDecisionSchema(), views.task_to_decide
        )
        views.check_requested_materials(task, decision)
        envelope = self._publish_as_department(
            contract.RESULT, application_id, task_id, task, {**decision, "decided_by": officer.sub}
        )
        log.info(
            "officer %s of %s decided task %s: %s",
            officer.sub,
            officer.office,
            task_id,
            decision["decision"],
        )
        return 202, {
            "task_id": task_id,
            "decision": decision["decision"],
            "status": "submitted",
            "message_id": envelope["message_id"],
        }

    @http("POST", "/api/officer/tasks/<string:task_id>/payment")
    def officer_payment(self, request, task_id):
        """The office's cashier confirms a task's fee was paid: published as a
        `payment_confirmed` of the department, like a payment service's."""
        officer, payment, application_id, task = self._officer_task(
            request, task_id, OfficerPaymentSchema(), views.task_awaiting_payment
        )
        views.check_payment(task, payment)
        envelope = self._publish_as_department(
            contract.PAYMENT, application_id, task_id, task, payment
        )
        log.info("officer %s confirmed the payment of task %s", officer.sub, task_id)
        return 202, {
            "task_id": task_id,
            "status": "submitted",
            "message_id": envelope["message_id"],
        }
