"""Every one of the 26 packages applied for through the running mesh, with every optional item
chosen, so that every item and every department of the catalog is exercised; each department
is answered by the reference consumers."""
import time

import pytest

from onestop.catalog.domain import load_data
from onestop.client import sample_application

DATA = load_data()
CODES = [s["code"] for s in DATA["scenarios"]]


def optional_items(scenario):
    return [i["code"] for i in scenario["items"] if i["optional"]]


@pytest.fixture(scope="module")
def decided(client):
    """All 26 applications submitted first (they run side by side), then their decisions."""
    submitted = {}
    for code in CODES:
        scenario = client.scenario(code)
        submitted[code] = (scenario, client.apply(code, optional_items=optional_items(scenario)))
    return {code: (scenario, client.wait_for_decision(application_id, timeout=300))
            for code, (scenario, application_id) in submitted.items()}


def licences_of(mesh, holder, application_id, expected, timeout=60):
    """The application's licences in the holder's wallet, once they are all issued."""
    deadline = time.monotonic() + timeout
    while True:
        wallet = mesh.get("/api/licenses", params={"holder": holder}).json()["licenses"]
        mine = {lic["item_code"] for lic in wallet if lic["application_id"] == application_id}
        if mine >= expected or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


@pytest.mark.parametrize("code", CODES)
def test_the_package_is_approved_item_by_item_at_the_planned_offices(decided, mesh, code):
    scenario, view = decided[code]

    assert view["status"] == "approved", view
    assert view["catalog_version"] == scenario["catalog_version"]
    tasks = {t["item_code"]: t for t in view["tasks"]}
    assert set(tasks) == {i["code"] for i in scenario["items"]}
    assert {t["state"] for t in tasks.values()} == {"approved"}
    planned = mesh.get(f"/api/scenarios/{code}/plan", params={
        "region": "430102", "optional": ",".join(optional_items(scenario)),
        "version": scenario["catalog_version"]}).json()
    assert {t["item_code"]: t["office"] for t in planned["tasks"]} == \
        {code: task["office"] for code, task in tasks.items()}
    for task in tasks.values():
        for dependency in task["depends_on"]:
            assert tasks[dependency]["decided_at"] <= task["sent_at"], (dependency, task)
    expected = {i["code"] for i in scenario["items"] if i["license_type"]}
    holder = sample_application(scenario, "0" * 32)["applicant"]["id_number"]
    assert licences_of(mesh, holder, view["id"], expected) == expected


def test_every_department_of_the_catalog_decided_tasks(decided):
    answered = {d["department"] for _, view in decided.values()
                for d in view["decision"]["departments"] if d["outcome"] == "approved"}
    assert answered == {d["code"] for d in DATA["departments"]}
    items = {d["item_code"] for _, view in decided.values() for d in view["decision"]["departments"]}
    assert items == {i["code"] for i in DATA["items"]}
