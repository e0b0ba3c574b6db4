"""routing: plans tasks, sends them to departments, gathers results into one decision.

Each input becomes one workflow change (routing/workflows.py: a pure step of
routing/domain.py, written by compare-and-set with its messages in the outbox, then
published); what the HTTP API shows is computed in routing/views.py; the officers' API is
routing/officer.py, the metrics routing/metrics.py.
"""

import logging

from nameko.timer import timer

from onestop.common.catalog_client import CatalogProxy
from onestop.common.clock import Clock
from onestop.common.config import env
from onestop.common.http import http
from onestop.common.messaging import consume_with_sender, event_handler
from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox
from onestop.common.service import ServiceBase
from onestop.contracts import messages as contract
from onestop.contracts.envelope import InvalidMessage, open_envelope
from onestop.contracts.events import (
    APPLICATION_CORRECTED,
    APPLICATION_SUBMITTED,
    APPLICATION_WITHDRAWN,
    ApplicationCorrectedSchema,
    ApplicationSubmittedSchema,
    ApplicationWithdrawnSchema,
    load_event,
)
from onestop.contracts.topology import results_queue, tasks_exchange
from services.routing import domain, views
from services.routing.gauges import WorkloadGauges
from services.routing.hall import HallApi
from services.routing.officer import OfficerApi
from services.routing.store import SETTLE_DELAY_SECONDS, RoutingStore
from services.routing.workflows import WorkflowUpdater

log = logging.getLogger(__name__)


class RoutingService(HallApi, OfficerApi, ServiceBase):
    name = "routing"

    store = Storage(RoutingStore, "routing")
    # tasks and events, confirmed and mandatory; sent entries removed by the next write
    outbox = Outbox(
        "workflows",
        tasks=tasks_exchange,
        mandatory_events=True,
        settle_later=True,
        settle_delay=SETTLE_DELAY_SECONDS,
    )
    catalog = CatalogProxy()
    now = Clock()
    workload_gauges = WorkloadGauges()  # open/overdue work from the store, per scrape

    @property
    def workflows(self):
        """This worker's way to change a workflow (routing/workflows.py)."""
        return WorkflowUpdater(self.store, self.outbox, self.catalog, self.now)

    # -- inputs -------------------------------------------------------------
    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        # the plan of a pinned catalog version is kept (onestop/common/catalog_client.py), so a
        # redelivered submission costs no round trip before the insert refuses it
        plan = self.catalog.plan(
            submitted["scenario"],
            submitted["region"],
            submitted["optional_items"],
            submitted["catalog_version"],
        )
        if "error" in plan:
            raise InvalidMessage(
                f"cannot plan application {submitted['application_id']}: {plan['error']}"
            )
        self.workflows.start(submitted, plan)

    @consume_with_sender(results_queue)
    def handle_approval_result(self, body, sender):
        envelope = open_envelope(
            body, {contract.RESULT, contract.PAYMENT}, contract.PAYLOAD_SCHEMAS
        )
        self.workflows.apply_result(envelope, sender)

    @event_handler("intake", APPLICATION_CORRECTED)
    def handle_application_corrected(self, payload):
        self.workflows.correct(
            load_event(ApplicationCorrectedSchema, payload, APPLICATION_CORRECTED)
        )

    @event_handler("intake", APPLICATION_WITHDRAWN)
    def handle_application_withdrawn(self, payload):
        withdrawal = load_event(ApplicationWithdrawnSchema, payload, APPLICATION_WITHDRAWN)
        self.workflows.update(withdrawal["application_id"], domain.withdraw, withdrawal["reason"])

    @timer(interval=float(env("SUPERVISION_INTERVAL_SECONDS", 5)))
    def supervise(self):
        """Flag tasks past their promised date (task_overdue) and legal limit (task_escalated)."""
        for workflow in self.store.due_for_supervision(self.now()):
            self.workflows.update(workflow["_id"], domain.supervise)

    @timer(interval=2)
    def reconcile(self):
        """Finish applications whose join was missed (every task decided, no decision). What
        a crash left in the outbox is re-sent by the Outbox's own sweep."""
        for workflow in self.store.stale_in_review(self.now()):
            if domain.combined_outcome(workflow["tasks"]) is not None:
                log.warning("reconciling application %s", workflow["_id"])
                self.workflows.update(workflow["_id"], domain.reconcile)

    # -- HTTP -----------------------------------------------------------------
    @http("GET", "/api/supervision/overdue")
    def overdue(self, request):
        """Overdue tasks by department and region; a supervisor whose token names a region
        sees that region and the ones below it."""
        supervisor = self.auth.require(request, "supervisor", "operator")
        return views.overdue_tasks(
            self.store.with_overdue_tasks(), supervisor.region, request.args.get("department")
        )

    @http("GET", "/api/applications/<string:application_id>/history")
    def history(self, request, application_id):
        principal = self.auth.require(request)
        return views.history(self.store.get(application_id), application_id, principal)
