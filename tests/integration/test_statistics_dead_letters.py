"""The published statistics' handlers are on the dead-letter path: feedback in a real nameko
container on the real broker and store; an application_decided it cannot read is moved to
the dead-letter queue with the queue it failed in and why, and counts nothing."""

import os
import uuid

import pymongo
import pytest
from kombu import Connection
from nameko.standalone.events import event_dispatcher

from onestop.contracts.topology import declare_all, dead_letter_queue
from services.feedback.service import FeedbackService
from services.feedback.statistics_store import BUCKETS
from tests.support.amqp import take

QUEUE = "evt-routing-application_decided--feedback.handle_application_decided"


@pytest.fixture
def feedback(container_factory, nameko_config, amqp_uri, mongo_uri):
    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    with Connection(amqp_uri) as connection:
        declare_all(connection)
        dead_letter_queue.bind(connection.default_channel).purge()
    container = container_factory(FeedbackService, nameko_config)
    container.start()
    client = pymongo.MongoClient(mongo_uri)
    yield client[os.environ["MONGO_DB_PREFIX"] + "feedback"]
    client.close()


def test_an_unreadable_decision_is_dead_lettered_by_the_statistics_handler(
    feedback, nameko_config, amqp_uri
):
    event_dispatcher(nameko_config)(
        "routing", "application_decided", {"application_id": "a-bad-one", "scenario": "birth"}
    )
    seen = {}
    while QUEUE not in seen:  # (license's handler of the event may dead-letter it too)
        message = take(amqp_uri, dead_letter_queue)
        seen[message.headers.get("x-original-queue")] = message.headers
    assert "bad application_decided" in seen[QUEUE]["x-dead-letter-reason"]
    assert feedback[BUCKETS].count_documents({}) == 0
