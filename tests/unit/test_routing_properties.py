"""Duplicate and reordered results, driven by hypothesis: whatever the broker's redelivery
does, an application gets the decision its first answers imply, exactly once."""

from hypothesis import given, settings, strategies as st

from tests.unit.test_routing_domain import CALENDAR, NOW, result, start
from services.routing import domain

TASKS = (("A", "a", []), ("B", "b", []), ("C", "c", ["A", "B"]), ("D", "d", ["C"]))
DECISIONS = st.sampled_from(["approved", "approved", "rejected"])


def run(deliveries):
    """Apply (item, decision, message_id) deliveries in order; return the final workflow and
    how many decided events were produced."""
    workflow, _ = start(*TASKS)
    decided_events = 0
    for item, decision, message_id in deliveries:
        outcome = domain.apply_result(
            workflow, result(item, decision), NOW, CALENDAR, message_id=message_id
        )
        if outcome.workflow is not None:
            decided_events += sum(
                1 for m in outcome.messages if m.get("event_type") == "application_decided"
            )
            outcome.workflow["rev"] = workflow["rev"] + 1
            workflow = outcome.workflow
    return workflow, decided_events


@st.composite
def delivery_plans(draw):
    """Each department's one answer, delivered in a random order, some more than once,
    plus answers that arrive before their task was sent and for unknown tasks."""
    answers = {item: draw(DECISIONS) for item, _, _ in TASKS}
    base = [(item, answers[item], f"msg-{item}") for item in answers]
    order = draw(st.permutations(base))
    duplicates = draw(st.lists(st.sampled_from(base), max_size=6))
    noise = draw(st.lists(st.tuples(st.just("Z"), DECISIONS, st.just("msg-Z")), max_size=2))
    mixed = list(order)
    for extra in duplicates + noise:
        mixed.insert(draw(st.integers(0, len(mixed))), extra)
    return answers, mixed


def redeliver_until_quiet(deliveries):
    """A department re-answers a task it answered too early (before it was sent) once the
    task reaches it, as a redelivered task would make it do: repeat the sequence."""
    return deliveries + deliveries + deliveries


@settings(max_examples=150, deadline=None)
@given(delivery_plans())
def test_decision_is_what_the_answers_imply_and_is_made_once(plan):
    answers, deliveries = plan
    workflow, decided_events = run(redeliver_until_quiet(deliveries))
    if "rejected" in (answers["A"], answers["B"]):
        expected = "rejected"
    elif answers["C"] == "rejected" or answers["D"] == "rejected":
        expected = "rejected"
    else:
        expected = "approved"
    assert workflow["status"] == expected
    assert decided_events == 1
    for task in workflow["tasks"].values():
        if task["state"] in ("approved", "rejected"):
            assert task["state"] == answers[task["item_code"]]


@settings(max_examples=100, deadline=None)
@given(delivery_plans(), st.randoms(use_true_random=False))
def test_duplicates_change_nothing(plan, rng):
    _, deliveries = plan
    first, _ = run(redeliver_until_quiet(deliveries))
    doubled = []
    for delivery in redeliver_until_quiet(deliveries):
        doubled.append(delivery)
        if rng.random() < 0.5:
            doubled.append(delivery)
    second, decided_events = run(doubled)
    assert decided_events == 1
    assert {k: t["state"] for k, t in first["tasks"].items()} == {
        k: t["state"] for k, t in second["tasks"].items()
    }
    assert first["decision"]["outcome"] == second["decision"]["outcome"]
