"""The benchmark's correctness check: an application's decision event seen again must carry
the same decision; another decision for it is counted as a conflict (two decisions)."""

from bench.driver import Tracker


def test_a_repeated_decision_event_is_counted_and_a_different_one_is_a_conflict():
    tracker = Tracker()
    tracker.submit_done("a1", 0.0)
    tracker.decided_event("a1", 1.0, ("approved", "2026-12-03T10:00:00+08:00"))
    tracker.decided_event("a1", 1.5, ("approved", "2026-12-03T10:00:00+08:00"))
    assert (tracker.matched, tracker.repeated, tracker.conflicting) == (1, 1, 0)
    tracker.decided_event("a1", 2.0, ("rejected", "2026-12-03T10:00:01+08:00"))
    assert (tracker.matched, tracker.repeated, tracker.conflicting) == (1, 1, 1)


def test_a_decision_seen_before_its_submit_returned_is_matched_once():
    tracker = Tracker()
    tracker.decided_event("a2", 1.0, ("approved", "t"))
    tracker.submit_done("a2", 0.0)
    assert tracker.matched == 1 and tracker.outstanding() == 0
