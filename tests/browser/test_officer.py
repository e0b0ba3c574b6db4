"""The health office's officer works through their queue: views a held task's uploaded
material in the page, asks for a correction naming a material of the item's standard list,
approves one task (keyboard only) and rejects another with its reasons."""

import re
import struct
import zlib
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from onestop.client import PERSON_ID, SAMPLE_PDF, sample_application
from tests.browser.conftest import sign_in
from tests.browser.keyboard import tab_to
from tests.support.browser import axe_check, screenshot
from tests.support.polling import wait_for

OFFICER = "芙蓉区卫生健康局审批员"
OFFICE = "health.430102"
HEALTH_ITEM = "HN-WJ-0001"


def png(width=60, height=40):
    """A real (red) PNG image, for the page to show."""
    row = b"\x00" + b"\xc0\x20\x30" * width
    raw = zlib.compress(row * height)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def apply_held(mesh, client, scan, content_type):
    """Apply for a birth as the sample applicant named "Hold health" (the reference health
    department leaves it to the officer), with `scan` as every material; the id."""
    token = client.token_for(PERSON_ID)
    file_id = client.upload(data=scan, filename="scan", content_type=content_type, token=token)
    body = sample_application(client.scenario("birth"), file_id, name="Hold health")
    response = client.submit(body, token=token)
    assert response.status_code == 202, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def held(mesh):
    """Three applications whose health task waits at the Furong health office."""
    client = mesh.client()
    officer = mesh.as_("officer", office=OFFICE)
    # one filed three weeks ago (the mesh's clock moved back for a moment): overdue today
    mesh.clock_file.write_text(str(-21 * 86400))
    try:
        late = apply_held(mesh, client, SAMPLE_PDF, "application/pdf")
        wait_for(
            lambda: (
                late
                in {
                    t["application_id"]
                    for t in mesh.get("/api/officer/tasks", headers=officer).json()["tasks"]
                }
            ),
            "the late task to reach the office",
        )
    finally:
        mesh.clock_file.write_text("0")
    ids = {
        "late": late,
        "correct": apply_held(mesh, client, png(), "image/png"),
        "approve": apply_held(mesh, client, SAMPLE_PDF, "application/pdf"),
        "reject": apply_held(mesh, client, SAMPLE_PDF, "application/pdf"),
    }

    def listed():
        tasks = mesh.get("/api/officer/tasks", headers=officer).json()["tasks"]
        mine = {t["application_id"] for t in tasks}
        return tasks if set(ids.values()) <= mine else None

    wait_for(listed, "the three held health tasks in the office's queue")
    return ids


def task_link(page, application_id):
    return page.get_by_role("link", name=f"（办件 {application_id[:8]}）")


def health_task(mesh, application_id):
    view = mesh.get(f"/api/applications/{application_id}", headers=mesh.as_()).json()
    return view, next(t for t in view["tasks"] if t["item_code"] == HEALTH_ITEM)


def test_the_queue_lists_the_offices_tasks_overdue_first(page, mesh, held):
    sign_in(page, OFFICER)
    page.goto("/officer")
    expect(page.get_by_role("heading", name="审批工作台")).to_be_visible()
    for application_id in held.values():
        expect(task_link(page, application_id)).to_be_visible()
    expect(page.get_by_text("出生医学证明签发").first).to_be_visible()
    expect(page.get_by_text("剩余").first).to_be_visible()  # working days left
    # the late task comes first, marked overdue in working days
    first = page.locator("table.queue tbody tr").first
    expect(first.get_by_role("link")).to_contain_text(held["late"][:8])
    expect(first).to_contain_text("已超期")
    expect(page.get_by_text(re.compile(r"其中 \d+ 件已超期，排在最前"))).to_be_visible()
    # the order on the page: overdue first, then the soonest due (as the API's data says)
    tasks = mesh.get("/api/officer/tasks", headers=mesh.as_("officer", office=OFFICE)).json()
    now = datetime.now(timezone.utc).isoformat()
    expected = sorted(
        tasks["tasks"], key=lambda t: (not (t["due"] and t["due"] < now), t["due"], t["task_id"])
    )
    shown = page.locator("table.queue tbody tr a").all_text_contents()
    assert [s.rsplit("办件 ", 1)[1][:8] for s in shown] == [
        t["application_id"][:8] for t in expected
    ]
    assert axe_check(page, "officer-queue") == []
    screenshot(page, "officer-queue")


def test_the_officer_views_the_material_and_asks_for_a_correction(page, mesh, held):
    application_id = held["correct"]
    sign_in(page, OFFICER)
    page.goto("/officer")
    task_link(page, application_id).click()
    expect(page.get_by_role("heading", name="审批：出生医学证明签发")).to_be_visible()
    expect(page.get_by_text("Hold health")).to_be_visible()
    expect(page.get_by_text("430***********1234")).to_be_visible()  # masked
    expect(page.get_by_text(PERSON_ID)).to_have_count(0)
    expect(page.get_by_text("application accepted (受理)")).to_be_visible()  # the history

    page.get_by_role("button", name="查看").first.click()
    image = page.get_by_role("img", name="材料：父母双方居民身份证")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith("blob:")
    wait_for(lambda: page.evaluate("(img) => img.naturalWidth", image.element_handle()) == 60)

    page.get_by_label("一次性告知补正材料").check()
    # only the item's standard list is offered
    expect(page.get_by_role("checkbox")).to_have_count(2)
    page.get_by_role("button", name="提交审批意见").click()
    expect(page.get_by_text("请至少选择一项需补正的材料")).to_be_visible()
    expect(page.get_by_text("请填写理由")).to_be_visible()
    page.get_by_role("checkbox", name="医疗机构分娩记录").check()
    page.get_by_label("补正说明").fill("分娩记录不清晰，请重新提供")
    expect(page.get_by_text("请填写理由")).to_have_count(0)
    expect(page.get_by_text("请至少选择一项需补正的材料")).to_have_count(0)
    assert axe_check(page, "officer-task") == []
    screenshot(page, "officer-task")
    page.get_by_role("button", name="提交审批意见").click()
    expect(page.get_by_role("status")).to_have_text("已向申请人一次性告知需补正的材料。")

    def asked():
        view, task = health_task(mesh, application_id)
        return task if view["status"] == "awaiting_correction" else None

    task = wait_for(asked, "the correction request to reach the application")
    assert task["requested_materials"] == ["hospital_delivery_record"]
    assert "分娩记录不清晰" in task["reason"]


def test_the_officer_rejects_with_reasons(page, mesh, held):
    application_id = held["reject"]
    sign_in(page, OFFICER)
    page.goto("/officer")
    task_link(page, application_id).click()
    page.get_by_role("button", name="查看").first.click()
    frame = page.locator("iframe[title='材料：父母双方居民身份证']")
    expect(frame).to_be_visible()
    assert frame.get_attribute("src").startswith("blob:")
    page.get_by_label("不予许可", exact=True).check()
    page.get_by_role("button", name="提交审批意见").click()
    expect(page.get_by_text("请填写理由")).to_be_visible()
    page.get_by_label("不予许可的理由").fill("出生医学证明信息与医院记录不符")
    page.get_by_role("button", name="提交审批意见").click()
    expect(page.get_by_role("status")).to_have_text("已提交“不予许可”的审批意见。")
    view = wait_for(
        lambda: (v := health_task(mesh, application_id)[0])["status"] == "rejected" and v,
        "the application to be rejected",
    )
    assert any("医院记录不符" in (t.get("reason") or "") for t in view["tasks"])


def test_the_officer_approves_with_the_keyboard_only(page, mesh, held):
    application_id = held["approve"]
    sign_in(page, OFFICER)
    page.goto("/officer")
    link = task_link(page, application_id)
    expect(link).to_be_visible()
    tab_to(page, link)
    page.keyboard.press("Enter")
    approve = page.get_by_label("准予许可")
    expect(approve).to_be_visible()
    tab_to(page, approve)
    page.keyboard.press("Space")
    expect(approve).to_be_checked()
    tab_to(page, page.get_by_role("button", name="提交审批意见"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("已提交“准予许可”的审批意见。")
    expect(page.get_by_role("heading", name="已提交")).to_be_focused()
    view = wait_for(
        lambda: (v := health_task(mesh, application_id)[0])["status"] == "approved" and v,
        "the application to be approved",
    )
    assert health_task(mesh, application_id)[1]["state"] == "approved"
    assert view["decision"]["outcome"] == "approved"


def test_the_offices_cashier_confirms_a_fee_paid(page, mesh):
    """A marriage registration's civil affairs task waits for its fee (the reference
    department asks "Unpaid civil_affairs" to pay); the office's cashier confirms it."""
    client = mesh.client()
    application_id = client.apply("marriage", name="Unpaid civil_affairs")

    def unpaid():
        view = client.application(application_id).json()
        return next((t for t in view["tasks"] if t["state"] == "awaiting_payment"), None)

    task = wait_for(unpaid, "the task to await its fee")
    # no demo person works at that office: the cashier's token goes where sign-in puts it
    token = mesh.token("officer", "cashier-01", office=task["office"])
    page.goto("/")
    page.evaluate("(token) => sessionStorage.setItem('onestop.token', token)", token)
    page.goto("/officer")
    row = page.locator("table.queue tbody tr", has=task_link(page, application_id))
    expect(row).to_contain_text("待确认缴费")
    task_link(page, application_id).click()
    expect(page.get_by_role("heading", name="确认缴费")).to_be_visible()
    expect(page.get_by_text(f"应缴费用：{task['fee']:g} 元")).to_be_visible()
    assert axe_check(page, "officer-payment") == []
    page.get_by_label("实缴金额（元）").fill("1")
    page.get_by_label("缴费票据号").fill("PAY-WEB-1")
    page.get_by_role("button", name="确认已缴费").click()
    expect(page.get_by_role("alert")).to_contain_text("amount")  # the service: not the fee
    page.get_by_label("实缴金额（元）").fill(f"{task['fee']:g}")
    page.get_by_role("button", name="确认已缴费").click()
    expect(page.get_by_role("status")).to_have_text("已确认缴费。")
    wait_for(
        lambda: (
            next(
                t
                for t in client.application(application_id).json()["tasks"]
                if t["task_id"] == task["task_id"]
            )["state"]
            == "approved"
        ),
        "the paid task to be approved",
    )
