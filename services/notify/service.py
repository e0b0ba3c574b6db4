"""notify: turns the platform's events into notifications (templates.yaml), stores them
with their delivery in the outbox, delivers them through the person's channels (retried,
then dead-lettered), and serves each person's inbox and channel preferences."""

from types import SimpleNamespace

from nameko.extensions import DependencyProvider

from onestop.common.clock import Clock
from onestop.common.errors import NotAllowed, Unknown
from onestop.common.http import http, load, load_query, read_json
from onestop.common.messaging import event_handler
from onestop.common.mongo import Storage
from onestop.common.outbox import Outbox, event, with_ids
from onestop.common.service import ServiceBase
from onestop.contracts.envelope import InvalidMessage
from onestop.contracts.events import (
    APPLICATION_DECIDED,
    APPLICATION_SUBMITTED,
    CORRECTION_REQUESTED,
    LICENSE_ISSUED,
    NOTICE_ISSUED,
    NOTIFICATION_QUEUED,
    TASK_DUE_SOON,
    TASK_ESCALATED,
    TASK_OVERDUE,
    ApplicationDecidedSchema,
    ApplicationSubmittedSchema,
    CorrectionRequestedSchema,
    LicenseEventSchema,
    NoticeIssuedSchema,
    NotificationQueuedSchema,
    TaskSupervisionSchema,
    load_event,
)
from services.notify import domain
from services.notify.channels import Channels
from services.notify.metrics import DELIVERIES, NOTIFICATIONS
from services.notify.schemas import InboxQuerySchema, PreferencesSchema
from services.notify.store import NotifyStore


class EventBeingHandled(DependencyProvider):
    """The event type the worker's handler was called for (its templates' `event`)."""

    def get_dependency(self, worker_ctx):
        return SimpleNamespace(event_type=getattr(worker_ctx.entrypoint, "event_type", None))


class NotifyService(ServiceBase):
    name = "notify"

    store = Storage(NotifyStore, "notify")
    # each delivery: a notification_queued to ourselves; once published, its entry is removed
    # by the delivery's own update (or shortly after, by one update): docs/adr/0028
    outbox = Outbox("notifications", settle_later=True)
    channels = Channels()
    now = Clock()
    handling = EventBeingHandled()

    # -- events in: one notification per notice, person and channel --------------------
    @event_handler("intake", APPLICATION_SUBMITTED)
    def handle_application_submitted(self, payload):
        submitted = load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
        self.store.remember_applicant(
            submitted["application_id"], submitted["applicant"]["id_number"], self.now()
        )
        self._notify(submitted)

    @event_handler("routing", CORRECTION_REQUESTED)
    def handle_correction_requested(self, payload):
        self._notify(load_event(CorrectionRequestedSchema, payload, CORRECTION_REQUESTED))

    @event_handler("routing", NOTICE_ISSUED)
    def handle_notice_issued(self, payload):
        self._notify(load_event(NoticeIssuedSchema, payload, NOTICE_ISSUED))

    @event_handler("routing", APPLICATION_DECIDED)
    def handle_application_decided(self, payload):
        self._notify(load_event(ApplicationDecidedSchema, payload, APPLICATION_DECIDED))

    @event_handler("license", LICENSE_ISSUED)
    def handle_license_issued(self, payload):
        self._notify(load_event(LicenseEventSchema, payload, LICENSE_ISSUED))

    @event_handler("routing", TASK_DUE_SOON)
    def handle_task_due_soon(self, payload):
        self._notify(load_event(TaskSupervisionSchema, payload, TASK_DUE_SOON))

    @event_handler("routing", TASK_OVERDUE)
    def handle_task_overdue(self, payload):
        self._notify(load_event(TaskSupervisionSchema, payload, TASK_OVERDUE))

    @event_handler("routing", TASK_ESCALATED)
    def handle_task_escalated(self, payload):
        self._notify(load_event(TaskSupervisionSchema, payload, TASK_ESCALATED))

    def _notify(self, payload):
        """Store each notification with its delivery (outbox), then publish the delivery."""
        now, event_type = self.now(), self.handling.event_type
        try:
            notices = domain.notices(event_type, payload, self.store.applicant_of)
        except KeyError as exc:
            raise InvalidMessage(f"{event_type} lacks the field {exc} a template needs") from None
        for notice in notices:
            preferences = self.store.preferences(notice["person"])
            docs = [
                (
                    doc,
                    with_ids([event(NOTIFICATION_QUEUED, {"notification_id": doc["_id"]})])
                    if doc["channel"] != domain.INBOX
                    else {},
                )
                for doc in domain.notifications(notice, preferences, self.channels.offered, now)
            ]
            stored = self.store.add_all(docs, now)  # one round trip for the notice's channels
            for doc, entries in docs:
                if doc["_id"] in stored:
                    NOTIFICATIONS.labels(doc["notice"], doc["channel"]).inc()
                    if entries:
                        self.outbox.publish(doc["_id"], 1, entries, alone=True)

    # -- delivery: retried with backoff, then dead-lettered ------------------------------
    @event_handler("notify", NOTIFICATION_QUEUED, retry_limit_variable="NOTIFY_DELIVERY_RETRIES")
    def handle_notification_queued(self, payload):
        queued = load_event(NotificationQueuedSchema, payload, NOTIFICATION_QUEUED)
        doc = self.store.get(queued["notification_id"])
        if doc is None or doc["state"] in ("delivered", "skipped"):
            return  # unknown, or a duplicate delivery message: already done
        try:
            delivered = self.channels.send(doc["channel"], domain.delivery_message(doc))
        except ConnectionError as exc:  # DeliveryFailed: retried later, then dead-lettered
            DELIVERIES.labels(doc["channel"], "failed").inc()
            self._settle(doc, "failing", str(exc)[:500])
            raise
        outcome = "delivered" if delivered else "skipped"
        DELIVERIES.labels(doc["channel"], outcome).inc()
        self._settle(doc, outcome)

    def _settle(self, doc, state, error=None):
        """Record the attempt. This message's outbox entry, when this process published it
        and has not removed it yet, is removed by the same update. Taken only once the send
        has ended: while a send lasts, the publisher's own removal (a quarter of a second
        after the publish) goes ahead, so the outbox sweep never finds the entry pending
        and sends the notification a second time."""
        published = self.outbox.take_published(doc["_id"], 1)
        try:
            self.store.settle_delivery(doc["_id"], state, self.now(), error, published)
        except Exception:
            if published:  # not removed: removed shortly by one update of their own
                self.outbox.remove_later(doc["_id"], 1, published)
            raise

    # -- the inbox and preferences -------------------------------------------------------
    @http("GET", "/api/notifications")
    def inbox(self, request):
        person = self._person(request)
        query = load_query(InboxQuerySchema(), request)
        page, total, unread = self.store.inbox(
            person, query["offset"], query["limit"], query["unread"]
        )
        return {
            "notifications": [domain.inbox_view(doc) for doc in page],
            "total": total,
            "unread": unread,
            "offset": query["offset"],
            "limit": query["limit"],
        }

    @http("POST", "/api/notifications/<string:notification_id>/read")
    def mark_read(self, request, notification_id):
        person = self._person(request)
        doc = self.store.mark_read(notification_id, person, self.now())
        if doc is None:
            raise Unknown(f"no notification {notification_id} in your inbox")
        return domain.inbox_view(doc)

    @http("GET", "/api/notifications/preferences")
    def preferences(self, request):
        person = self._person(request)
        return domain.preferences_view(self.store.preferences(person), self.channels.offered)

    @http("PUT", "/api/notifications/preferences")
    def choose_preferences(self, request):
        person = self._person(request)
        body = load(PreferencesSchema(), read_json(request), "invalid notification preferences")
        chosen = domain.checked_preferences(body, self.channels.offered)
        self.store.save_preferences(person, chosen, self.now())
        return domain.preferences_view(chosen, self.channels.offered)

    def _person(self, request):
        principal = self.auth.require(request, "applicant", "officer")
        person = domain.person_of_principal(principal)
        if person is None:
            raise NotAllowed("an officer's token must name the office", field="office")
        return person
