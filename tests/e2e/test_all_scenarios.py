"""Every one of the 26 packages applied for through the running mesh, with every optional item
chosen, so that every item and every department of the catalog is exercised; each department
is answered by the reference consumers. And a delegation loaded while an application is in
flight: the new application follows it, the one in flight keeps its catalog version."""

import shutil
import time

import pytest
import requests
import yaml

from onestop.common.catalog_client import CATALOG_CACHE_SECONDS
from services.catalog.domain import DEFAULT_DATA_DIR, load_data
from onestop.client import sample_application
from tests.support.mesh import PORT_BASE, TEST_VHOST, reset_vhost
from tests.support.processes import ProcessMesh

DATA = load_data()
CODES = [s["code"] for s in DATA["scenarios"]]
# holders of their own, so the licences issued here do not fill other tests' wallets
HOLDERS = {"person": "430223198805050016", "enterprise": "91430223MA4P7Q8R9T"}


def optional_items(scenario):
    return [i["code"] for i in scenario["items"] if i["optional"]]


def apply_for_every_item(client, scenario):
    holder = HOLDERS[scenario["applicant_kinds"][0]]
    own = client.upload(token=client.token_for(holder))  # an upload is its uploader's
    body = sample_application(scenario, own, optional_items=optional_items(scenario))
    body["applicant"]["id_number"] = HOLDERS[body["applicant"]["kind"]]
    assert body["applicant"]["id_number"] == holder
    response = client.submit(body)
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def decided(client):
    """All 26 applications submitted first (they run side by side), then their decisions."""
    submitted = {}
    for code in CODES:
        scenario = client.scenario(code)
        submitted[code] = (scenario, apply_for_every_item(client, scenario))
    return {
        code: (scenario, client.wait_for_decision(application_id, timeout=300))
        for code, (scenario, application_id) in submitted.items()
    }


def licenses_of(mesh, holder, application_id, expected, timeout=60):
    """The application's licences in the holder's wallet, once they are all issued."""
    deadline = time.monotonic() + timeout
    while True:
        wallet = mesh.get(
            "/api/licenses", params={"holder": holder}, headers=mesh.as_("applicant", holder)
        ).json()["licenses"]
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
    planned = mesh.get(
        f"/api/scenarios/{code}/plan",
        params={
            "region": "430102",
            "optional": ",".join(optional_items(scenario)),
            "version": scenario["catalog_version"],
        },
    ).json()
    assert {t["item_code"]: t["office"] for t in planned["tasks"]} == {
        code: task["office"] for code, task in tasks.items()
    }
    for task in tasks.values():
        for dependency in task["depends_on"]:
            assert tasks[dependency]["decided_at"] <= task["sent_at"], (dependency, task)
    expected = {i["code"] for i in scenario["items"] if i["license_type"]}
    holder = HOLDERS[scenario["applicant_kinds"][0]]
    assert licenses_of(mesh, holder, view["id"], expected) == expected


def test_every_department_of_the_catalog_decided_tasks(decided):
    answered = {
        d["department"]
        for _, view in decided.values()
        for d in view["decision"]["departments"]
        if d["outcome"] == "approved"
    }
    assert answered == {d["code"] for d in DATA["departments"]}
    items = {
        d["item_code"] for _, view in decided.values() for d in view["decision"]["departments"]
    }
    assert items == {i["code"] for i in DATA["items"]}


@pytest.fixture
def delegation_mesh(tmp_path_factory):
    mesh = ProcessMesh(
        tmp_path_factory.mktemp("delegation"),
        reset_vhost(f"{TEST_VHOST}_delegation"),
        PORT_BASE + 400,
    ).start()
    yield mesh
    mesh.stop()


def delegated_copy(target, item_code, level):
    shutil.copytree(DEFAULT_DATA_DIR, target)
    for path in (target / "items").glob("*.yaml"):
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in items:
            if item["code"] == item_code:
                item["level"] = level
                path.write_text(
                    yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8"
                )
    return target


def test_a_delegation_applies_to_new_applications_while_in_flight_ones_keep_theirs(
    delegation_mesh, tmp_path
):
    """HN-ZR-0011 moves from province to city while an application waits for departments."""
    mesh, client = delegation_mesh, delegation_mesh.client()
    for consumer in ("departments-nameko", "departments-pika"):
        mesh.kill(consumer)  # nobody answers: the first application stays in flight
    before = client.apply("land_use_approval", region="430223")

    mesh.restart(
        "catalog",
        extra_env={
            "CATALOG_DATA_DIR": str(delegated_copy(tmp_path / "delegated", "HN-ZR-0011", "city"))
        },
    )
    mesh.wait_healthy()
    # intake keeps the catalog's answers about its current version for
    # CATALOG_CACHE_SECONDS (2 s by default, docs/adr/0010): then new applications take it
    time.sleep(CATALOG_CACHE_SECONDS + 0.5)
    after = client.apply("land_use_approval", region="430223")
    for consumer in ("departments-nameko", "departments-pika"):
        mesh.start_process(consumer)
    old, new = (client.wait_for_decision(a, timeout=180) for a in (before, after))

    assert (old["status"], new["status"]) == ("approved", "approved")
    assert (old["catalog_version"], new["catalog_version"]) == (1, 2)
    office = {
        view["id"]: next(t["office"] for t in view["tasks"] if t["item_code"] == "HN-ZR-0011")
        for view in (old, new)
    }
    assert office == {before: "natural_resources.430000", after: "natural_resources.430200"}
    diff = requests.get(f"{mesh.base}/api/catalog/versions/1/diff/2", timeout=30).json()
    assert diff["delegations"] == [{"item": "HN-ZR-0011", "from": "province", "to": "city"}]
