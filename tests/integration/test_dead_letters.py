"""The operators' dead-letter tool (ops/dead_letters.py, `ops.cli
dead-letters`) on the real broker: both shapes of dead letter are listed with the queue
they failed in and why; a replay puts the very message back in that queue (a department's
result as its department, so routing still knows the sender); a discard keeps it in a file;
what is not picked, or cannot be replayed, stays."""

import json
import stat
import time
import uuid

import pika
import pytest
from kombu import Connection, Queue

from ops import cli
from ops.dead_letters import DeadLetterQueue, ReplayFailed
from onestop.common.messaging import consume_with_sender, dead_letter
from onestop.contracts.envelope import make_envelope
from onestop.contracts.topology import (
    DEAD_LETTER_ARGS,
    DEAD_LETTER_QUEUE,
    RESULTS_QUEUE,
    declare_all,
    dead_letter_queue,
    result_routing_key,
    results_exchange,
    results_queue,
)
from tests.support.departments import department_amqp_uri

DEPARTMENT = "dldept"


@pytest.fixture
def broker(amqp_uri, monkeypatch):
    """The topology, an empty dead-letter queue and results queue, two queues of our own."""
    monkeypatch.setenv("AMQP_URI", amqp_uri)
    names = {
        "events": f"it-dl-events-{uuid.uuid4().hex[:6]}",
        "tasks": f"it-dl-tasks-{uuid.uuid4().hex[:6]}",
    }
    with Connection(amqp_uri) as connection:
        declare_all(connection)
        channel = connection.default_channel
        for queue in (dead_letter_queue, results_queue):
            queue.bind(channel).purge()
        Queue(names["events"], durable=True).bind(channel).declare()
        Queue(names["tasks"], durable=True, queue_arguments=DEAD_LETTER_ARGS).bind(
            channel
        ).declare()
    yield dict(names, uri=amqp_uri)
    with Connection(amqp_uri) as connection:
        for name in names.values():
            Queue(name).bind(connection.default_channel).delete()


def envelope(kind="application_submitted"):
    return make_envelope(kind, uuid.uuid4().hex, {"n": 1})


def failed_in_our_consumer(broker, body):
    """As the platform's consumers do: republished with the reason (messaging.dead_letter)."""
    with Connection(broker["uri"]) as connection:
        queue = connection.SimpleQueue(broker["events"])
        queue.put(body, serializer="json")
        message = queue.get(timeout=5)
        dead_letter(
            broker["uri"], message, broker["events"], "bad payload: {'n': ['x']}", "invalid"
        )
        message.ack()
        queue.close()


def rejected_by_a_department(broker, body):
    """As the broker does when a department consumer rejects a task: x-death."""
    with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
        channel = connection.channel()
        channel.basic_publish(
            "",
            broker["tasks"],
            json.dumps(body),
            pika.BasicProperties(content_type="application/json", delivery_mode=2),
        )
        method = None
        while method is None:
            method, _, _ = channel.basic_get(broker["tasks"])
        channel.basic_reject(method.delivery_tag, requeue=False)
    deadline = time.monotonic() + 10  # the broker dead-letters it asynchronously
    while not any(json.loads(letter.body) == body for letter in look(broker["uri"])):
        assert time.monotonic() < deadline, "the rejected message was not dead-lettered"
        time.sleep(0.05)


def take(uri, queue, timeout=5):
    """The next message of `queue` (removed): its method, properties and body."""
    with pika.BlockingConnection(pika.URLParameters(uri)) as connection:
        channel = connection.channel()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = channel.basic_get(queue, auto_ack=True)
            if method is not None:
                return method, properties, body
            time.sleep(0.05)
    raise AssertionError(f"nothing arrived in {queue}")


def look(uri, queue=DEAD_LETTER_QUEUE):
    """Every dead letter, as a walk sees them (each put back as it goes)."""
    with DeadLetterQueue(uri, queue=queue) as dead:
        return list(dead.walk())


def waiting(uri):
    with DeadLetterQueue(uri) as queue:
        return queue.count()


def test_both_shapes_are_listed_with_where_and_why(broker, capsys):
    ours, theirs = envelope(), envelope("approval_task")
    failed_in_our_consumer(broker, ours)
    rejected_by_a_department(broker, theirs)
    assert cli.main(["dead-letters", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["waiting"] == 2
    by_id = {d["id"]: d for d in listed["dead_letters"]}
    assert by_id[ours["message_id"]]["queue"] == broker["events"]
    assert by_id[ours["message_id"]]["reason"] == "bad payload: {'n': ['x']}"
    assert by_id[ours["message_id"]]["correlation_id"] == ours["correlation_id"]
    assert by_id[theirs["message_id"]]["queue"] == broker["tasks"]
    assert by_id[theirs["message_id"]]["reason"] == (
        f"the consumer of {broker['tasks']} rejected it"
    )
    assert by_id[theirs["message_id"]]["type"] == "approval_task"
    # listing removes nothing
    assert waiting(broker["uri"]) == 2


def test_a_replay_puts_the_same_message_back_in_its_queue_alone(broker, capsys):
    first, second = envelope(), envelope()
    failed_in_our_consumer(broker, first)
    failed_in_our_consumer(broker, second)
    assert cli.main(["dead-letters", "replay", first["message_id"]]) == 0
    assert "1 done, 0 not done, 0 not found" in capsys.readouterr().out
    _, properties, body = take(broker["uri"], broker["events"])
    assert json.loads(body) == first
    assert properties.headers["x-replays"] == 1
    assert "x-dead-letter-reason" not in properties.headers
    # the other one stays, and it is still the one in the queue
    assert [letter.id for letter in look(broker["uri"])] == [second["message_id"]]


def test_a_rejected_task_replays_to_its_department_queue(broker):
    task = envelope("approval_task")
    rejected_by_a_department(broker, task)
    assert cli.main(["dead-letters", "replay", "--all", "--queue", broker["tasks"]]) == 0
    assert json.loads(take(broker["uri"], broker["tasks"])[2]) == task
    assert waiting(broker["uri"]) == 0


def test_a_departments_result_is_replayed_as_that_department(broker):
    """routing trusts only the broker-validated user_id: the replay keeps it."""
    uri = department_amqp_uri(broker["uri"], DEPARTMENT)
    user = pika.URLParameters(uri).credentials.username
    result = envelope("approval_result")
    with pika.BlockingConnection(pika.URLParameters(uri)) as connection:
        connection.channel().basic_publish(
            results_exchange.name,
            result_routing_key(DEPARTMENT),
            json.dumps(result),
            pika.BasicProperties(user_id=user, content_type="application/json"),
        )
    with Connection(broker["uri"]) as connection:  # routing fails on it twice: dead-lettered
        simple = connection.SimpleQueue(results_queue)
        message = simple.get(timeout=5)
        dead_letter(broker["uri"], message, RESULTS_QUEUE, "KeyError: 'x'", "error")
        message.ack()
        simple.close()
    assert cli.main(["dead-letters", "replay", result["message_id"]]) == 0
    method, properties, body = take(broker["uri"], RESULTS_QUEUE)
    assert json.loads(body) == result
    assert properties.user_id == user
    assert method.routing_key == result_routing_key(DEPARTMENT)


def test_what_cannot_be_replayed_stays_and_the_exit_status_says_so(broker, capsys):
    lost = envelope()
    failed_in_our_consumer(broker, lost)
    with Connection(broker["uri"]) as connection:  # its queue is gone since
        Queue(broker["events"]).bind(connection.default_channel).delete()
    assert cli.main(["dead-letters", "replay", lost["message_id"], "no-such-id"]) == 1
    captured = capsys.readouterr()
    assert "not done, left in the queue: nothing takes it" in captured.err
    assert "no-such-id: no such dead letter" in captured.err
    assert waiting(broker["uri"]) == 1
    with DeadLetterQueue(broker["uri"]) as queue, pytest.raises(ReplayFailed):
        walk = queue.walk()
        queue.replay(next(walk))


def test_discard_keeps_the_message_in_a_file(broker, tmp_path):
    gone = envelope()
    failed_in_our_consumer(broker, gone)
    assert cli.main(["dead-letters", "discard", "--all"]) == 2  # not without a file
    unwritable = tmp_path / "no-such-folder" / "kept.jsonl"
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(unwritable)]) == 3
    assert waiting(broker["uri"]) == 1
    kept = tmp_path / "discarded.jsonl"
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(kept)]) == 0
    assert waiting(broker["uri"]) == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # personal data: its owner's alone
    record = json.loads(kept.read_text().splitlines()[0])
    assert record["id"] == gone["message_id"] and record["queue"] == broker["events"]
    assert json.loads(record["body"]["text"]) == gone and record["discarded_at"]


UNDECODABLE_QUEUE = Queue(
    f"it-dl-undecodable-{uuid.uuid4().hex[:6]}", durable=True, queue_arguments=DEAD_LETTER_ARGS
)


class Strict:
    """A boundary consumer like routing's results consumer."""

    name = "it_dl_strict"
    received = []

    @consume_with_sender(UNDECODABLE_QUEUE)
    def handle(self, body, sender):
        self.received.append(body)


def test_a_body_that_cannot_be_decoded_is_dead_lettered_with_the_reason(
    broker, container_factory, nameko_config
):
    """kombu alone would log it and acknowledge it: gone without a trace."""
    container_factory(Strict, nameko_config).start()
    with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
        channel = connection.channel()
        for body in (b"not json at all", json.dumps(envelope()).encode()):
            channel.basic_publish(
                "",
                UNDECODABLE_QUEUE.name,
                body,
                pika.BasicProperties(content_type="application/json", delivery_mode=2),
            )
        channel.basic_publish(
            "",
            UNDECODABLE_QUEUE.name,
            b"<xml/>",
            pika.BasicProperties(content_type="application/xml", delivery_mode=2),
        )
    deadline = time.monotonic() + 10
    while (not Strict.received or waiting(broker["uri"]) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(Strict.received) == 1  # the good one was handled
    letters = look(broker["uri"])
    assert [(letter.queue, letter.body) for letter in letters] == [
        (UNDECODABLE_QUEUE.name, b"not json at all"),
        (UNDECODABLE_QUEUE.name, b"<xml/>"),
    ]
    assert "is not what its content type (application/json) says" in letters[0].reason
    assert letters[1].reason == "content type 'application/xml' is not accepted here (JSON only)"
    with Connection(broker["uri"]) as connection:
        UNDECODABLE_QUEUE.bind(connection.default_channel).delete()


def test_looking_keeps_every_message_in_its_place_and_what_was_recorded(broker):
    """A look takes the queue and puts back confirmed copies in order: nothing is returned
    to the queue (a quorum queue drops a message returned 20 times) and nothing moves."""
    ours, theirs, third = envelope(), envelope("approval_task"), envelope()
    failed_in_our_consumer(broker, ours)
    rejected_by_a_department(broker, theirs)
    failed_in_our_consumer(broker, third)
    looks = [
        [(letter.id, letter.key, letter.queue, letter.reason) for letter in look(broker["uri"])]
        for _ in range(25)
    ]
    assert all(look == looks[0] for look in looks)
    assert [entry[0] for entry in looks[0]] == [
        ours["message_id"],
        theirs["message_id"],
        third["message_id"],
    ]
    assert looks[0][1][2:] == (broker["tasks"], f"the consumer of {broker['tasks']} rejected it")


def test_looking_does_not_count_against_a_quorum_queues_delivery_limit(broker):
    """As deployed (docs/operations.md), the dead-letter queue is a quorum queue: RabbitMQ
    drops a message returned to it more often than its delivery limit (20 by default on
    RabbitMQ 4), and it has nowhere further to dead-letter it."""
    name = f"it-dl-quorum-{uuid.uuid4().hex[:6]}"
    with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
        channel = connection.channel()
        channel.queue_declare(
            name, durable=True, arguments={"x-queue-type": "quorum", "x-delivery-limit": 2}
        )
        channel.confirm_delivery()
        for n in range(3):
            channel.basic_publish(
                "",
                name,
                json.dumps(envelope()),
                pika.BasicProperties(delivery_mode=2, headers={"x-dead-letter-reason": f"r{n}"}),
            )
    try:
        for _ in range(5):
            assert [letter.reason for letter in look(broker["uri"], name)] == ["r0", "r1", "r2"]
    finally:
        with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
            connection.channel().queue_delete(name)


def test_a_forged_sender_header_is_not_believed(broker):
    """Only the broker-validated user_id makes a result a department's: a sender header that
    came with the message is dropped when it is dead-lettered, and never replayed as such."""
    forged = envelope("approval_result")
    with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
        connection.channel().basic_publish(
            results_exchange.name,
            result_routing_key(DEPARTMENT),
            json.dumps(forged),
            pika.BasicProperties(
                content_type="application/json",
                headers={
                    "x-original-user-id": f"department.{DEPARTMENT}",
                    "x-original-queue": broker["events"],
                },
            ),
        )
    with Connection(broker["uri"]) as connection:
        simple = connection.SimpleQueue(results_queue)
        message = simple.get(timeout=5)
        dead_letter(
            broker["uri"], message, RESULTS_QUEUE, "result refused (unauthenticated)", "invalid"
        )
        message.ack()
        simple.close()
    with DeadLetterQueue(broker["uri"]) as queue:
        walk = queue.walk()
        letter = next(walk)
        assert (letter.sender, letter.queue) == (None, RESULTS_QUEUE)
        queue.replay(letter)
    _, properties, _ = take(broker["uri"], RESULTS_QUEUE)
    assert properties.user_id is None and "x-original-user-id" not in properties.headers


def test_a_key_picks_one_copy_where_the_message_id_names_them_all(broker, capsys):
    """The same message dead-lettered twice (its first ack was lost): two copies, one id."""
    twice = envelope()
    failed_in_our_consumer(broker, twice)
    failed_in_our_consumer(broker, twice)
    first, second = look(broker["uri"])
    assert first.id == second.id and first.key != second.key
    assert cli.main(["dead-letters", "replay", second.key]) == 0
    assert "1 done" in capsys.readouterr().out
    assert [letter.key for letter in look(broker["uri"])] == [first.key]
    # keys are stable from one look to the next, also for what RabbitMQ dead-lettered
    rejected_by_a_department(broker, envelope("approval_task"))
    assert [letter.key for letter in look(broker["uri"])] == [
        letter.key for letter in look(broker["uri"])
    ]


def test_an_odd_message_does_not_stop_the_others(broker, tmp_path):
    """A body nested a thousand deep and a header that is not a number: listed, discarded."""
    with pika.BlockingConnection(pika.URLParameters(broker["uri"])) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "approval.dead",
            "x",
            b"[" * 5000,
            pika.BasicProperties(
                headers={
                    "x-replays": "lots",
                    "x-dead-letter-reason": "deep",
                    "x-original-queue": broker["events"],
                }
            ),
        )
    failed_in_our_consumer(broker, envelope())
    assert [letter.reason for letter in look(broker["uri"])][0] == "deep"
    kept = tmp_path / "odd.jsonl"
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(kept)]) == 0
    assert waiting(broker["uri"]) == 0 and len(kept.read_text().splitlines()) == 2
