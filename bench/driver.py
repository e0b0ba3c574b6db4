"""Load generation, the same for every system measured (the mesh, the Celery chord).

A system offers `submit(k)` (returns the application id, blocking until accepted) and
calls `decided(application_id, decided_at)` on the tracker it was given, from its own
listener thread, when the decision is known; `decided_at` is the wall-clock time
(epoch seconds) of the decision as the system recorded it.

Two ways of driving it:
- `saturate`: closed loop, a fixed number of applications in flight, for a fixed time;
  the decisions per second in the measured window (after a warm-up) are the system's
  applications per second at saturation.
- `offer`: open loop, submissions at a fixed rate for a fixed time (bounded count);
  submit-to-decision latency of each application, from the moment its submit started.

Both are bounded in count and time and print progress while they run.
"""

import math
import sys
import threading
import time


def percentile(values, fraction):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Tracker:
    """Submissions and decisions of one phase, matched by application id in either order
    (a decision may be seen before the submit call returned its id)."""

    def __init__(self, on_match=None):
        self.lock = threading.Lock()
        self.submitted = {}  # id -> submit start (wall clock)
        self.decided = {}  # id -> (decided_at wall clock, received monotonic)
        self.matched = 0
        self.matched_at = []  # monotonic receive times of matched decisions
        # the correctness check (issue 16: exactly one decision per application): an event
        # seen again (at-least-once delivery) must carry the same decision
        self.identity = {}  # id -> what the first event decided
        self.repeated = 0  # the same decision again
        self.conflicting = 0  # another decision for an application already decided
        self.on_match = on_match
        self.closed = False

    def submit_done(self, application_id, started_wall):
        with self.lock:
            self.submitted[application_id] = started_wall
            early = application_id in self.decided
        if early:
            self._match(application_id)

    def decided_event(self, application_id, decided_at, identity=None):
        """identity: what was decided (outcome, decided_at), compared when seen again."""
        received = time.monotonic()
        with self.lock:
            if application_id in self.identity:
                if self.identity[application_id] == identity:
                    self.repeated += 1
                else:
                    self.conflicting += 1
            else:
                self.identity[application_id] = identity
            if self.closed or application_id in self.decided:
                return
            self.decided[application_id] = (decided_at, received)
            known = application_id in self.submitted
        if known:
            self._match(application_id)

    def _match(self, application_id):
        with self.lock:
            self.matched += 1
            self.matched_at.append(self.decided[application_id][1])
        if self.on_match:
            self.on_match()

    def latencies(self):
        """Submit-to-decision seconds of every application decided."""
        with self.lock:
            return [
                self.decided[a][0] - started
                for a, started in self.submitted.items()
                if a in self.decided
            ]

    def outstanding(self):
        with self.lock:
            return len([a for a in self.submitted if a not in self.decided])


_last_line = {"at": 0.0}


def _progress(label, started, tracker, extra="", final=False):
    """One line rewritten in place on a terminal; a line every 5 s in a log."""
    elapsed = time.monotonic() - started
    line = (
        f"    {label}: {elapsed:5.1f}s  submitted {len(tracker.submitted):6d}  "
        f"decided {tracker.matched:6d}{extra}"
    )
    if sys.stdout.isatty():
        sys.stdout.write(f"\r{line}   " + ("\n" if final else ""))
    elif final or time.monotonic() - _last_line["at"] >= 5:
        _last_line["at"] = time.monotonic()
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _drain(label, tracker, started, timeout):
    deadline = time.monotonic() + timeout
    while tracker.outstanding() and time.monotonic() < deadline:
        _progress(label, started, tracker, "  (draining)")
        time.sleep(0.5)
    _progress(label, started, tracker, final=True)
    with tracker.lock:
        tracker.closed = True


def saturate(
    system, k, inflight, duration, warmup, threads=8, drain_timeout=60, label="saturation"
):
    """Closed loop: keep `inflight` applications open for `duration` seconds.

    Returns applications per second over [warmup, duration] (decisions seen in that window
    divided by its length), with the counts behind it.
    """
    slots = threading.Semaphore(inflight)
    tracker = Tracker(on_match=slots.release)
    system.listen(tracker)
    started = time.monotonic()
    stop_at = started + duration
    errors = []

    def submitter():
        while time.monotonic() < stop_at:
            if not slots.acquire(timeout=0.2):
                continue
            if time.monotonic() >= stop_at:
                slots.release()
                return
            wall = time.time()
            try:
                tracker.submit_done(system.submit(k), wall)
            except Exception as exc:  # counted and shown; the run goes on
                errors.append(repr(exc))
                slots.release()
                time.sleep(0.1)

    workers = [threading.Thread(target=submitter, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        _progress(label, started, tracker)
        time.sleep(1)
    window_start, window_end = started + warmup, started + duration
    with tracker.lock:
        in_window = sum(1 for t in tracker.matched_at if window_start <= t <= window_end)
    _drain(label, tracker, started, drain_timeout)
    rate = in_window / (duration - warmup)
    return {
        "apps_per_second": round(rate, 2),
        "tasks_per_second": round(rate * k, 1),
        "inflight": inflight,
        "duration_s": duration,
        "warmup_s": warmup,
        "submitted": len(tracker.submitted),
        "decided": tracker.matched,
        "undecided": tracker.outstanding(),
        "repeated_decisions": tracker.repeated,
        "conflicting_decisions": tracker.conflicting,
        "submit_errors": len(errors),
        "first_errors": errors[:3],
    }


def offer(
    system, k, rate, duration, threads=16, drain_timeout=60, label="offered", interval_s=None
):
    """Open loop: submit at `rate` per second for `duration` seconds; latencies in ms.
    interval_s: also p50/p99 per interval of submit time (a soak's course)."""
    tracker = Tracker()
    system.listen(tracker)
    total = max(1, int(rate * duration))
    started = time.monotonic()
    next_index = iter(range(total))
    index_lock = threading.Lock()
    late = []
    errors = []

    def submitter():
        while True:
            with index_lock:
                index = next(next_index, None)
            if index is None:
                return
            due = started + index / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                late.append(-pause)
            wall = time.time()
            try:
                tracker.submit_done(system.submit(k), wall)
            except Exception as exc:
                errors.append(repr(exc))

    workers = [threading.Thread(target=submitter, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while any(w.is_alive() for w in workers):
        _progress(label, started, tracker, f"  offered {rate:.1f}/s")
        time.sleep(1)
    send_seconds = time.monotonic() - started
    _drain(label, tracker, started, drain_timeout)
    latencies = [1000 * s for s in tracker.latencies()]
    course = []
    if interval_s:
        first = min(tracker.submitted.values(), default=0)
        buckets = {}
        with tracker.lock:
            for application_id, started_wall in tracker.submitted.items():
                if application_id in tracker.decided:
                    buckets.setdefault(int((started_wall - first) // interval_s), []).append(
                        1000 * (tracker.decided[application_id][0] - started_wall)
                    )
        course = [
            {
                "from_s": index * interval_s,
                "decided": len(values),
                "p50_ms": _round(percentile(values, 0.5)),
                "p99_ms": _round(percentile(values, 0.99)),
            }
            for index, values in sorted(buckets.items())
        ]
    return {
        "offered_per_second": round(rate, 2),
        "duration_s": duration,
        "course": course,
        "achieved_submit_per_second": round(len(tracker.submitted) / send_seconds, 2),
        "submitted": len(tracker.submitted),
        "decided": len(latencies),
        "undecided": tracker.outstanding(),
        "repeated_decisions": tracker.repeated,
        "conflicting_decisions": tracker.conflicting,
        "submit_errors": len(errors),
        "first_errors": errors[:3],
        "late_submits": sum(1 for s in late if s > 0.05),
        "p50_ms": _round(percentile(latencies, 0.50)),
        "p95_ms": _round(percentile(latencies, 0.95)),
        "p99_ms": _round(percentile(latencies, 0.99)),
        "max_ms": _round(max(latencies) if latencies else None),
    }


def _round(value):
    return None if value is None else round(value, 1)
