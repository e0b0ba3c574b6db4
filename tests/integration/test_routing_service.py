"""routing in a real nameko container, on the real broker and store; the catalog is stubbed
(it is outside routing's bounded context)."""

import json
import os
import time
import uuid
from datetime import datetime, timezone

import pymongo
import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import replace_dependencies

from tests.support.amqp import take
from onestop.contracts.envelope import make_envelope
from onestop.contracts.topology import dead_letter_queue, declare_all, department_queue
from services.routing.service import RoutingService
from tests.support.departments import publish_result
from tests.support.polling import wait_for
from tests.support.plans import plan, plan_task

DEPARTMENT = "itdept"
EVENTS_QUEUE = Queue(
    "it-routing-events",
    exchange=Exchange("routing.events", type="topic", durable=True),
    routing_key="#",
    durable=True,
)
PLAN = plan(
    plan_task("IT-1", "First", DEPARTMENT),
    plan_task("IT-2", "Second", DEPARTMENT, depends_on=["IT-1"]),
)


@pytest.fixture
def routing(container_factory, nameko_config, amqp_uri, mongo_uri):
    os.environ["MONGO_DB_PREFIX"] = f"it{uuid.uuid4().hex[:6]}_"
    with Connection(amqp_uri) as connection:
        declare_all(connection, [DEPARTMENT])
        # stands in for the subscribers of routing's events (intake, license, feedback)
        EVENTS_QUEUE.bind(connection.default_channel).declare()
        for queue in (department_queue(DEPARTMENT), dead_letter_queue, EVENTS_QUEUE):
            queue.bind(connection.default_channel).purge()
    container = container_factory(RoutingService, nameko_config)
    catalog = replace_dependencies(container, "catalog")
    catalog.plan.return_value = PLAN
    catalog.get_calendar.return_value = {"holidays": [], "workdays": []}
    container.start()
    client = pymongo.MongoClient(mongo_uri)
    yield client[os.environ["MONGO_DB_PREFIX"] + "routing"].workflows
    client.close()


def submit(config, application_id):
    dispatch = event_dispatcher(config)
    dispatch(
        "intake",
        "application_submitted",
        {
            "application_id": application_id,
            "scenario": "it",
            "catalog_version": 1,
            "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
            "region": "430102",
            "channel": "online",
            "form": {},
            "materials": [],
            "optional_items": [],
            "submitted_at": datetime.now(timezone.utc).isoformat(),
        },
    )


def answer(amqp_uri, task, decision="approved", department=DEPARTMENT, raw=None):
    body = (
        raw
        if raw is not None
        else json.dumps(
            make_envelope(
                "approval_result",
                task["application_id"],
                {
                    "task_id": task["task_id"],
                    "application_id": task["application_id"],
                    "department": department,
                    "decision": decision,
                    "reason": "",
                    "data": {"n": 1},
                },
            )
        )
    )
    publish_result(amqp_uri, body, department)  # as the department's broker user


def test_tasks_flow_in_dependency_order_to_one_decision(routing, nameko_config, amqp_uri):
    application_id = uuid.uuid4().hex
    submit(nameko_config, application_id)
    first = json.loads(take(amqp_uri, department_queue(DEPARTMENT)).body)
    assert first["type"] == "approval_task" and first["payload"]["item_code"] == "IT-1"
    answer(amqp_uri, first["payload"])
    second = json.loads(take(amqp_uri, department_queue(DEPARTMENT)).body)["payload"]
    assert second["item_code"] == "IT-2" and second["inputs"] == {"IT-1": {"n": 1}}
    answer(amqp_uri, second)
    answer(amqp_uri, second)  # a duplicate changes nothing
    workflow = wait_for(lambda: routing.find_one({"_id": application_id, "status": "approved"}))
    assert [h["cause"] for h in workflow["history"]].count("combined_decision") == 1
    wait_for(lambda: not routing.find_one({"_id": application_id})["outbox"])


def test_the_same_submission_twice_plans_once(routing, nameko_config, amqp_uri):
    application_id = uuid.uuid4().hex
    submit(nameko_config, application_id)
    submit(nameko_config, application_id)
    take(amqp_uri, department_queue(DEPARTMENT))
    time.sleep(1)
    with Connection(amqp_uri) as connection:
        assert (
            department_queue(DEPARTMENT)
            .bind(connection.default_channel)
            .queue_declare(passive=True)
            .message_count
            == 0
        )
    assert routing.count_documents({"_id": application_id}) == 1


def test_unprocessable_results_are_dead_lettered_with_a_reason_and_do_not_block(
    routing, nameko_config, amqp_uri
):
    application_id = uuid.uuid4().hex
    submit(nameko_config, application_id)
    task = json.loads(take(amqp_uri, department_queue(DEPARTMENT)).body)["payload"]
    answer(amqp_uri, task, raw=json.dumps({"type": "nonsense"}))
    answer(amqp_uri, task, department="otherdept")  # a department deciding another's task
    answer(amqp_uri, task)
    reasons = [take(amqp_uri, dead_letter_queue).headers["x-dead-letter-reason"] for _ in range(2)]
    assert any("bad envelope" in r for r in reasons)
    assert any("belongs to itdept" in r for r in reasons)
    wait_for(
        lambda: routing.find_one({"_id": application_id})["tasks"]["IT-1"]["state"] == "approved"
    )


def test_a_message_left_in_the_outbox_by_a_crash_is_sent_by_the_sweep(routing, amqp_uri):
    application_id = uuid.uuid4().hex
    envelope = make_envelope("approval_task", application_id, {"task_id": f"{application_id}:X"})
    routing.insert_one(
        {
            "_id": application_id,
            "status": "in_review",
            "rev": 3,
            "tasks": {},
            "history": [],
            "outbox": {
                "m1": {
                    "kind": "amqp",
                    "exchange": "approval.tasks",
                    "routing_key": f"task.{DEPARTMENT}.430102",
                    "body": envelope,
                }
            },
            "outbox_pending": True,
            "updated_ts": time.time() - 60,
        }
    )
    message = json.loads(take(amqp_uri, department_queue(DEPARTMENT), timeout=20).body)
    assert message["message_id"] == envelope["message_id"]
    wait_for(lambda: routing.find_one({"_id": application_id})["outbox"] == {})


@pytest.fixture
def long_memory(monkeypatch):
    """routing remembers what it wrote for 30 s, not 0.2: time enough to act in between."""
    monkeypatch.setattr("services.routing.store.REMEMBERED_SECONDS", 30.0)


def test_a_result_judged_late_on_what_this_process_wrote_is_judged_again_on_the_store(
    long_memory, routing, nameko_config, amqp_uri
):
    """Another routing process released IT-2 after this one wrote (no write of this one
    tells it); IT-2's result must not be dropped as 'never sent'."""
    application_id = uuid.uuid4().hex
    submit(nameko_config, application_id)
    first = json.loads(take(amqp_uri, department_queue(DEPARTMENT)).body)["payload"]
    # what another routing process wrote meanwhile: IT-1 approved, IT-2 sent
    stored = wait_for(lambda: routing.find_one({"_id": application_id}))
    tasks = stored["tasks"]
    tasks["IT-1"].update(state="approved", decided_at=datetime.now(timezone.utc).isoformat())
    tasks["IT-2"].update(state="sent", sent_at=datetime.now(timezone.utc).isoformat())
    routing.update_one(
        {"_id": application_id}, {"$set": {"tasks": tasks, "rev": stored["rev"] + 1}}
    )
    answer(amqp_uri, {"task_id": f"{application_id}:IT-2", "application_id": application_id})
    workflow = wait_for(lambda: routing.find_one({"_id": application_id, "status": "approved"}))
    assert workflow["tasks"]["IT-2"]["state"] == "approved"
    assert first["item_code"] == "IT-1"


@pytest.fixture
def long_linger(monkeypatch):
    """A batch waits up to 3 s, not 10 ms, for the results it expects: time to act."""
    monkeypatch.setattr("services.routing.workflows.RESULT_LINGER_SECONDS", 3.0)


def test_a_result_that_joined_a_batch_after_its_read_is_not_judged_on_that_read(
    long_linger, routing, nameko_config, amqp_uri
):
    """A batch read the workflow, then waited; meanwhile another routing process released
    IT-2 and IT-2's result joined the batch. Judged on the earlier read it looks 'never
    sent'; with nothing else to write it must be judged again, not dropped."""
    application_id = uuid.uuid4().hex
    submit(nameko_config, application_id)
    take(amqp_uri, department_queue(DEPARTMENT))  # IT-1 is out; IT-2 waits for it
    time.sleep(0.5)  # past what routing remembers of its own write: the batch reads the store
    stray = {"task_id": f"{application_id}:IT-2", "application_id": application_id}
    answer(amqp_uri, stray)  # for a task not sent: the batch reads, then waits for IT-1's
    time.sleep(0.5)
    stored = routing.find_one({"_id": application_id})
    tasks = stored["tasks"]
    tasks["IT-1"].update(state="approved", decided_at=datetime.now(timezone.utc).isoformat())
    tasks["IT-2"].update(state="sent", sent_at=datetime.now(timezone.utc).isoformat())
    routing.update_one(
        {"_id": application_id}, {"$set": {"tasks": tasks, "rev": stored["rev"] + 1}}
    )
    answer(amqp_uri, stray)  # IT-2's real answer joins the waiting batch
    workflow = wait_for(lambda: routing.find_one({"_id": application_id, "status": "approved"}))
    assert workflow["tasks"]["IT-2"]["state"] == "approved"
