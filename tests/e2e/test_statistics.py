"""Published statistics through the running mesh (issue 18): a batch of applications across
channels (online, mobile, counter) and two counties no other test uses, decided approved,
rejected and withdrawn, one reusing an e-licence, with reviews and a bad review followed to
a closed rectification case. GET /api/statistics (public: no token) must show exactly what
happened, agree with the applications intake stored, and equal the from-scratch recount of
feedback's stores (in-process and through `python -m ops.cli statistics recount`)."""

import json
import subprocess
import sys
import time
import uuid

import pymongo
import pytest

from onestop.client import ENTERPRISE_ID, PERSON_ID, sample_application
from onestop.common.config import db_name
from services.feedback import statistics
from services.feedback.statistics_store import StatisticsStore
from tests.e2e.test_feedback import decided, officer, review
from tests.e2e.test_once_only import body_for, later_scenario
from tests.support.mesh import ROOT
from tests.support.scrape import metric

YUELU, SHAOSHAN = "430104", "430382"  # counties of Changsha and Xiangtan that no other test uses


def stats(mesh, **params):
    response = mesh.get("/api/statistics", params=params)  # no Authorization header
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def mongo(mesh):
    return pymongo.MongoClient(f"mongodb://127.0.0.1:{mesh.port_base + 18}/")


def database(client, mesh, service):
    prefix = mesh.env["MONGO_DB_PREFIX"]
    return client[db_name(service).replace("onestop_", prefix, 1)]


def at_counter(client, mesh, code, region):
    """An application a counter clerk submits for the sample applicant."""
    scenario = client.scenario(code)
    # a clerk of that region's counter, who scans the paper materials there (ADR 0020)
    clerk = mesh.token("clerk", f"clerk-{uuid.uuid4().hex[:6]}", region=region)
    body = sample_application(scenario, client.upload(token=clerk))
    body.update(region=region, channel="counter")
    response = client.submit(body, token=clerk)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def visits_rule(view):
    departments = {t["department"] for t in view["tasks"]}
    return len(departments) if view["channel"] in ("online", "mobile") else len(departments) - 1


@pytest.fixture(scope="module")
def batch(client, mesh):
    """The applications of this module, decided, reviewed and rectified; their views."""
    feedback = mesh.service_url("feedback")
    counters_before = metric(
        feedback, "feedback_statistics_total", figure="submitted", channel="counter"
    )
    startup = decided(client, mesh, region=YUELU)
    reused = client.submit(
        dict(
            body_for(client, later_scenario(client, mesh), without={"business_license"}),
            region=YUELU,
        )
    )
    assert reused.status_code == 202, reused.text
    counter = at_counter(client, mesh, "birth", YUELU)
    mobile = decided(client, mesh, "birth", PERSON_ID, region=SHAOSHAN, channel="mobile")
    rejected = client.apply("birth", name="Reject all", region=SHAOSHAN)
    withdrawn = client.apply("construction_permit", name="Hold all", region=SHAOSHAN)
    response = client.post_as_owner(withdrawn, "withdraw", {"reason": "postponed"})
    assert response.status_code == 202, response.text
    ids = [startup, reused.json()["id"], counter, mobile, rejected, withdrawn]
    views = {i: client.wait_for_decision(i) for i in ids}

    # reviews: the start-up as a whole very satisfied, its tax office very dissatisfied (a
    # case, visited, rectified and confirmed: closed); the mobile birth satisfied
    assert review(mesh, startup, "very_satisfied").status_code == 201
    bad = review(
        mesh, startup, "very_dissatisfied", department="taxation", comment="sent away twice"
    )
    assert bad.status_code == 201, bad.text
    path = f"/api/rectifications/{bad.json()['case_id']}"
    taxation = officer(mesh, "taxation", name="Wang Fang", region=YUELU)
    assert (
        mesh.post(
            path + "/visit", json={"method": "phone", "note": "apologised"}, headers=taxation
        ).status_code
        == 200
    )
    assert (
        mesh.post(path + "/rectify", json={"measures": "one window"}, headers=taxation).status_code
        == 200
    )
    owner = mesh.as_("applicant", ENTERPRISE_ID)
    assert mesh.post(path + "/confirm", json={}, headers=owner).status_code == 200
    assert review(mesh, mobile, "satisfied", applicant=PERSON_ID).status_code == 201
    return {"ids": ids, "views": views, "counters_before": counters_before}


def expected_submissions(views, region):
    mine = [v for v in views.values() if v["region"] == region]
    return {
        "submitted": len(mine),
        "by_channel": {c: sum(v["channel"] == c for v in mine) for c in statistics.CHANNELS},
        "visits_saved": sum(visits_rule(v) for v in mine),
        "materials_saved": sum(
            1 for v in mine for m in v["materials"] if m.get("source") == "e_license"
        ),
        "decided": sum(v["status"] in ("approved", "rejected") for v in mine),
        "approved": sum(v["status"] == "approved" for v in mine),
        "rejected": sum(v["status"] == "rejected" for v in mine),
        "withdrawn": sum(v["status"] == "withdrawn" for v in mine),
    }


def settled(mesh, region, reviews, closed):
    """The region's figures once every event of the batch has been counted."""
    totals = stats(mesh, region=region)["totals"]
    return (
        totals
        if totals["reviews"]["total"] == reviews
        and totals["rectifications_closed"] == closed
        and totals["applications_decided"] + totals["withdrawn"] == totals["applications_submitted"]
        else None
    )


def test_the_published_figures_are_what_happened(mesh, batch):
    views = batch["views"]
    assert {v["status"] for v in views.values()} == {"approved", "rejected", "withdrawn"}
    yuelu = wait_until(lambda: settled(mesh, YUELU, 2, 1), "Yuelu's figures settle")
    want = expected_submissions(views, YUELU)
    assert yuelu["applications_submitted"] == want["submitted"] == 3
    assert yuelu["submitted_by_channel"] == want["by_channel"]
    assert yuelu["share_online"] == round(2 / 3, 4)
    assert yuelu["materials_saved"] == want["materials_saved"] >= 1  # the reused licence
    assert yuelu["visits_saved"] == want["visits_saved"]
    assert (yuelu["applications_decided"], yuelu["approved"]) == (3, 3)
    # the simulated departments answer at once: every decision within its promised date
    assert yuelu["decided_on_time"] == 3 and yuelu["on_time_rate"] == 1.0
    assert yuelu["average_working_days"] in (0.0, 0.33, 0.67, 1.0)  # across midnight at most
    assert yuelu["reviews"]["levels"]["very_satisfied"] == 1
    assert yuelu["reviews"]["levels"]["very_dissatisfied"] == 1
    assert yuelu["reviews"]["good_rate"] == 0.5
    assert (yuelu["rectifications_opened"], yuelu["rectifications_closed"]) == (1, 1)

    shaoshan = wait_until(lambda: settled(mesh, SHAOSHAN, 1, 0), "Shaoshan's figures settle")
    want = expected_submissions(views, SHAOSHAN)
    assert (
        shaoshan["submitted_by_channel"]
        == want["by_channel"]
        == {
            "online": 2,
            "mobile": 1,
            "counter": 0,
        }
    )
    assert (shaoshan["approved"], shaoshan["rejected"], shaoshan["withdrawn"]) == (1, 1, 1)
    assert shaoshan["applications_decided"] == 2 and shaoshan["share_online"] == 1.0
    assert shaoshan["visits_saved"] == want["visits_saved"]
    assert shaoshan["reviews"]["levels"]["satisfied"] == 1

    # by department: the tax office's own review and case; a city adds up its counties
    taxation = stats(mesh, region=YUELU, department="taxation")["totals"]
    assert taxation["reviews"]["levels"]["very_dissatisfied"] == 1
    assert taxation["reviews"]["levels"]["very_satisfied"] == 0  # the whole application's
    assert taxation["rectifications_closed"] == 1
    only_counter = stats(mesh, region=YUELU, channel="counter")["totals"]
    assert only_counter["applications_submitted"] == 1 and only_counter["share_online"] == 0.0
    changsha = stats(mesh, region="430100")["totals"]
    assert changsha["applications_submitted"] >= 3  # other tests apply in Changsha too


def test_the_figures_agree_with_the_applications_intake_stored(mesh, batch):
    wait_until(lambda: settled(mesh, SHAOSHAN, 1, 0), "Shaoshan's figures settle")
    client = mongo(mesh)
    try:
        stored = database(client, mesh, "intake").applications
        for region in (YUELU, SHAOSHAN):
            by_channel = {
                c: stored.count_documents({"region": region, "channel": c})
                for c in statistics.CHANNELS
            }
            assert stats(mesh, region=region)["totals"]["submitted_by_channel"] == by_channel
    finally:
        client.close()


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"region": YUELU},
        {"region": SHAOSHAN, "channel": "online"},
        {"department": "taxation"},
        {"department": "service_center", "region": "430000"},
        {"region": "430100", "channel": "mobile"},
    ],
)
def test_the_published_figures_equal_a_recount_from_the_stores(mesh, batch, query):
    wait_until(lambda: settled(mesh, YUELU, 2, 1), "Yuelu's figures settle")
    client = mongo(mesh)
    try:
        store = StatisticsStore(database(client, mesh, "feedback"))

        def equal():
            recounted = statistics.recount(
                store.all_facts(), store.all_reviews(), store.all_cases()
            )
            everything = dict.fromkeys(("from", "to", "department", "region", "channel"))
            return stats(mesh, **query) == statistics.report(recounted, {**everything, **query})

        # other tests' last events may still be on their way: equal once they are counted
        wait_until(equal, f"GET /api/statistics?{query} equals the recount")
    finally:
        client.close()


def test_the_operators_recount_command_finds_them_equal(mesh, batch):
    wait_until(lambda: settled(mesh, YUELU, 2, 1), "Yuelu's figures settle")

    def recount():
        result = subprocess.run(
            [sys.executable, "-m", "ops.cli", "statistics", "recount", "--json"],
            cwd=ROOT,
            env=mesh.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode in (0, 1), result.stderr
        answer = json.loads(result.stdout)
        return answer if answer["equal"] and result.returncode == 0 else None

    answer = wait_until(recount, "the recount command finds the buckets equal")
    assert answer["buckets"] > 0 and answer["differences"] == []


def test_the_counters_follow_the_figures(mesh, batch):
    wait_until(lambda: settled(mesh, YUELU, 2, 1), "Yuelu's figures settle")
    feedback = mesh.service_url("feedback")
    after = metric(feedback, "feedback_statistics_total", figure="submitted", channel="counter")
    assert after >= batch["counters_before"] + 1
    assert metric(feedback, "feedback_statistics_city_total", figure="decided", city="430300") >= 2
    assert (
        metric(
            feedback,
            "feedback_statistics_department_total",
            figure="submitted",
            department="taxation",
        )
        >= 2
    )


@pytest.mark.parametrize(
    "params, fields",
    [
        ({"month": "2026-13"}, {"month"}),
        ({"month": "2026-03", "to": "2026-04"}, {"month"}),
        ({"from": "2026-05", "to": "2026-01"}, {"from"}),
        ({"department": "no_such_department"}, {"department"}),
        ({"region": "999999", "channel": "online"}, {"region"}),
        ({"region": "43", "channel": "fax"}, {"region", "channel"}),
        ({"region": "439999", "department": "nobody"}, {"region", "department"}),
        ({"applicant": PERSON_ID}, {"applicant"}),
    ],
)
def test_bad_filters_are_400_per_field(mesh, params, fields):
    response = mesh.get("/api/statistics", params=params)
    assert response.status_code == 400, response.text
    assert set(response.json()["fields"]) == fields


def test_the_figures_hold_no_personal_data(mesh, batch):
    text = mesh.get("/api/statistics", params={"region": YUELU}).text
    for personal in (PERSON_ID, ENTERPRISE_ID, "Li Hua", *batch["ids"]):
        assert personal not in text


def test_replayed_events_count_once(mesh, batch):
    """routing's application_decided and intake's application_submitted of a counted
    application, published again as they were: the figures do not move."""
    from nameko.standalone.events import event_dispatcher

    from services.routing.domain import decided_event

    wait_until(lambda: settled(mesh, SHAOSHAN, 1, 0), "Shaoshan's figures settle")
    feedback = mesh.service_url("feedback")
    rejected = batch["ids"][4]
    client = mongo(mesh)
    try:
        workflow = database(client, mesh, "routing").workflows.find_one({"_id": rejected})
        stored = database(client, mesh, "intake").applications.find_one({"_id": rejected})
    finally:
        client.close()
    submitted = {
        k: stored[k]
        for k in (
            "application_id",
            "scenario",
            "catalog_version",
            "applicant",
            "region",
            "channel",
            "form",
            "materials",
            "optional_items",
            "submitted_at",
            "submitted_by",
        )
    }
    before = stats(mesh, region=SHAOSHAN)

    def handled(entrypoint):
        return metric(
            feedback, "feedback_entrypoint_calls_total", entrypoint=entrypoint, outcome="ok"
        )

    calls = {e: handled(e) for e in ("handle_application_decided", "handle_application_submitted")}
    dispatch = event_dispatcher({"AMQP_URI": mesh.amqp_uri})
    dispatch("routing", "application_decided", decided_event(workflow)["body"])
    dispatch("intake", "application_submitted", submitted)
    for entrypoint, count in calls.items():
        wait_until(lambda: handled(entrypoint) >= count + 1, f"{entrypoint} handles the replay")
    assert stats(mesh, region=SHAOSHAN) == before
    assert before["totals"]["rejected"] == 1
