"""The officer API: departments without an integration decide their tasks by hand.

    GET  /api/officer/tasks                      the open tasks of the officer's office
    POST /api/officer/tasks/{task_id}/decision   decide one of them
    POST /api/officer/tasks/{task_id}/payment    confirm the fee of one awaiting payment

Officers authenticate with a bearer token of role `officer` whose `office` claim is their
office (`<department>.<region>`, onestop.common.auth). A task of another office is a 404:
whether it exists is not the officer's business (routing/views.py). A decision is applied
to the workflow here, synchronously, by routing's own WorkflowUpdater: the same domain step
as the department's `approval_result` (or `payment_confirmed`), the same compare-and-set
write with its messages in the outbox, and the history names the officer (`by`). Routing
holds no department's broker credentials: the token and the office check say who decides,
where a consumed result is judged by its broker user (routing/boundary.py;
docs/adr/0029-officer-decisions-applied-directly.md).

Each decision has a message id, remembered on the task, so it is applied once. A request
with an `Idempotency-Key` header gets the id derived from the officer, the task, the key and
the body: sent again, it changes nothing and gets the same answer; the same key with another
body is another decision (a 409 once the task is decided).
"""

import json
import logging
import uuid

from onestop.common.auth import Authenticator
from onestop.common.errors import Conflicting, Invalid
from onestop.common.http import http, load, read_json
from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage, schema_instance
from services.routing import views
from services.routing.schemas import OfficerDecisionSchema, OfficerPaymentSchema

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 128


def decision_id(officer, task_id, request, body):
    """The decision's message id: derived from the officer, the task, the request's
    Idempotency-Key and what it decides, when it has a key (a retry names the same
    decision; the same key with another body is another decision, refused with a 409 once
    the task is decided), else new."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return uuid.uuid4().hex
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Invalid(
            "the Idempotency-Key is too long",
            fields={"Idempotency-Key": [f"at most {MAX_IDEMPOTENCY_KEY} characters"]},
        )
    decided = json.dumps(body, sort_keys=True, default=str)
    return uuid.uuid5(uuid.NAMESPACE_URL, f"officer:{officer.sub}:{task_id}:{key}:{decided}").hex


class OfficerApi:
    """Mixed into RoutingService (its store and workflows are routing's)."""

    auth = Authenticator()

    @http("GET", "/api/officer/tasks")
    def officer_tasks(self, request):
        officer = self.auth.require(request, "officer")
        return views.officer_tasks(self.store.with_open_tasks_at(officer.office), officer.office)

    def _officer_decides(self, request, task_id, schema, find, kind, check, by):
        """Apply what an officer sends about one task of their office: `find` (views) says
        whether the task may be acted on now (a 404 or 409 otherwise), `check` validates the
        body against the task (a 400); the result is the department's message of `kind`
        (validated as the department's would be) with the officer named under `by`.
        Returns (officer, body, message id) once the decision is written."""
        officer = self.auth.require(request, "officer")
        body = load(schema, read_json(request))
        application_id = task_id.rpartition(":")[0]
        workflow = self.store.get(application_id) if application_id else None
        task = views.task_at_office(workflow, task_id, officer.office)
        message_id = decision_id(officer, task_id, request, body)
        if views.already_applied(task, message_id):  # the same request again
            return officer, body, message_id
        task = find(workflow, task_id, officer.office)
        check(task, body)
        result = load(
            contract.PAYLOAD_SCHEMAS[kind](),
            {
                "task_id": task_id,
                "application_id": application_id,
                "department": task["department"],
                **body,
            },
        )
        result[by] = officer.sub
        try:
            outcome = self.workflows.decide_as_officer(kind, result, message_id)
        except InvalidMessage as exc:  # the domain refused it: it does not fit the task
            raise Conflicting(str(exc)) from None
        if outcome is None or outcome.kind != "applied":
            # decided meanwhile (another officer, or the task was cancelled): say what it is
            workflow = self.store.get(application_id)
            task = views.task_at_office(workflow, task_id, officer.office)
            if not views.already_applied(task, message_id) or task["state"] == "cancelled":
                find(workflow, task_id, officer.office)
                raise Conflicting(outcome.detail if outcome else f"task {task_id} changed")
        return officer, body, message_id

    @http("POST", "/api/officer/tasks/<string:task_id>/decision")
    def officer_decision(self, request, task_id):
        officer, decision, message_id = self._officer_decides(
            request,
            task_id,
            schema_instance(OfficerDecisionSchema),
            views.task_to_decide,
            contract.RESULT,
            views.check_requested_materials,
            "decided_by",
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
            "message_id": message_id,
        }

    @http("POST", "/api/officer/tasks/<string:task_id>/payment")
    def officer_payment(self, request, task_id):
        """The office's cashier confirms a task's fee was paid: applied as the department's
        `payment_confirmed` would be."""
        officer, _, message_id = self._officer_decides(
            request,
            task_id,
            schema_instance(OfficerPaymentSchema),
            views.task_awaiting_payment,
            contract.PAYMENT,
            views.check_payment,
            "confirmed_by",
        )
        log.info("officer %s confirmed the payment of task %s", officer.sub, task_id)
        return 202, {"task_id": task_id, "status": "submitted", "message_id": message_id}
