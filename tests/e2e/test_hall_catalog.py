"""The hall's catalog through the gateway (issue 17): one service guide for a whole package,
and an item delegated to chosen townships or counties routed to the delegated office there
only, while applicants elsewhere go to the item's own level."""

import pytest

from tests.support.departments import wait_for

TOWNSHIP_ITEM = "HN-MZ-0007"  # 高龄津贴申领: county level, township in 长沙县 and 攸县
COUNTY_ITEM = "HN-YB-0014"  # 长期护理保险待遇申请: city level, county in 浏阳市 and 醴陵市
TASKS = "/api/officer/tasks"


def guide(mesh, code, **params):
    return mesh.get(f"/api/scenarios/{code}/guide", params=params)


def test_one_guide_for_the_whole_package(mesh):
    response = guide(mesh, "marriage", region="430223")
    assert response.status_code == 200, response.text
    package = response.json()
    applied = [i for i in package["items"] if i["applied_for"]]
    assert applied and all(not i["optional"] for i in applied)
    assert package["total_fee"] == sum(i["fee"] for i in applied) == 9  # 结婚证工本费
    assert package["visits"] == 1  # both parties sign at the county hall
    assert package["longest_promised_days"] == max(i["promised_days"] for i in applied)
    codes = [m["code"] for m in package["materials"]]
    assert len(codes) == len(set(codes))  # the union, each material once
    registration = next(i for i in package["items"] if i["code"] == "HN-MZ-0001")
    assert registration["guide"]["fee"] == "结婚证工本费9元/对"
    assert registration["guide"]["where"]["hall"] == "攸县政务服务中心"
    assert registration["guide"]["where"]["window"] == "6号窗口"
    assert registration["guide"]["promised_limit"].endswith("个工作日")
    item = mesh.get("/api/items/HN-MZ-0001").json()
    assert item["guide"]["legal_basis"] == registration["guide"]["legal_basis"]


def test_the_guide_of_a_package_done_online_takes_no_visit_and_names_the_township_hall(client):
    package = client.guide("special_groups", "430121001", [TOWNSHIP_ITEM])
    assert package["optional_items"] == [TOWNSHIP_ITEM]
    assert package["visits"] == 0 and package["total_fee"] == 0
    allowance = next(i for i in package["items"] if i["code"] == TOWNSHIP_ITEM)
    assert allowance["guide"]["where"]["hall"] == "星沙街道便民服务中心"
    assert allowance["guide"]["where"]["delegated"] is True


@pytest.mark.parametrize(
    "params, field",
    [
        ({"region": "430100"}, "region"),  # a city: name the county or the township
        ({"region": "43"}, "region"),
        ({"optional": "HN-XX-0001"}, "optional"),
        ({"version": "zero"}, "version"),
    ],
)
def test_a_bad_guide_request_is_a_400_naming_the_field(mesh, params, field):
    response = guide(mesh, "special_groups", **params)
    assert response.status_code == 400, response.text
    assert field in response.json()["fields"], response.json()


def test_the_guide_of_an_unknown_package_is_a_404(mesh):
    assert guide(mesh, "no_such_package").status_code == 404


def office_of(client, application_id, item_code):
    view = client.wait_for_decision(application_id, timeout=120)
    assert view["status"] == "approved", view
    return next(t for t in view["tasks"] if t["item_code"] == item_code)["office"]


def test_a_delegated_item_goes_to_the_township_only_where_it_is_delegated(client):
    in_township = client.apply("special_groups", region="430121001", optional_items=[TOWNSHIP_ITEM])
    elsewhere = client.apply("special_groups", region="430102", optional_items=[TOWNSHIP_ITEM])
    county_only = client.apply("special_groups", region="430121", optional_items=[TOWNSHIP_ITEM])
    assert office_of(client, in_township, TOWNSHIP_ITEM) == "civil_affairs.430121001"
    assert office_of(client, elsewhere, TOWNSHIP_ITEM) == "civil_affairs.430102"
    assert office_of(client, county_only, TOWNSHIP_ITEM) == "civil_affairs.430121"
    # the package's other county items stay with the county
    assert office_of(client, in_township, "HN-MZ-0003") == "civil_affairs.430121"


def test_a_city_item_delegated_to_chosen_counties(client):
    delegated = client.apply("medical_service", region="430181", optional_items=[COUNTY_ITEM])
    not_delegated = client.apply("medical_service", region="430121", optional_items=[COUNTY_ITEM])
    assert office_of(client, delegated, COUNTY_ITEM) == "medical_security.430181"
    assert office_of(client, not_delegated, COUNTY_ITEM) == "medical_security.430100"


def test_only_the_township_office_sees_and_decides_its_delegated_task(client, mesh):
    application_id = client.apply(
        "special_groups",
        region="430223101",  # 网岭镇, 攸县
        name="Hold civil_affairs",
        optional_items=[TOWNSHIP_ITEM],
    )

    def held():
        tasks = client.application(application_id).json().get("tasks", [])
        task = next((t for t in tasks if t["item_code"] == TOWNSHIP_ITEM), None)
        return task if task and task["state"] == "sent" else None

    task = wait_for(held)
    assert task["office"] == "civil_affairs.430223101"
    township = mesh.as_("officer", "officer-hallcat-1", office="civil_affairs.430223101")
    county = mesh.as_("officer", "officer-hallcat-2", office="civil_affairs.430223")
    listed = mesh.get(TASKS, headers=township).json()["tasks"]
    assert task["task_id"] in {t["task_id"] for t in listed}
    assert task["task_id"] not in {
        t["task_id"] for t in mesh.get(TASKS, headers=county).json()["tasks"]
    }
    refused = mesh.post(
        f"{TASKS}/{task['task_id']}/decision", headers=county, json={"decision": "approved"}
    )
    assert refused.status_code == 404, refused.text
    decided = mesh.post(
        f"{TASKS}/{task['task_id']}/decision", headers=township, json={"decision": "approved"}
    )
    assert decided.status_code == 202, decided.text
