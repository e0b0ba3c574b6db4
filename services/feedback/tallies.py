"""The review statistics kept as tallies (docs/adr/0016), as pure functions: no pymongo.

Each decided application, review and case counts for some tallies: one tally per (region,
dimension, key), a few named counts each. A stored document keeps what it counts for as
`tallied` (a list of [region, dimension, key, count name, n]); every store write of the
document recomputes it (`contribution`) and `$inc`s the difference (`difference`), so a
statistics call or a scrape reads tallies (as many as regions x catalog keys), never every
document.

What a document counts for can change with time alone: an application's unreviewed targets
move from awaiting_review to not_reviewed when its review window closes; a case becomes
overdue when a deadline passes. `due_ts` is when that happens next; the sweep re-tallies
documents past it, and a read adds the difference of those the sweep has not reached yet
(`adjusted`), so the numbers are those of `domain.statistics` at any instant.
"""

from datetime import datetime

from services.feedback import domain

APPLICATION_COUNTS = ("applications", "reviewed", "awaiting_review", "not_reviewed")
# rectification cases by state (for the gauge feedback_rectification_cases{state})
CASE_STATE = "case_state"


def _application(application, now):
    if application.get("status") not in domain.REVIEWABLE_STATUSES:
        return []
    region = application.get("region") or ""
    reviewed = set(application.get("reviewed_targets") or ())
    window_open = now <= domain.parse(application["review_due"])
    rows = []
    for dimension in domain.DIMENSIONS:
        for key, target in domain.subjects(application, dimension):
            rows.append([region, dimension, key, "applications", 1])
            if target in reviewed:
                state = "reviewed"
            else:
                state = "awaiting_review" if window_open else "not_reviewed"
            rows.append([region, dimension, key, state, 1])
    return rows


def _review(review, now):
    region, level = review.get("region") or "", domain.effective_level(review)
    return [
        [region, dimension, key, level, 1]
        for dimension in domain.DIMENSIONS
        for key in domain.review_keys(review, dimension)
    ]


def _case(case, now):
    region = case.get("region") or ""
    counts = {name: n for name, n in domain.case_counts(case, now).items() if n}
    rows = [[region, CASE_STATE, case["state"], "cases", 1]]
    for dimension in domain.DIMENSIONS:
        for key in domain.case_keys(case, dimension):
            rows.extend([region, dimension, key, name, n] for name, n in counts.items())
    return rows


_CONTRIBUTIONS = {"applications": _application, "reviews": _review, "cases": _case}


def contribution(collection, doc, now):
    """What a document of `collection` counts for now: [[region, dimension, key, name, n]]."""
    return _CONTRIBUTIONS[collection](doc, now)


def _ts(stamp):
    return datetime.fromisoformat(stamp).timestamp()


def due_ts(collection, doc, now):
    """When what the document counts for next changes with time alone (epoch seconds), or
    None: an application's review window closing while a target is unreviewed; a case's
    return visit or rectification deadline passing while that step is not done."""
    candidates = []
    if collection == "applications":
        if doc.get("status") in domain.REVIEWABLE_STATUSES:
            reviewed = set(doc.get("reviewed_targets") or ())
            targets = {t for d in domain.DIMENSIONS for _, t in domain.subjects(doc, d)}
            if targets - reviewed:
                candidates.append(_ts(doc["review_due"]))
    elif collection == "cases":
        if doc["state"] == "awaiting_visit":
            candidates.append(_ts(doc["visit_due"]))
        if doc["state"] in ("awaiting_visit", "awaiting_rectification"):
            candidates.append(_ts(doc["rectify_due"]))
    future = [ts for ts in candidates if ts >= now.timestamp()]
    return min(future) if future else None


def _summed(rows, sign=1, into=None):
    totals = {} if into is None else into
    for region, dimension, key, name, n in rows:
        counts = totals.setdefault((region, dimension, key), {})
        counts[name] = counts.get(name, 0) + sign * n
    return totals


def difference(old_rows, new_rows):
    """(region, dimension, key) -> {count name: change} from `old_rows` to `new_rows`,
    without the tallies and counts that do not change."""
    totals = _summed(new_rows, 1, _summed(old_rows or [], -1))
    changes = {}
    for tally, counts in totals.items():
        moved = {name: n for name, n in counts.items() if n}
        if moved:
            changes[tally] = moved
    return changes


def adjusted(tallies, collection, docs, now):
    """`tallies` ((region, dimension, key) -> counts) with each of `docs` (past its
    `tally_due_ts`, not re-tallied yet) counted as now instead of as stored."""
    for doc in docs:
        changes = difference(doc.get("tallied"), contribution(collection, doc, now))
        for tally, counts in changes.items():
            entry = tallies.setdefault(tally, {})
            for name, n in counts.items():
                entry[name] = entry.get(name, 0) + n
    return tallies


def groups(tallies, dimension):
    """The statistics groups of `dimension` (as domain.statistics answers them) from
    tallies of any regions: summed over regions, without keys that count nothing."""
    by_key = {}
    for (_, tally_dimension, key), counts in tallies.items():
        if tally_dimension != dimension:
            continue
        entry = by_key.setdefault(key, {})
        for name, n in counts.items():
            entry[name] = entry.get(name, 0) + n
    result = []
    for key, counts in sorted(by_key.items()):
        levels = {level: counts.get(level, 0) for level in domain.LEVELS}
        if not (counts.get("applications") or sum(levels.values()) or counts.get("cases")):
            continue
        entry = {"key": key}
        entry.update({name: counts.get(name, 0) for name in APPLICATION_COUNTS})
        entry["levels"] = levels
        entry["counts"] = {name: counts.get(name, 0) for name in domain.CASE_COUNTS}
        result.append(domain.summary(entry))
    return result


def report(tallies, dimension, key, now):
    """GET /api/reviews/stats from tallies (the same answer as domain.statistics_report)."""
    found = groups(tallies, dimension)
    if key:
        found = [group for group in found if group["key"] == key]
    return {
        "by": dimension,
        "as_of": now.isoformat(),
        "levels": list(domain.LEVELS),
        "good_levels": list(domain.GOOD_LEVELS),
        "groups": found,
    }


def cases_by_state(tallies):
    counts = {}
    for (_, dimension, state), tally in tallies.items():
        if dimension == CASE_STATE:
            counts[state] = counts.get(state, 0) + tally.get("cases", 0)
    return {state: count for state, count in counts.items() if count}


def cases_by_department(tallies):
    """department -> (open cases, open cases past a deadline now)."""
    found = {}
    for (_, dimension, department), tally in tallies.items():
        if dimension == "department" and tally.get("cases"):
            opened = tally.get("cases", 0) - tally.get("closed", 0)
            if opened:
                found[department] = (opened, tally.get("overdue", 0))
    return found
