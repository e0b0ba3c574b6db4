"""notify's handlers with nameko's worker_factory and small fakes (no broker, no store): an
event stored once per person and channel and its deliveries published from the outbox, a
replay storing and publishing nothing, a delivery sent once, a refused one raised as
transient (retried, then dead-lettered) and never marked delivered."""

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory

from onestop.contracts.events import APPLICATION_SUBMITTED, NOTIFICATION_QUEUED
from services.notify.channels import DeliveryFailed
from services.notify.service import NotifyService
from tests.unit.test_notify_domain import ID_NUMBER, SUBMITTED

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class FakeStore:
    def __init__(self):
        self.notifications, self.applicants, self.prefs = {}, {}, {}

    def remember_applicant(self, application_id, id_number, now):
        self.applicants.setdefault(application_id, id_number)

    def applicant_of(self, application_id):
        return self.applicants.get(application_id)

    def preferences(self, person):
        return self.prefs.get(person)

    def add_all(self, docs, now):
        stored = set()
        for doc, outbox in docs:
            if doc["_id"] not in self.notifications:
                self.notifications[doc["_id"]] = dict(doc, outbox=dict(outbox))
                stored.add(doc["_id"])
        return stored

    def get(self, notification_id):
        return self.notifications.get(notification_id)

    def settle_delivery(self, notification_id, state, now, error=None, published=()):
        doc = self.notifications[notification_id]
        doc.update(state=state, last_error=error, attempts=doc["attempts"] + 1)
        for message_id in published:
            del doc["outbox"][message_id]


class FakeOutbox:
    """Publishes at once; what it published is handed to the delivery's update (`take`)."""

    def __init__(self):
        self.published, self.waiting = [], {}

    def publish(self, doc_id, rev, entries, alone=False):
        self.published += [(doc_id, entry) for entry in entries.values()]
        self.waiting[doc_id] = set(entries)

    def take_published(self, doc_id, rev):
        return self.waiting.pop(doc_id, set())


class FakeChannels:
    offered = ["file"]

    def __init__(self, refuse=False):
        self.sent, self.refuse = [], refuse

    def send(self, channel, message):
        if self.refuse:
            raise DeliveryFailed("file channel: disk full")
        self.sent.append((channel, message))
        return True


def service(event_type=APPLICATION_SUBMITTED, channels=None):
    return worker_factory(
        NotifyService,
        store=FakeStore(),
        outbox=FakeOutbox(),
        channels=channels or FakeChannels(),
        now=lambda: NOW,
        handling=SimpleNamespace(event_type=event_type),
    )


def test_an_event_is_stored_per_channel_and_its_delivery_published_and_a_replay_adds_nothing():
    notify = service()
    notify.handle_application_submitted(SUBMITTED)
    docs = list(notify.store.notifications.values())
    assert sorted(d["channel"] for d in docs) == ["file", "inbox"]
    ((doc_id, entry),) = notify.outbox.published  # the file one; the inbox needs no delivery
    assert notify.store.notifications[doc_id]["channel"] == "file"
    assert entry["event_type"] == NOTIFICATION_QUEUED and entry["body"]["notification_id"] == doc_id
    assert notify.store.applicant_of("A-1") == ID_NUMBER

    notify.handle_application_submitted(SUBMITTED)  # the same event again
    assert len(notify.store.notifications) == 2 and len(notify.outbox.published) == 1


def test_a_delivery_is_sent_once_even_when_its_message_comes_twice():
    notify = service()
    notify.handle_application_submitted(SUBMITTED)
    ((doc_id, entry),) = notify.outbox.published
    notify.handle_notification_queued(entry["body"])
    notify.handle_notification_queued(entry["body"])
    ((channel, message),) = notify.channels.sent
    assert channel == "file" and message["notification_id"] == doc_id
    assert ID_NUMBER not in str(message)
    assert notify.store.get(doc_id)["state"] == "delivered"
    # the delivery's own update removed the outbox entry that carried its message
    assert notify.store.get(doc_id)["outbox"] == {}
    notify.handle_notification_queued({"notification_id": "unknown"})  # nothing to do
    assert len(notify.channels.sent) == 1


def test_a_refused_delivery_is_raised_as_transient_and_stays_undelivered():
    notify = service(channels=FakeChannels(refuse=True))
    notify.handle_application_submitted(SUBMITTED)
    ((doc_id, entry),) = notify.outbox.published
    with pytest.raises(ConnectionError):  # the failure policy's transient path: retry later
        notify.handle_notification_queued(entry["body"])
    failing = notify.store.get(doc_id)
    assert failing["state"] == "failing" and "disk full" in failing["last_error"]
    assert failing["attempts"] == 1


def test_deliveries_have_a_retry_limit_of_their_own(monkeypatch):
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    from onestop.common.messaging import DEFAULT_RETRY_LIMIT, retry_limit

    (delivery,) = getattr(NotifyService.handle_notification_queued, ENTRYPOINT_EXTENSIONS_ATTR)
    (submitted,) = getattr(NotifyService.handle_application_submitted, ENTRYPOINT_EXTENSIONS_ATTR)
    assert delivery.retry_limit_variable == "NOTIFY_DELIVERY_RETRIES"
    assert submitted.retry_limit_variable == "TRANSIENT_RETRY_LIMIT"
    monkeypatch.delenv("NOTIFY_DELIVERY_RETRIES", raising=False)
    monkeypatch.delenv("TRANSIENT_RETRY_LIMIT", raising=False)
    assert retry_limit(delivery.retry_limit_variable) == DEFAULT_RETRY_LIMIT
    monkeypatch.setenv("TRANSIENT_RETRY_LIMIT", "7")
    assert retry_limit(delivery.retry_limit_variable) == 7  # the platform's, unless its own
    monkeypatch.setenv("NOTIFY_DELIVERY_RETRIES", "2")
    assert retry_limit(delivery.retry_limit_variable) == 2
    assert retry_limit(submitted.retry_limit_variable) == 7
