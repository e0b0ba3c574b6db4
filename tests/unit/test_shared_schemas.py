"""One marshmallow schema instance per class is shared by every load of a process
(onestop.contracts.envelope.schema_instance): a load must answer as a fresh instance
would, whatever other loads, good or bad, went before or run beside it."""

import threading

from onestop.contracts import messages as contract
from onestop.contracts.envelope import (
    InvalidMessage,
    make_envelope,
    open_envelope,
    schema_instance,
)
from onestop.contracts.events import APPLICATION_SUBMITTED, ApplicationSubmittedSchema, load_event

RESULT = {
    "task_id": "app1:A",
    "application_id": "app1",
    "department": "a",
    "decision": "approved",
    "data": {"reference_number": "R-1"},
}
SUBMITTED = {
    "application_id": "app1",
    "scenario": "s",
    "catalog_version": 3,
    "applicant": {"kind": "person", "id_number": "430102199001011234", "name": "A"},
    "region": "430102",
    "channel": "online",
    "form": {},
    "materials": [{"code": "m1", "file_id": "f" * 32}],
    "submitted_at": "2026-11-26T09:00:00+00:00",
}


def opened(payload):
    try:
        return open_envelope(
            make_envelope(contract.RESULT, "app1", payload, message_id="m1", time="t"),
            {contract.RESULT},
            contract.PAYLOAD_SCHEMAS,
        )
    except InvalidMessage as exc:
        return str(exc)


def submitted(payload):
    try:
        return load_event(ApplicationSubmittedSchema, payload, APPLICATION_SUBMITTED)
    except InvalidMessage as exc:
        return str(exc)


CASES = [
    (opened, RESULT),
    (opened, dict(RESULT, decision="maybe")),
    (opened, dict(RESULT, payment={"amount": 9.0, "receipt_number": "P-1"})),
    (opened, dict(RESULT, payment={"amount": -1})),
    (opened, {k: v for k, v in RESULT.items() if k != "task_id"}),
    (submitted, SUBMITTED),
    (submitted, dict(SUBMITTED, applicant={"kind": "person"})),
    (submitted, dict(SUBMITTED, materials=[{"file_id": "f"}])),
]


def expected():
    """What each case gives on a fresh cache (so on fresh instances), in order."""
    schema_instance.cache_clear()
    answers = []
    for load, payload in CASES:
        answers.append(load(payload))
        schema_instance.cache_clear()
    return answers


def test_one_instance_per_schema_class():
    assert schema_instance(ApplicationSubmittedSchema) is schema_instance(
        ApplicationSubmittedSchema
    )


def test_a_shared_instance_answers_as_a_fresh_one_after_any_other_load():
    fresh = expected()
    for order in (range(len(CASES)), reversed(range(len(CASES)))):
        for index in order:
            load, payload = CASES[index]
            assert load(payload) == fresh[index]


def test_a_shared_instance_answers_as_a_fresh_one_beside_other_loads(threads=8):
    fresh = expected()
    wrong = []

    def loads(offset):
        for round_ in range(200):
            index = (offset + round_) % len(CASES)
            load, payload = CASES[index]
            answer = load(payload)
            if answer != fresh[index]:
                wrong.append((index, answer))

    running = [threading.Thread(target=loads, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert wrong == []
