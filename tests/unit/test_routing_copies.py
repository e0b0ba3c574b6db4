"""A domain step never changes the workflow it is given, nor what earlier steps returned.

The caller keeps the workflow it read for the compare-and-set, the store remembers the one
it wrote, and a step's messages share parts of its workflow; a step copies only what it
changes (domain.editable), so these walk every step through an application's life and
compare, after each step, every workflow and message made so far with a deep copy taken
when it was made.
"""

import copy
from datetime import timedelta

from services.routing import domain
from tests.unit.test_routing_acceptance import payment
from tests.unit.test_routing_domain import CALENDAR, NOW, SUBMITTED, correction, plan, result


class Checked:
    """Runs steps; after each, everything made before must be as it was made."""

    def __init__(self):
        self.made = []  # (object, its deep copy when made)

    def keep(self, *objects):
        self.made.extend((made, copy.deepcopy(made)) for made in objects)

    def start(self, *tasks, fee=0.0, acceptance="auto"):
        planned = plan(*tasks)
        planned["tasks"][0]["fee"] = fee
        kept_plan = copy.deepcopy(planned)
        workflow, messages = domain.new_workflow(
            SUBMITTED, planned, NOW, CALENDAR, acceptance=acceptance
        )
        assert planned == kept_plan  # the catalog client keeps the plan for the next one
        self.keep(planned)
        workflow["rev"] = 1
        self.keep(workflow, messages)
        return workflow

    def step(self, function, workflow, *args, **kwargs):
        outcome = function(workflow, *args, **kwargs)
        for made, as_made in self.made:
            assert made == as_made
        if outcome.workflow is not None:
            assert outcome.workflow is not workflow
            outcome.workflow["rev"] = workflow["rev"] + 1  # as the store writes it
        self.keep(outcome.workflow, outcome.messages)
        return outcome


TASKS = (("A", "a", ()), ("B", "b", ()), ("C", "c", ("A",)))


def test_no_step_changes_its_input_through_an_applications_whole_life():
    checked = Checked()
    workflow = checked.start(*TASKS, fee=9.0, acceptance="manual")
    overdue = checked.step(domain.supervise, workflow, NOW + timedelta(days=5))
    assert overdue.kind == "applied" and overdue.workflow["acceptance"]["overdue"]
    accepted = checked.step(
        domain.decide_acceptance, overdue.workflow, NOW, CALENDAR, "accept", "clerk-1"
    ).workflow
    assert accepted["status"] == "in_review"
    waiting = checked.step(
        domain.apply_result, accepted, result("A", "approved"), NOW, CALENDAR, message_id="r1"
    ).workflow
    assert waiting["tasks"]["A"]["state"] == "awaiting_payment"
    paid = checked.step(
        domain.apply_payment, waiting, payment(), NOW + timedelta(days=1), CALENDAR, "p1"
    ).workflow
    assert paid["tasks"]["C"]["state"] == "sent"
    asked = dict(result("B", "correction_required", reason="blurred"), materials=["m1"])
    asking = checked.step(domain.apply_result, paid, asked, NOW, CALENDAR, message_id="r2")
    assert asking.workflow["status"] == "awaiting_correction"
    flagged = checked.step(domain.supervise, asking.workflow, NOW + timedelta(days=9))
    assert flagged.workflow["tasks"]["C"]["overdue"]
    corrected = checked.step(
        domain.apply_correction,
        flagged.workflow,
        correction(["m1"]),
        NOW + timedelta(days=9),
        CALENDAR,
    ).workflow
    assert corrected["tasks"]["B"]["state"] == "sent"
    approved = checked.step(
        domain.apply_result, corrected, result("B", "approved"), NOW, CALENDAR, message_id="r3"
    ).workflow
    again = checked.step(
        domain.apply_result, approved, result("B", "approved"), NOW, CALENDAR, message_id="r3"
    )
    assert again.kind == "duplicate"
    rejected = checked.step(
        domain.apply_result,
        approved,
        result("C", "rejected", reason="no"),
        NOW,
        CALENDAR,
        message_id="r4",
    ).workflow
    assert rejected["status"] == "rejected" and rejected["decision"]["appeal"]
    assert checked.step(domain.withdraw, rejected, NOW).kind == "late"
    assert checked.step(domain.reconcile, rejected, NOW).kind == "duplicate"
    assert checked.step(domain.supervise, rejected, NOW + timedelta(days=30)).kind == "duplicate"


def test_no_step_changes_its_input_on_a_refusal_to_accept():
    checked = Checked()
    workflow = checked.start(*TASKS, acceptance="manual")
    refused = checked.step(
        domain.decide_acceptance, workflow, NOW, CALENDAR, "refuse", "clerk-1", ["incomplete"]
    )
    assert refused.workflow["status"] == "not_accepted"
    again = checked.step(
        domain.decide_acceptance, refused.workflow, NOW, CALENDAR, "refuse", "clerk-2"
    )
    assert again.kind == "duplicate"


def test_no_step_changes_its_input_on_a_withdrawal_and_the_late_results_after_it():
    checked = Checked()
    workflow = checked.start(*TASKS)
    withdrawn = checked.step(domain.withdraw, workflow, NOW).workflow
    assert withdrawn["tasks"]["A"]["state"] == "cancelled"
    late = checked.step(
        domain.apply_result, withdrawn, result("A", "approved"), NOW, CALENDAR, message_id="l1"
    )
    assert late.kind == "late" and late.workflow["tasks"]["A"]["late_results"] == 1


def test_no_step_changes_its_input_when_the_join_is_repaired():
    checked = Checked()
    workflow = checked.start(("A", "a", ()))
    decided = copy.deepcopy(workflow)
    decided["tasks"]["A"]["state"] = "approved"  # as if the decision's write was lost
    checked.keep(decided)
    assert checked.step(domain.reconcile, decided, NOW).workflow["status"] == "approved"
