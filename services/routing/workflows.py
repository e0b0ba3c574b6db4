"""How routing changes a workflow: read it, apply a pure step of routing/domain.py, write it
by compare-and-set with the step's messages in its outbox, read and apply again on a
conflict; then publish the messages and count what changed (docs/adr/0003, 0009, 0011).

The service makes one `WorkflowUpdater` per worker from the worker's store, outbox, catalog
and clock; what the process's workers share (the results queued per application, the
working calendars) is kept on the class.
"""

from onestop.common.config import env
from onestop.common.outbox import with_ids
from onestop.common.working_days import WorkingCalendar
from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage
from services.routing import domain, metrics
from services.routing.batching import ApplicationQueues, latest_snapshot_only
from services.routing.boundary import authenticate_result

MAX_ATTEMPTS = 20
RESULT_LINGER_SECONDS = float(env("ROUTING_RESULT_LINGER_SECONDS", 0.01))


class WorkflowUpdater:
    queues = ApplicationQueues()  # results waiting for their application's batch
    calendars = {}  # catalog version -> WorkingCalendar (a version never changes)

    def __init__(self, store, outbox, catalog, now):
        self.store = store
        self.outbox = outbox
        self.catalog = catalog
        self.now = now

    def start(self, submitted, plan):
        """Store the workflow of a submitted application and send its first tasks; a
        submission already stored changes nothing (counted)."""
        now = self.now()
        workflow, messages = domain.new_workflow(
            submitted,
            plan,
            now,
            self.calendar(plan["catalog_version"]),
            acceptance=acceptance_mode(),
            acceptance_days=int(env("ACCEPTANCE_DAYS", domain.ACCEPTANCE_DAYS)),
        )
        entries = with_ids(messages)
        if not self.store.insert(workflow, entries, now):
            metrics.RESULTS_IGNORED.labels("duplicate_submission").inc()
            return
        self._publish(workflow["_id"], 1, entries, messages, alone=True)

    def apply_result(self, envelope, sender):
        """Apply a department's result together with the other results of its application
        that arrive meanwhile (routing/batching.py); return once it is persisted, raise
        InvalidMessage if it is refused."""
        self.queues.submit(
            envelope["payload"]["application_id"], (envelope, sender), self._apply_results
        )

    def correct(self, correction):
        """The applicant's correction: the tasks that asked for it are sent again."""
        self.update(
            correction["application_id"],
            lambda workflow, now: domain.apply_correction(
                workflow, correction, now, self.calendar(workflow["catalog_version"])
            ),
        )

    def decide_acceptance(self, application_id, decision, by, reasons):
        """The hall's acceptance (受理) or refusal to accept (不予受理) of an application."""
        self.update(
            application_id,
            lambda workflow, now: domain.decide_acceptance(
                workflow,
                now,
                self.calendar(workflow["catalog_version"]),
                decision,
                by,
                reasons,
            ),
        )

    def decide_as_officer(self, kind, result, message_id):
        """An officer's decision (`kind` RESULT) or payment confirmation (PAYMENT) for the
        task's department (routing/officer.py): the same domain step as the department's own
        result, in one compare-and-set write with its messages in the outbox. The officer
        API has authenticated the officer and checked that the task is their office's: the
        broker-user check of a consumed result (boundary.py) has nothing to check here.
        `message_id` is remembered on the task, so the same decision again changes nothing
        (outcome `duplicate`). Returns the outcome (None: no such application); raises
        InvalidMessage if the domain refuses it."""
        max_rounds = int(env("MAX_CORRECTION_ROUNDS", domain.MAX_CORRECTION_ROUNDS))

        def step(workflow, now):
            calendar = self.calendar(workflow["catalog_version"])
            if kind == contract.PAYMENT:
                return domain.apply_payment(workflow, result, now, calendar, message_id=message_id)
            return domain.apply_result(
                workflow, result, now, calendar, message_id=message_id, max_corrections=max_rounds
            )

        return self.update(result["application_id"], step)

    def update(self, application_id, step, *args):
        """Read, apply `step(workflow, now, *args)`, write with the revision check; retry on
        conflict; return the outcome written or ignored (None: no such workflow). A refusal
        raises InvalidMessage; anything that changes nothing is counted."""
        for _ in range(MAX_ATTEMPTS):
            workflow = self.store.get(application_id)
            if workflow is None:
                metrics.RESULTS_IGNORED.labels("unknown").inc()
                return None
            now = self.now()
            outcome = step(workflow, now, *args)
            if outcome.kind == "refused":
                metrics.RESULTS_IGNORED.labels("refused").inc()
                raise InvalidMessage(outcome.detail)
            if outcome.kind != "applied":
                metrics.RESULTS_IGNORED.labels(outcome.kind).inc()
                if outcome.workflow is None:
                    return outcome
            if self._commit(workflow, outcome.workflow, outcome.messages, now):
                return outcome
        raise RuntimeError(f"could not update {application_id} after {MAX_ATTEMPTS} attempts")

    def calendar(self, version):
        if version not in self.calendars:
            self.calendars[version] = WorkingCalendar(self.catalog.get_calendar(version))
        return self.calendars[version]

    def _apply_results(self, application_id, items):
        """Apply (envelope, sender) results of one application in order, in one write;
        returns {index: InvalidMessage} for those refused (they are dead-lettered alone)."""
        max_rounds = int(env("MAX_CORRECTION_ROUNDS", domain.MAX_CORRECTION_ROUNDS))
        for attempt in range(MAX_ATTEMPTS):
            # first from what this process wrote last; after a conflict, from the store
            remembered = self.store.remembered(application_id) if attempt == 0 else None
            workflow = remembered or self.store.get(application_id)
            if workflow is None:
                return refuse_or_ignore_unknown(items)
            joined = []
            if attempt == 0:  # the results still expected may join this write (batching.py)
                joined = self.queues.take_more(
                    application_id, awaited_results(workflow, items), RESULT_LINGER_SECONDS
                )
                items.extend(joined)
            now = self.now()
            calendar = self.calendar(workflow["catalog_version"])
            current, messages, refused = workflow, [], {}
            for index, (envelope, sender) in enumerate(items):
                result = envelope["payload"]
                try:
                    # only the task's department, by its validated broker user (boundary.py)
                    authenticate_result(sender, result, current)
                except InvalidMessage as exc:
                    refused[index] = exc
                    continue
                try:
                    if envelope["type"] == contract.PAYMENT:
                        outcome = domain.apply_payment(
                            current, result, now, calendar, message_id=envelope["message_id"]
                        )
                    else:
                        outcome = domain.apply_result(
                            current,
                            result,
                            now,
                            calendar,
                            message_id=envelope["message_id"],
                            max_corrections=max_rounds,
                        )
                except Exception as exc:  # a pure step: this result fails the same way again
                    refused[index] = InvalidMessage(f"result could not be applied: {exc!r}")
                    continue  # alone: the batch's other results are still written
                if outcome.kind == "refused":
                    metrics.RESULTS_IGNORED.labels("refused").inc()
                    refused[index] = InvalidMessage(outcome.detail)
                    continue
                if outcome.kind != "applied":
                    metrics.RESULTS_IGNORED.labels(outcome.kind).inc()
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

    def _commit(self, before, after, messages, now):
        """Write `after` (read as `before`) with its messages in the outbox, by compare-and-
        set; then publish and count. False on a conflict (the caller reads again)."""
        entries = with_ids(messages)
        # what this process published at the revision read is removed by this same write
        sent = self.outbox.take_published(before["_id"], before["rev"])
        saved = False
        try:
            saved = self.store.save(after, entries, now, remove=sent)
        finally:
            if sent and not saved:  # not removed (a conflict, or the store away): removed
                # shortly, whoever wrote since
                self.outbox.remove_later(before["_id"], before["rev"], sent)
        if not saved:
            metrics.WRITE_CONFLICTS.inc()
            return False
        # written over an empty outbox: these entries are the whole outbox
        self._publish(
            before["_id"],
            before["rev"] + 1,
            entries,
            messages,
            alone=not set(before.get("outbox") or {}) - sent,
        )
        metrics.count_change(before, after, now)
        return True

    def _publish(self, application_id, rev, entries, messages, alone=False):
        metrics.count_tasks_sent(messages)
        # a write's messages (tasks to distinct departments, one snapshot, the decision) do not
        # depend on each other's order: their confirms are awaited together
        self.outbox.publish(application_id, rev, entries, alone=alone, concurrently=True)


def acceptance_mode():
    """ACCEPTANCE: auto (default: accepted on arrival) or manual (a hall clerk accepts)."""
    mode = env("ACCEPTANCE", "auto")
    if mode not in domain.ACCEPTANCE_MODES:
        raise ValueError(f"ACCEPTANCE must be one of {domain.ACCEPTANCE_MODES}, not {mode!r}")
    return mode


def refuse_or_ignore_unknown(items):
    """Results for an application routing does not know: refused if their sender may not
    give them, else ignored (and counted)."""
    refused = {}
    for index, (envelope, sender) in enumerate(items):
        try:
            authenticate_result(sender, envelope["payload"], None)
        except InvalidMessage as exc:
            refused[index] = exc
            continue
        metrics.RESULTS_IGNORED.labels("unknown").inc()
    return refused


def awaited_results(workflow, items):
    """Tasks out with their department whose result is not among `items`."""
    answered = {envelope["payload"]["task_id"] for envelope, _ in items}
    return sum(
        1
        for task in workflow["tasks"].values()
        if task["state"] == "sent" and task["task_id"] not in answered
    )
