"""Good/bad reviews and the rectification of bad ones, as pure functions: no nameko, no pymongo.

Follows the national good/bad review practice (State Council General Office,
2019 No. 51): five levels; the applicant reviews the application as a whole and
each department; a bad review (dissatisfied, very dissatisfied) is followed by a
return visit and a rectification, each due within a limit in working days, and
the applicant confirms or disputes the result.

Time is always passed in (`now`); working days come from a calendar object with
`add_working_days(start, days)` (onestop.common.working_days.WorkingCalendar). A refusal is
one of onestop.common.errors (Invalid, NotAllowed, Unknown, Conflicting), mapped to its HTTP
status in one table (onestop.common.http); a change returns the new document and the events
it publishes, as (event type, body) pairs, for the caller to store with it.
"""

import copy
import hashlib
from datetime import datetime

from onestop.common.errors import Conflicting, Invalid, NotAllowed, Unknown
from onestop.common.scopes import region_covers
from onestop.contracts.events import (
    RECTIFICATION_CLOSED,
    RECTIFICATION_OPENED,
    RECTIFICATION_OVERDUE,
    REVIEW_SUBMITTED,
)

# best first; the national scale's five levels and their scores
LEVELS = ("very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied")
SCORES = dict(zip(LEVELS, (5, 4, 3, 2, 1)))
GOOD_LEVELS = LEVELS[:3]
BAD_LEVELS = LEVELS[3:]
CHANNELS = ("online", "mobile", "counter", "sms", "hotline")
VISIT_METHODS = ("phone", "in_person", "sms", "online")
REVIEWABLE_STATUSES = ("approved", "rejected", "withdrawn")
# the whole application is served by the government service centre (the one-step window);
# its reviews and cases are addressed to this pseudo-department
SERVICE_CENTER = "service_center"

OPEN_CASE_STATES = ("awaiting_visit", "awaiting_rectification", "awaiting_confirmation")
CASE_STATES = OPEN_CASE_STATES + ("closed",)
LIMIT_KEYS = ("review_window", "follow_up_window", "return_visit", "rectification", "confirmation")
DIMENSIONS = ("department", "item", "scenario")


class Missing(Invalid):
    """Inputs a rule needs that the request left out (each of them: "required")."""

    def __init__(self, message, names):
        super().__init__(message)
        self.names = tuple(names)

    @property
    def fields(self):
        return {name: ["required"] for name in self.names}


def parse(stamp):
    return datetime.fromisoformat(stamp)


def is_bad(level):
    return level in BAD_LEVELS


def review_id(application_id, department):
    """One review per application and target: the id is derived from both."""
    target = department or SERVICE_CENTER
    return "R" + hashlib.sha256(f"{application_id}:{target}".encode()).hexdigest()[:31]


def case_id(application_id, department):
    target = department or SERVICE_CENTER
    return "C" + hashlib.sha256(f"{application_id}:{target}".encode()).hexdigest()[:31]


# -- limits -------------------------------------------------------------------
def limits_for(region, limits):
    """The limits for a region: the default, overridden by its province, city, county, then
    township (an applicant may name a township, nine digits: its county's limits apply too).

    limits: {"default": {...}, "regions": {code: {...}}} (data/feedback/limits.yaml).
    """
    merged = dict(limits["default"])
    if region:
        for code in dict.fromkeys((region[:2] + "0000", region[:4] + "00", region[:6], region)):
            merged.update(limits.get("regions", {}).get(code, {}))
    return merged


def check_limits(limits):
    """Problems in a limits configuration (empty when it is usable)."""
    problems = []
    default = limits.get("default") if isinstance(limits, dict) else None
    if not isinstance(default, dict):
        return ["a 'default' mapping is required"]
    sections = [("default", default)] + [
        (f"regions.{code}", values) for code, values in (limits.get("regions") or {}).items()
    ]
    for name, values in sections:
        if not isinstance(values, dict):
            problems.append(f"{name} must be a mapping")
            continue
        for key, value in values.items():
            if key not in LIMIT_KEYS:
                problems.append(f"{name}.{key} is not one of {', '.join(LIMIT_KEYS)}")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name}.{key} must be a whole number of working days >= 1")
    missing = [k for k in LIMIT_KEYS if k not in default]
    if missing:
        problems.append(f"default lacks {', '.join(missing)}")
    return problems


# -- applications ---------------------------------------------------------------
def decided_application(decided, limits, calendar):
    """What feedback keeps of a decided (or withdrawn) application, with its review window."""
    decided_at = parse(decided["decision"]["decided_at"])
    departments = {}
    for task in decided["tasks"]:
        entry = departments.setdefault(task["department"], {"region": task["region"], "items": []})
        entry["items"].append(task["item_code"])
    window = limits_for(decided["region"], limits)["review_window"]
    review_due = calendar.add_working_days(decided_at, window)
    return {
        "status": decided["decision"]["outcome"],
        "applicant_id": decided["applicant"]["id_number"],
        "scenario": decided["scenario"],
        "region": decided["region"],
        "catalog_version": decided.get("catalog_version"),
        "decided_at": decided_at.isoformat(),
        "departments": departments,
        "review_due": review_due.isoformat(),
        "review_due_ts": review_due.timestamp(),
    }


def check_applicant(application, applicant_id):
    if application.get("applicant_id") != applicant_id:
        # 404, as for an unknown id: someone else's application does not exist for you
        raise Unknown("no decided application with this id is known to reviews")


def check_reviewable(application, applicant_id, department, existing, now):
    """Raise a refusal unless this applicant may review this target of the application now."""
    if application is None:
        raise Unknown("no decided application with this id is known to reviews")
    check_applicant(application, applicant_id)  # before its status: that is not yours to see
    if application.get("status") not in REVIEWABLE_STATUSES:
        raise Conflicting(
            "only a decided or withdrawn application can be reviewed; "
            f"this one is {application.get('status')}"
        )
    if department is not None and department not in application.get("departments", {}):
        raise Invalid(
            f"{department} did not take part in this application; choose "
            f"from {', '.join(sorted(application.get('departments', {})))}",
            field="department",
        )
    if now > parse(application["review_due"]):
        raise Conflicting(f"the review window closed on {application['review_due'][:10]}")
    if existing is not None:
        target = f"department {department}" if department else "the application"
        raise Conflicting(
            f"{target} has already been reviewed; a follow-up review is "
            f"possible at /api/reviews/{existing['_id']}/follow-up"
        )


def new_review(application_id, application, body, limits, calendar, now):
    department = body.get("department")
    target = department or SERVICE_CENTER
    items = application["departments"][department]["items"] if department else []
    region = (
        application["departments"][department]["region"] if department else application["region"]
    )
    follow_up_due = calendar.add_working_days(
        now, limits_for(application["region"], limits)["follow_up_window"]
    )
    return {
        "_id": review_id(application_id, department),
        "application_id": application_id,
        "applicant_id": application["applicant_id"],
        "scenario": application["scenario"],
        "department": department,
        "target": target,
        "items": items,
        "region": region,
        "level": body["level"],
        "score": SCORES[body["level"]],
        "bad": is_bad(body["level"]),
        "channel": body["channel"],
        "comment": body["comment"],
        "tags": body["tags"],
        "created_at": now.isoformat(),
        "follow_up": None,
        "follow_up_due": follow_up_due.isoformat(),
        "case_id": None,
        "case_pending": is_bad(body["level"]),
    }


def check_follow_up(review, applicant_id, now):
    if review is None or review["applicant_id"] != applicant_id:
        # someone else's review is a 404, as for an unknown id (its existence must not leak)
        raise Unknown("no such review")
    if review.get("follow_up"):
        raise Conflicting("this review already has its follow-up; one is allowed")
    if now > parse(review["follow_up_due"]):
        raise Conflicting(f"the follow-up window closed on {review['follow_up_due'][:10]}")


def add_follow_up(review, body, now):
    review = copy.deepcopy(review)
    review["follow_up"] = {
        "level": body["level"],
        "score": SCORES[body["level"]],
        "bad": is_bad(body["level"]),
        "channel": body["channel"],
        "comment": body["comment"],
        "tags": body["tags"],
        "created_at": now.isoformat(),
    }
    if is_bad(body["level"]) and not review.get("case_id"):
        review["case_pending"] = True
    return review


def effective_level(review):
    """The follow-up, when given, is the applicant's latest word and counts in statistics."""
    return (review.get("follow_up") or {}).get("level") or review["level"]


def review_view(review):
    """A review as shown over HTTP (without the applicant's identity)."""
    hidden = ("applicant_id", "case_pending", "outbox", "outbox_pending", "rev", "updated_ts")
    view = {k: v for k, v in review.items() if k not in hidden and k != "_id"}
    view["id"] = review["_id"]
    view["effective_level"] = effective_level(review)
    return view


def review_event(review, now):
    follow_up = review.get("follow_up")
    return {
        "review_id": review["_id"],
        "application_id": review["application_id"],
        "scenario": review["scenario"],
        "department": review["department"],
        "level": follow_up["level"] if follow_up else review["level"],
        "follow_up": bool(follow_up),
        "at": now.isoformat(),
    }


def review_submitted(review, now):
    """The events a stored review (or its follow-up) publishes."""
    return [(REVIEW_SUBMITTED, review_event(review, now))]


def officer_of(principal, application):
    """An officer of an office (department and region) that took part in the application."""
    if principal.role != "officer":
        return False
    taking_part = application.get("departments", {}).get(principal.department)
    return taking_part is not None and taking_part.get("region") == office_region(principal)


def office_region(principal):
    """The region of an officer's office (`<department>.<region>`), else None."""
    return principal.office.rsplit(".", 1)[1] if principal.office else None


def staff_region(principal):
    """The region a supervisor is confined to (their `region` claim, a province, city or
    county and everything in it); None (everywhere) for operators and region-less ones."""
    if principal.role == "supervisor":
        return principal.region
    return None


# -- rectification cases --------------------------------------------------------
def open_case(review, limits, calendar, now):
    """The rectification case a bad review opens, with its deadlines (limits of its region)."""
    region_limits = limits_for(review["region"], limits)
    follow_up = review.get("follow_up") or {}
    return {
        "_id": case_id(review["application_id"], review["department"]),
        "review_id": review["_id"],
        "application_id": review["application_id"],
        "applicant_id": review["applicant_id"],
        "scenario": review["scenario"],
        "department": review["target"],
        "items": review["items"],
        "region": review["region"],
        "level": follow_up.get("level") or review["level"],
        "complaint": {
            "comment": follow_up.get("comment") or review["comment"],
            "tags": follow_up.get("tags") or review["tags"],
        },
        "state": "awaiting_visit",
        "opened_at": now.isoformat(),
        "limits": {k: region_limits[k] for k in ("return_visit", "rectification", "confirmation")},
        "visit_due": calendar.add_working_days(now, region_limits["return_visit"]).isoformat(),
        "rectify_due": calendar.add_working_days(now, region_limits["rectification"]).isoformat(),
        "confirm_due": None,
        "round": 1,
        "visit": None,
        "rectification": None,
        "earlier_rounds": [],
        "confirmation": None,
        "overdue": {},
        "closed_at": None,
    }


def case_event(case, now, deadline=None, due=None):
    return {
        "case_id": case["_id"],
        "application_id": case["application_id"],
        "department": case["department"],
        "region": case["region"],
        "state": case["state"],
        "deadline": deadline,
        "due": due,
        "at": now.isoformat(),
    }


def case_opened(case, now):
    """The events a newly opened case publishes."""
    return [(RECTIFICATION_OPENED, case_event(case, now))]


def step_events(case, now):
    """The events a case step publishes with the changed case: rectification_closed when the
    step closed it."""
    return [(RECTIFICATION_CLOSED, case_event(case, now))] if case["state"] == "closed" else []


def acting_department(principal, body):
    """Who records a case step: an officer for their own office (the token's department and
    region, and the token's name unless the body names the officer); an operator names the
    department and officer (any region)."""
    if principal.role == "officer":
        if body["department"] not in (None, principal.department):
            raise NotAllowed("an officer acts for their own department")
        return dict(
            body,
            department=principal.department,
            office_region=office_region(principal),
            officer=body["officer"] or principal.name or principal.sub,
        )
    missing = [name for name in ("department", "officer") if not body[name]]
    if missing:
        raise Missing("name the department and officer", missing)
    return body


def cases_visible_to(principal, query):
    """A case listing query as the caller may ask it: an office sees its own cases (its
    department in its region; naming another department is refused), a supervisor with a
    region the cases of that region, operators all."""
    if principal.role != "officer":
        return dict(query, region=staff_region(principal), office_region=None)
    if query["department"] not in (None, principal.department):
        raise NotAllowed("an officer sees their own department's cases")
    return dict(
        query, department=principal.department, region=None, office_region=office_region(principal)
    )


def may_see_case(principal, case):
    """Operators, supervisors (of its region, when their token names one), the officers of
    its office and the applicant."""
    if principal.role == "operator":
        return True
    if principal.role == "supervisor":
        return region_covers(principal.region, case.get("region"))
    if principal.role == "officer":
        return principal.department == case["department"] and office_region(principal) == case.get(
            "region"
        )
    return principal.is_applicant(case.get("applicant_id"))


def _require_state(case, *states):
    if case["state"] not in states:
        raise Conflicting(f"the case is {case['state']}; this step needs {' or '.join(states)}")


def check_department(case, body):
    """The case is the acting office's (an operator names the department only)."""
    if case["department"] != body["department"]:
        raise NotAllowed(f"this case belongs to {case['department']}", field="department")
    if body.get("office_region") not in (None, case.get("region")):
        raise NotAllowed(
            f"this case belongs to the office {case['department']}.{case.get('region')}; "
            f"yours is {body['department']}.{body['office_region']}"
        )


def record_visit(case, body, now):
    check_department(case, body)
    _require_state(case, "awaiting_visit")
    case = copy.deepcopy(case)
    case["visit"] = {
        "at": now.isoformat(),
        "officer": body["officer"],
        "method": body["method"],
        "note": body["note"],
        "on_time": now <= parse(case["visit_due"]),
    }
    case["state"] = "awaiting_rectification"
    return case


def record_rectification(case, body, calendar, now):
    check_department(case, body)
    _require_state(case, "awaiting_rectification")
    case = copy.deepcopy(case)
    case["rectification"] = {
        "at": now.isoformat(),
        "officer": body["officer"],
        "measures": body["measures"],
        "on_time": now <= parse(case["rectify_due"]),
    }
    case["state"] = "awaiting_confirmation"
    case["confirm_due"] = calendar.add_working_days(now, case["limits"]["confirmation"]).isoformat()
    return case


def confirm(case, body, now):
    check_applicant(case, body["applicant_id"])
    _require_state(case, "awaiting_confirmation")
    return _closed(
        case, {"answer": "confirmed", "comment": body["comment"], "at": now.isoformat()}, now
    )


def dispute(case, body, calendar, now):
    """The applicant is not satisfied: the rectification starts a new round with a new limit."""
    check_applicant(case, body["applicant_id"])
    _require_state(case, "awaiting_confirmation")
    case = copy.deepcopy(case)
    case["earlier_rounds"] = case["earlier_rounds"] + [
        {
            "round": case["round"],
            "rectification": case["rectification"],
            "disputed": {"at": now.isoformat(), "reason": body["reason"]},
        }
    ]
    case.update(
        state="awaiting_rectification",
        rectification=None,
        confirm_due=None,
        round=case["round"] + 1,
        rectify_due=calendar.add_working_days(now, case["limits"]["rectification"]).isoformat(),
    )
    return case


def close_unanswered(case, now):
    """Awaiting confirmation past its limit: closed, the applicant's silence recorded."""
    if (
        case["state"] != "awaiting_confirmation"
        or not case.get("confirm_due")
        or now <= parse(case["confirm_due"])
    ):
        return None
    return _closed(case, {"answer": "not_answered", "comment": "", "at": now.isoformat()}, now)


def _closed(case, confirmation, now):
    case = copy.deepcopy(case)
    case.update(state="closed", confirmation=confirmation, closed_at=now.isoformat())
    return case


def deadline_key(case, deadline):
    if deadline == "rectification" and case["round"] > 1:
        return f"rectification#{case['round']}"
    return deadline


def overdue_now(case, now):
    """The deadlines this case is past without the step done: return_visit, rectification."""
    passed = []
    if case["state"] == "awaiting_visit" and now > parse(case["visit_due"]):
        passed.append("return_visit")
    if case["state"] in ("awaiting_visit", "awaiting_rectification") and now > parse(
        case["rectify_due"]
    ):
        passed.append("rectification")
    return passed


def newly_overdue(case, now):
    """The deadlines this case has just passed and not yet been published for:
    [(key, deadline, due)]; a new rectification round has a deadline of its own."""
    dues = {"return_visit": case["visit_due"], "rectification": case["rectify_due"]}
    found = [
        (deadline_key(case, deadline), deadline, dues[deadline])
        for deadline in overdue_now(case, now)
    ]
    return [f for f in found if f[0] not in case.get("overdue", {})]


def mark_overdue(case, found, now):
    case = copy.deepcopy(case)
    case["overdue"] = dict(
        case.get("overdue") or {}, **{key: now.isoformat() for key, _, _ in found}
    )
    return case


def supervision(case, now):
    """What supervision does to an open case now: (the changed case, its events), or None.
    Past its confirmation limit it is closed as not answered; else each deadline it has
    just passed is marked and published once (rectification_overdue)."""
    closed = close_unanswered(case, now)
    if closed is not None:
        return closed, step_events(closed, now)
    found = newly_overdue(case, now)
    if not found:
        return None
    marked = mark_overdue(case, found, now)
    return marked, [
        (RECTIFICATION_OVERDUE, case_event(marked, now, deadline, due))
        for _, deadline, due in found
    ]


def case_view(case, now):
    hidden = ("applicant_id", "outbox", "outbox_pending", "rev", "updated_ts")
    view = {k: v for k, v in case.items() if k not in hidden and k != "_id"}
    view.update(id=case["_id"], overdue_now=overdue_now(case, now))
    return view


def case_list(cases, overdue, now):
    """Views of listed cases; `overdue` True or False keeps those overdue now or not."""
    views = [case_view(case, now) for case in cases]
    if overdue is not None:
        views = [v for v in views if bool(v["overdue_now"]) is overdue]
    return views


# -- statistics -------------------------------------------------------------------
def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


CASE_COUNTS = (
    "cases",
    "closed",
    "overdue",
    "visits_on_time",
    "visits_late",
    "rectifications_on_time",
    "rectifications_late",
)


def _timeliness(case, now, step, deadline):
    """(on time, late) of one case's step: done by its due date, or done late / overdue now."""
    done = case.get(step)
    if done:
        return (1, 0) if done["on_time"] else (0, 1)
    return (0, 1) if deadline in overdue_now(case, now) else (0, 0)


def case_counts(case, now):
    """What one case counts for in the statistics now (CASE_COUNTS): itself, closed, open
    and past a deadline, and the timeliness of its return visit and rectification."""
    visit_on_time, visit_late = _timeliness(case, now, "visit", "return_visit")
    fix_on_time, fix_late = _timeliness(case, now, "rectification", "rectification")
    closed = case["state"] == "closed"
    return {
        "cases": 1,
        "closed": int(closed),
        "overdue": int(not closed and bool(overdue_now(case, now))),
        "visits_on_time": visit_on_time,
        "visits_late": visit_late,
        "rectifications_on_time": fix_on_time,
        "rectifications_late": fix_late,
    }


def _subjects(application, dimension):
    """The keys one decided application is counted under, with the review target of each."""
    if dimension == "scenario":
        return [(application["scenario"], SERVICE_CENTER)]
    departments = application.get("departments", {})
    if dimension == "department":
        return [(SERVICE_CENTER, SERVICE_CENTER)] + [(d, d) for d in departments]
    return [(item, d) for d, entry in departments.items() for item in entry["items"]]


def subjects(application, dimension):
    """The (key, review target) pairs a decided application is counted under."""
    return _subjects(application, dimension)


def review_keys(review, dimension):
    return _review_keys(review, dimension)


def case_keys(case, dimension):
    return _case_keys(case, dimension)


def _review_keys(review, dimension):
    if dimension == "scenario":
        return [review["scenario"]] if review["target"] == SERVICE_CENTER else []
    if dimension == "department":
        return [review["target"]]
    return list(review["items"])


def _case_keys(case, dimension):
    if dimension == "scenario":
        return [case["scenario"]]
    if dimension == "department":
        return [case["department"]]
    return list(case["items"])


def statistics(applications, reviews, cases, dimension, now):
    """Per key of the dimension: how decided applications were reviewed (the five levels,
    good-review rate, active-review rate, reviewed / awaiting / not reviewed within the
    window) and how bad reviews were rectified (rate and timeliness).

    department: reviews of each department, and the whole application under
    `service_center`; item: department reviews, counted for each item the department
    handled; scenario: reviews of the whole application. An application without a review
    when its window closes is `not_reviewed`, never counted as good.
    """
    reviewed_targets = {(r["application_id"], r["target"]) for r in reviews}
    groups = {}

    def group(key):
        return groups.setdefault(
            key,
            {
                "key": key,
                "applications": 0,
                "reviewed": 0,
                "awaiting_review": 0,
                "not_reviewed": 0,
                "levels": {level: 0 for level in LEVELS},
                "counts": dict.fromkeys(CASE_COUNTS, 0),
            },
        )

    for application in applications:
        if application.get("status") not in REVIEWABLE_STATUSES:
            continue
        window_open = now <= parse(application["review_due"])
        for key, target in _subjects(application, dimension):
            entry = group(key)
            entry["applications"] += 1
            if (application["_id"], target) in reviewed_targets:
                entry["reviewed"] += 1
            elif window_open:
                entry["awaiting_review"] += 1
            else:
                entry["not_reviewed"] += 1
    for review in reviews:
        for key in _review_keys(review, dimension):
            group(key)["levels"][effective_level(review)] += 1
    for case in cases:
        counts = case_counts(case, now)
        for key in _case_keys(case, dimension):
            entry = group(key)["counts"]
            for name, count in counts.items():
                entry[name] += count
    return [summary(entry) for _, entry in sorted(groups.items())]


def statistics_report(applications, reviews, cases, dimension, key, now):
    """The statistics as GET /api/reviews/stats answers: every group, or the one of `key`."""
    groups = statistics(applications, reviews, cases, dimension, now)
    if key:
        groups = [group for group in groups if group["key"] == key]
    return {
        "by": dimension,
        "as_of": now.isoformat(),
        "levels": list(LEVELS),
        "good_levels": list(GOOD_LEVELS),
        "groups": groups,
    }


def summary(entry):
    """A statistics group from its counts: `key`, applications, reviewed, awaiting_review,
    not_reviewed, `levels` (the five) and `counts` (CASE_COUNTS of its cases)."""
    counts = entry.pop("counts")
    reviews = sum(entry["levels"].values())
    good = sum(entry["levels"][level] for level in GOOD_LEVELS)
    cases, closed = counts["cases"], counts["closed"]
    visit_on_time, visit_late = counts["visits_on_time"], counts["visits_late"]
    fix_on_time, fix_late = counts["rectifications_on_time"], counts["rectifications_late"]
    entry.update(
        reviews=reviews,
        good=good,
        bad=reviews - good,
        good_review_rate=_ratio(good, reviews),
        active_review_rate=_ratio(entry["reviewed"], entry["applications"]),
        rectification={
            "cases": cases,
            "open": cases - closed,
            "closed": closed,
            "rate": _ratio(closed, cases),
            "visits_on_time": visit_on_time,
            "visits_late": visit_late,
            "visit_timeliness": _ratio(visit_on_time, visit_on_time + visit_late),
            "rectifications_on_time": fix_on_time,
            "rectifications_late": fix_late,
            "rectification_timeliness": _ratio(fix_on_time, fix_on_time + fix_late),
        },
    )
    return entry
