"""routing: plans tasks, sends them to departments, gathers results into one decision."""
import logging
import uuid

from nameko.events import EventDispatcher
from nameko.messaging import Publisher
from nameko.timer import timer
from prometheus_client import Counter, Histogram
from datetime import datetime

from onestop.common.working_days import WorkingCalendar
from onestop.common.catalog_client import CatalogProxy
from onestop.common import outbox
from onestop.common.auth import may_read_application
from onestop.common.clock import Clock
from onestop.common.http import http, NotFound
from onestop.common.messaging import consume_with_sender, event_handler
from onestop.common.service import ServiceBase
from onestop.common.mongo import Storage
from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage, open_envelope
from onestop.common.config import env
from onestop.contracts.events import (load_event, APPLICATION_CORRECTED, APPLICATION_SUBMITTED,
                                      APPLICATION_WITHDRAWN, ApplicationCorrectedSchema,
                                      ApplicationSubmittedSchema, ApplicationWithdrawnSchema)
from onestop.contracts.topology import results_queue, tasks_exchange
from services.routing import domain
from services.routing.batching import ApplicationQueues, latest_snapshot_only
from services.routing.boundary import authenticate_result
from services.routing.officer import OfficerApi
from services.routing.gauges import WorkloadGauges
from services.routing.store import RoutingStore

log = logging.getLogger(__name__)

TASKS_SENT = Counter("routing_tasks_sent_total", "Tasks sent to departments", ["department"])
TASKS_DECIDED = Counter("routing_tasks_decided_total", "Task results applied",
                        ["department", "decision"])
RESULTS_IGNORED = Counter("routing_results_ignored_total",
                          "Inputs (results, corrections, withdrawals) that changed no decision: "
                          "duplicate, unknown, late, refused",
                          ["kind"])
DECISIONS = Counter("routing_decisions_total", "Combined decisions", ["scenario", "outcome"])
DECISION_SECONDS = Histogram("routing_submit_to_decision_seconds",
                             "Time from submission to the combined decision", ["scenario"],
                             buckets=(.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400))
SUPERVISION_EVENTS = Counter("routing_supervision_events_total",
                             "Tasks flagged by supervision (overdue: promised date passed; "
                             "escalated: legal limit passed)", ["department", "event"])
TASK_DECISION_SECONDS = Histogram(
    "routing_task_decision_seconds",
    "Time from a task's sending to its decision, correction pauses excluded",
    ["department", "decision"],
    buckets=(.01, .05, .1, .5, 1, 5, 30, 60, 300, 3600, 8 * 3600, 86400, 5 * 86400, 20 * 86400))
CORRECTIONS_REQUESTED = Counter("routing_corrections_requested_total",
                                "Correction requests applied (a task waits for the applicant)",
                                ["department"])
WITHDRAWALS = Counter("routing_withdrawals_total", "Applications withdrawn before a decision",
                      ["scenario"])
WRITE_CONFLICTS = Counter("routing_write_conflicts_total",
                          "Optimistic write conflicts retried (concurrent routing workers)")
MAX_ATTEMPTS = 20
RESULT_LINGER_SECONDS = float(env("ROUTING_RESULT_LINGER_SECONDS", 0.01))


class RoutingService(OfficerApi, ServiceBase):
    name = "routing"

    store = Storage(RoutingStore, "routing")
    catalog = CatalogProxy()
    dispatch = EventDispatcher(mandatory=True)
    publish_task = Publisher(exchange=tasks_exchange, mandatory=True)
    now = Clock()
    workload_gauges = WorkloadGauges()  # open/overdue work from the store, per scrape

    _calendars = {}
    _result_queues = ApplicationQueues()  # shared by the process's workers
    settlements = outbox.Settlements()  # sent outbox entries, removed by the next write

    # -- inputs -------------------------------------------------------------
    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        # the plan of a pinned catalog version is kept (onestop/common/catalog_client.py), so a
        # redelivered submission costs no round trip before the insert refuses it
        plan = self.catalog.plan(submitted["scenario"], submitted["region"],
                                 submitted["optional_items"], submitted["catalog_version"])
        if "error" in plan:
            raise InvalidMessage(f"cannot plan application {submitted['application_id']}: "
                                 f"{plan['error']}")
        now = self.now()
        workflow, messages = domain.new_workflow(submitted, plan,
                                                 now, self._calendar(plan["catalog_version"]))
        entries = self._entries(messages)
        if not self.store.insert(workflow, entries, now):
            RESULTS_IGNORED.labels("duplicate_submission").inc()
            return
        self._flush(workflow["_id"], 1, entries, messages, alone=True)

    @consume_with_sender(results_queue)
    def handle_approval_result(self, body, sender):
        envelope = open_envelope(body, {contract.RESULT}, contract.PAYLOAD_SCHEMAS)
        # with the other results of the application that arrive meanwhile (routing/batching.py)
        self._result_queues.submit(envelope["payload"]["application_id"], (envelope, sender),
                                   self._apply_results)

    @event_handler("intake", APPLICATION_CORRECTED)
    def handle_application_corrected(self, payload):
        correction = load_event(ApplicationCorrectedSchema, payload, APPLICATION_CORRECTED)
        self._update(correction["application_id"],
                     lambda wf, now: domain.apply_correction(
                         wf, correction, now, self._calendar(wf["catalog_version"])))

    @event_handler("intake", APPLICATION_WITHDRAWN)
    def handle_application_withdrawn(self, payload):
        withdrawal = load_event(ApplicationWithdrawnSchema, payload, APPLICATION_WITHDRAWN)
        self._update(withdrawal["application_id"],
                     lambda wf, now: domain.withdraw(wf, now, withdrawal["reason"]))

    @timer(interval=float(env("SUPERVISION_INTERVAL_SECONDS", 5)))
    def supervise(self):
        """Flag tasks past their promised date (task_overdue) and legal limit (task_escalated)."""
        for workflow in self.store.due_for_supervision(self.now()):
            self._update(workflow["_id"], domain.supervise)

    @timer(interval=2)
    def sweep(self):
        """Re-send what a crash left in the outbox; finish applications whose join was missed."""
        now = self.now()
        outbox.sweep(self.store.workflows, self._publishers(), now)
        for workflow in self.store.stale_in_review(now):
            if domain.combined_outcome(workflow["tasks"]) is not None:
                log.warning("reconciling application %s", workflow["_id"])
                self._update(workflow["_id"], lambda wf, at: domain.reconcile(wf, at))

    # -- HTTP -----------------------------------------------------------------
    @http("GET", "/api/supervision/overdue")
    def overdue(self, request):
        """Overdue tasks, grouped by department and region, oldest promise first; a
        supervisor whose token names a region sees that region and the ones below it."""
        supervisor = self.auth.require(request, "supervisor", "operator")
        department = request.args.get("department")
        within = region_prefix(supervisor.region)
        tasks = []
        for workflow in self.store.with_overdue_tasks():
            for task in workflow["tasks"].values():
                if task["overdue"] and task["state"] == "sent" and (
                        not department or task["department"] == department) and (
                        task["region"].startswith(within)):
                    tasks.append({"application_id": workflow["_id"], "task_id": task["task_id"],
                                  "scenario": workflow["scenario"],
                                  "item_code": task["item_code"], "item_name": task["item_name"],
                                  "department": task["department"], "office": task["office"],
                                  "region": task["region"], "sent_at": task["sent_at"],
                                  "due": task["due"], "legal_due": task["legal_due"],
                                  "escalated": task["escalated"]})
        tasks.sort(key=lambda t: t["due"])
        groups = {}
        for task in tasks:
            groups.setdefault((task["department"], task["region"]), []).append(task)
        return {"total": len(tasks), "groups": [
            {"department": d, "region": r, "count": len(ts), "tasks": ts}
            for (d, r), ts in sorted(groups.items())]}

    @http("GET", "/api/applications/<string:application_id>/history")
    def history(self, request, application_id):
        principal = self.auth.require(request)
        workflow = self.store.get(application_id)
        offices = {t["office"] for t in (workflow or {}).get("tasks", {}).values()}
        submitted_by = (workflow or {}).get("submitted_by")
        if workflow is None or not may_read_application(
                principal, workflow["applicant"]["id_number"], submitted_by, offices):
            raise NotFound(f"no workflow for application {application_id}")
        return {"application_id": application_id, "status": workflow["status"],
                "history": workflow["history"]}

    # -- machinery ------------------------------------------------------------
    def _apply_results(self, application_id, items):
        """Apply (envelope, sender) results of one application in order, in one write;
        returns {index: InvalidMessage} for those refused (they are dead-lettered alone)."""
        max_rounds = int(env("MAX_CORRECTION_ROUNDS", domain.MAX_CORRECTION_ROUNDS))
        for attempt in range(MAX_ATTEMPTS):
            # first from what this process wrote last; after a conflict, from the store
            remembered = self.store.remembered(application_id) if attempt == 0 else None
            workflow = remembered or self.store.get(application_id)
            if workflow is None:
                return self._refuse_or_ignore_unknown(items)
            joined = []
            if attempt == 0:  # the results still expected may join this write (batching.py)
                joined = self._result_queues.take_more(
                    application_id, awaited_results(workflow, items), RESULT_LINGER_SECONDS)
                items.extend(joined)
            now = self.now()
            calendar = self._calendar(workflow["catalog_version"])
            current, messages, refused = workflow, [], {}
            for index, (envelope, sender) in enumerate(items):
                result = envelope["payload"]
                try:
                    # only the task's department, by its validated broker user (boundary.py)
                    authenticate_result(sender, result, current)
                except InvalidMessage as exc:
                    refused[index] = exc
                    continue
                outcome = domain.apply_result(current, result, now, calendar,
                                              message_id=envelope["message_id"],
                                              max_corrections=max_rounds)
                if outcome.kind == "refused":
                    RESULTS_IGNORED.labels("refused").inc()
                    refused[index] = InvalidMessage(outcome.detail)
                    continue
                if outcome.kind != "applied":
                    RESULTS_IGNORED.labels(outcome.kind).inc()
                if outcome.workflow is not None:
                    current = outcome.workflow
                    messages.extend(outcome.messages)
            if current is workflow:
                if remembered is not None or joined:
                    # nothing to write, judged on a workflow older than a result (what this
                    # process wrote, or read before results joined): another routing process
                    # may have sent the task since, and no write would tell; judge again on
                    # the stored workflow, read after every result of the batch arrived
                    continue
                return refused
            if self._commit(workflow, current, latest_snapshot_only(messages), now):
                return refused
        raise RuntimeError(f"could not update {application_id} after {MAX_ATTEMPTS} attempts")

    @staticmethod
    def _refuse_or_ignore_unknown(items):
        """Results for an application routing does not know: refused if their sender may not
        give them, else ignored (and counted)."""
        refused = {}
        for index, (envelope, sender) in enumerate(items):
            try:
                authenticate_result(sender, envelope["payload"], None)
            except InvalidMessage as exc:
                refused[index] = exc
                continue
            RESULTS_IGNORED.labels("unknown").inc()
        return refused

    def _update(self, application_id, step, workflow=None):
        """Read, apply a pure step, write with the revision check; retry on conflict.
        `workflow`: the document as just read by the caller, used for the first attempt."""
        for _ in range(MAX_ATTEMPTS):
            if workflow is None:
                workflow = self.store.get(application_id)
            if workflow is None:
                RESULTS_IGNORED.labels("unknown").inc()
                return
            now = self.now()
            outcome = step(workflow, now)
            if outcome.kind == "refused":
                RESULTS_IGNORED.labels("refused").inc()
                raise InvalidMessage(outcome.detail)
            if outcome.kind != "applied":
                RESULTS_IGNORED.labels(outcome.kind).inc()
                if outcome.workflow is None:
                    return
            if self._commit(workflow, outcome.workflow, outcome.messages, now):
                return
            workflow = None
        raise RuntimeError(f"could not update {application_id} after {MAX_ATTEMPTS} attempts")

    def _commit(self, before, after, messages, now):
        """Write `after` (read as `before`) with its messages in the outbox, by compare-and-
        set; then publish and count. False on a conflict (the caller reads again)."""
        entries = self._entries(messages)
        # what this process published at the revision read is removed by this same write
        sent = self.settlements.take(before["_id"], before["rev"])
        saved = False
        try:
            saved = self.store.save(after, entries, now, remove=sent)
        finally:
            if sent and not saved:  # not removed (a conflict, or the store away): cleared
                # shortly, whoever wrote since
                self.settlements.add(self.store.workflows, before["_id"], before["rev"], sent)
        if not saved:
            WRITE_CONFLICTS.inc()
            return False
        # written over an empty outbox: these entries are the whole outbox
        self._flush(before["_id"], before["rev"] + 1, entries, messages,
                    alone=not set(before.get("outbox") or {}) - sent)
        self._count(before, after, now)
        return True

    def _count(self, before, after, now):
        for code, task in after["tasks"].items():
            for flag, event in (("overdue", "overdue"), ("escalated", "escalated")):
                if task.get(flag) and not before["tasks"][code].get(flag):
                    SUPERVISION_EVENTS.labels(task["department"], event).inc()
            changed = task["state"] != before["tasks"][code]["state"]
            if changed and task["state"] in ("approved", "rejected"):
                TASKS_DECIDED.labels(task["department"], task["state"]).inc()
                if task.get("sent_at"):
                    took = (now - datetime.fromisoformat(task["sent_at"])).total_seconds()
                    TASK_DECISION_SECONDS.labels(task["department"], task["state"]).observe(
                        max(0.0, took - task.get("paused_seconds", 0)))
            if changed and task["state"] == "correction_required":
                CORRECTIONS_REQUESTED.labels(task["department"]).inc()
        if before["decision"] is None and after["decision"] is not None:
            if after["decision"]["outcome"] == "withdrawn":
                WITHDRAWALS.labels(after["scenario"]).inc()
            DECISIONS.labels(after["scenario"], after["decision"]["outcome"]).inc()
            submitted = datetime.fromisoformat(after["submitted_at"])
            DECISION_SECONDS.labels(after["scenario"]).observe(
                max(0.0, (now - submitted).total_seconds()))

    @staticmethod
    def _entries(messages):
        return {uuid.uuid4().hex: m for m in messages}

    def _flush(self, application_id, rev, entries, messages, alone=False):
        for message in messages:
            if message["kind"] == "amqp" and message["body"]["type"] == contract.TASK:
                TASKS_SENT.labels(message["body"]["payload"]["department"]).inc()
        # a write's messages (tasks to distinct departments, one snapshot, the decision) do not
        # depend on each other's order: their confirms are awaited together
        outbox.settle(self.store.workflows, application_id, rev, entries, self._publishers(),
                      alone=alone, concurrently=True, later=self.settlements)

    def _publishers(self):
        return {
            "event": lambda e: self.dispatch(e["event_type"], e["body"]),
            "amqp": lambda e: self.publish_task(e["body"], routing_key=e["routing_key"]),
        }

    def _calendar(self, version):
        if version not in self._calendars:
            self._calendars[version] = WorkingCalendar(self.catalog.get_calendar(version))
        return self._calendars[version]


def awaited_results(workflow, items):
    """Tasks out with their department whose result is not among `items`."""
    answered = {envelope["payload"]["task_id"] for envelope, _ in items}
    return sum(1 for task in workflow["tasks"].values()
               if task["state"] == "sent" and task["task_id"] not in answered)


def region_prefix(region):
    """The GB/T 2260 prefix of a region and everything below it ('' for none or Hunan)."""
    if not region:
        return ""
    return region.rstrip("0")[:2] if region.endswith("0000") else (
        region[:4] if region.endswith("00") else region)
