"""The officer API: departments without an integration decide their tasks by hand.

    GET  /api/officer/tasks                      the open tasks of the officer's office
    POST /api/officer/tasks/{task_id}/decision   decide one of them

Officers authenticate with a bearer token of role `officer` whose `office` claim is their
office (`<department>.<region>`, onestop.common.auth). A decision is published as an
`approval_result` to `approval.results` as the office's **department broker user**, the
same path and the same check (routing/boundary.py) as a department's integration, so
routing applies it exactly like a consumer's answer. A task of another office is a 404:
whether it exists is not the officer's business.
"""
import logging

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider

from onestop.common import broker_users
from onestop.common.auth import Authenticator
from onestop.common.http import Conflict, NotFound, Unavailable, http, load, read_json
from onestop.contracts import messages as contract
from onestop.contracts.envelope import make_envelope
from onestop.contracts.topology import result_routing_key, results_exchange

log = logging.getLogger(__name__)


class OfficerDecisionSchema(Schema):
    """What an officer sends: the decision, and what it needs (a reason, the materials)."""

    class Meta:
        unknown = RAISE

    decision = fields.String(required=True, validate=validate.OneOf(contract.DECISIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    materials = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                            load_default=list, validate=validate.Length(max=100))
    data = fields.Dict(load_default=dict)

    @validates_schema
    def check_decision_needs(self, data, **kwargs):
        if data["decision"] in ("rejected", "correction_required") and not data["reason"].strip():
            raise ValidationError(f"a {data['decision']} decision needs a reason", "reason")
        if data["decision"] == "correction_required" and not data["materials"]:
            raise ValidationError("list every material to supplement (one-time notification)",
                                  "materials")


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
            self.publishers[department] = (Publisher(
                uri, use_confirms=True, mandatory=True, delivery_mode=2, serializer="json",
                declare=[]), broker_users.user_of_uri(uri))
        return self.publishers[department]

    def publish(self, department, envelope):
        publisher, user = self.publisher(department)
        publisher.publish(envelope, exchange=results_exchange,
                          routing_key=result_routing_key(department),
                          message_id=envelope["message_id"],
                          correlation_id=envelope["correlation_id"], user_id=user)

    def get_dependency(self, worker_ctx):
        return self


def officer_task_view(workflow, task):
    """What an officer sees of one task: the task as a department receives it, and its state."""
    tasks = workflow["tasks"]
    return {
        "task_id": task["task_id"], "application_id": workflow["_id"],
        "scenario": workflow["scenario"], "item_code": task["item_code"],
        "item_name": task["item_name"], "department": task["department"],
        "office": task["office"], "region": task["region"], "level": task["level"],
        "state": task["state"], "sent_at": task["sent_at"], "due": task["due"],
        "attempt": task.get("attempt", 1), "applicant": workflow["applicant"],
        "channel": workflow["channel"], "form": workflow["form"],
        "materials": workflow["materials"],
        "inputs": {code: tasks[code]["data"] for code in task["depends_on"] if code in tasks},
    }


class OfficerApi:
    """Mixed into RoutingService (its store is routing's)."""

    auth = Authenticator()
    department_results = DepartmentResults()

    @http("GET", "/api/officer/tasks")
    def officer_tasks(self, request):
        officer = self.auth.require(request, "officer")
        tasks = [officer_task_view(workflow, task)
                 for workflow in self.store.with_open_tasks_at(officer.office)
                 for task in workflow["tasks"].values()
                 if task["office"] == officer.office and task["state"] == "sent"]
        tasks.sort(key=lambda t: (t["due"] or "", t["task_id"]))
        return {"office": officer.office, "total": len(tasks), "tasks": tasks}

    @http("POST", "/api/officer/tasks/<string:task_id>/decision")
    def officer_decision(self, request, task_id):
        officer = self.auth.require(request, "officer")
        decision = load(OfficerDecisionSchema(), read_json(request))
        application_id = task_id.rpartition(":")[0]
        workflow = self.store.get(application_id) if application_id else None
        task = next((t for t in (workflow or {}).get("tasks", {}).values()
                     if t["task_id"] == task_id), None)
        if task is None or task["office"] != officer.office:
            raise NotFound(f"no task {task_id} at office {officer.office}")
        if task["state"] != "sent":
            raise Conflict(f"task {task_id} is {task['state']}, not awaiting a decision")
        envelope = make_envelope(contract.RESULT, application_id, {
            "task_id": task_id, "application_id": application_id,
            "department": task["department"], **decision, "decided_by": officer.sub})
        try:
            self.department_results.publish(task["department"], envelope)
        except Exception as exc:  # not confirmed: nothing was decided, the officer retries
            log.warning("officer decision on %s not published: %r", task_id, exc)
            raise Unavailable("the decision could not be delivered; try again") from None
        log.info("officer %s of %s decided task %s: %s", officer.sub, officer.office, task_id,
                 decision["decision"])
        return 202, {"task_id": task_id, "decision": decision["decision"],
                     "status": "submitted", "message_id": envelope["message_id"]}
