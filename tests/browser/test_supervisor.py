"""The supervisor board: overdue tasks by department and region, the review distribution and
the rectification cases, as tables and charts, for the provincial supervisor.

A mesh of its own whose clock the test moves (CLOCK_OFFSET_FILE): a held task becomes
overdue and a bad review's return visit late without waiting for real days to pass."""

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from onestop.client import ENTERPRISE_ID, PERSON_ID
from tests.browser.conftest import sign_in
from tests.support.browser import axe_check, screenshot
from tests.support.mesh import start_clocked_mesh
from tests.support.polling import wait_for

DAY = 86400
SUPERVISOR = "省政务服务监督员"


@pytest.fixture(scope="module")
def mesh(tmp_path_factory):
    running = start_clocked_mesh(tmp_path_factory.mktemp("supervisor-mesh"), "board", 850)
    yield running
    running.stop()


def review(mesh, application_id, applicant, level, comment=""):
    """The applicant's review of the whole application, once feedback knows the decision."""

    def posted():
        response = mesh.post(
            f"/api/applications/{application_id}/reviews",
            json={"level": level, "channel": "online", "comment": comment},
            headers=mesh.as_("applicant", applicant),
        )
        return response.status_code == 201

    wait_for(posted, f"the review of {application_id}")


@pytest.fixture(scope="module")
def board(mesh):
    """Three applications: one approved and praised, one start-up approved and given a very
    bad review (a rectification case), one birth whose health task is held; then the clock
    moves two days past the held task's promised date."""
    client = mesh.client()
    praised = client.apply("birth")
    held = client.apply("birth", name="Hold health")
    startup = client.apply("enterprise_startup")
    for application_id in (praised, startup):
        assert client.wait_for_decision(application_id)["status"] == "approved"
    review(mesh, praised, PERSON_ID, "satisfied")
    review(mesh, startup, ENTERPRISE_ID, "very_dissatisfied", "材料反复提交，太慢了")

    def health_task():
        view = client.application(held).json()
        return next(
            (t for t in view.get("tasks", []) if t["department"] == "health" and t.get("due")),
            None,
        )

    due = datetime.fromisoformat(wait_for(health_task, "the held health task")["due"])
    offset = (due - datetime.now(timezone.utc)).total_seconds() + 2 * DAY
    mesh.clock_file.write_text(str(offset))
    supervisor = mesh.as_("supervisor", region="430000")
    wait_for(
        lambda: mesh.get("/api/supervision/overdue", headers=supervisor).json()["total"] == 1,
        "the held task to be flagged overdue",
    )
    return {"held": held, "startup": startup}


def test_the_supervisor_sees_overdue_work_reviews_and_rectification_as_tables_and_charts(
    page, board
):
    sign_in(page, SUPERVISOR)
    expect(page).to_have_url(re.compile(r"/supervisor$"))
    expect(page.get_by_role("heading", name="监督看板", level=1)).to_be_visible()
    expect(page.get_by_text("监督范围：湖南省（含下辖地区）")).to_be_visible()

    overdue = page.get_by_role("region", name="超期办件")
    expect(overdue.get_by_text("超过承诺办结时限的审批任务共 1 件")).to_be_visible()
    groups = overdue.get_by_role("table", name="超期件数（按部门和地区）")
    expect(groups.get_by_role("row", name="卫生健康委员会 芙蓉区 1")).to_be_visible()
    expect(
        overdue.get_by_role("img", name=re.compile("各部门超期件数柱状图：卫生健康委员会 1"))
    ).to_be_visible()
    tasks = overdue.get_by_role("table", name=re.compile("超期任务明细"))
    held = tasks.get_by_role("row", name=re.compile(board["held"]))
    expect(held).to_contain_text("出生医学证明签发")  # the item's Chinese name
    expect(held).to_contain_text("卫生健康委员会")

    reviews = page.get_by_role("region", name="评价分布（好差评）")
    expect(reviews.get_by_text("共收到评价 2 条，好评率 50%")).to_be_visible()
    levels = reviews.get_by_role("table", name="评价数（按评价等级）")
    expect(levels.get_by_role("row", name="非常不满意 1 50%")).to_be_visible()
    expect(levels.get_by_role("row", name="满意 1 50%", exact=True)).to_be_visible()
    expect(reviews.get_by_role("img", name=re.compile("五级评价分布柱状图"))).to_be_visible()
    expect(
        reviews.get_by_role("row", name=re.compile(r"^政务服务中心（整体办件） \d+ 2 50% 1 1 "))
    ).to_be_visible()

    cases = page.get_by_role("region", name="差评整改")
    expect(cases.get_by_text("差评引发的整改件共 1 件，其中当前超期 1 件")).to_be_visible()
    row = cases.get_by_role("table", name=re.compile("整改件明细")).get_by_role("row").nth(1)
    expect(row).to_contain_text("企业开办一件事")
    expect(row).to_contain_text("材料反复提交，太慢了")
    expect(row).to_contain_text("回访超期")
    expect(cases.get_by_role("img", name=re.compile("整改件状态环形图：待回访 1"))).to_be_visible()

    # the charts are drawn (chart.js sized its canvases), not empty boxes
    assert page.evaluate(
        "[...document.querySelectorAll('canvas')].every(c => c.width > 0 && c.height > 0)"
    )
    assert axe_check(page, "supervisor-board") == []
    screenshot(page, "supervisor-board")


def test_the_board_by_keyboard_only_narrows_to_one_region(page, board):
    """Sign in, reach the region filter and choose a county with the keyboard alone."""
    page.goto("/signin")
    person = page.get_by_role("button", name=re.compile(SUPERVISOR))
    expect(person).to_be_visible()
    for _ in range(40):
        page.keyboard.press("Tab")
        if person.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the supervisor's sign-in button was never reached with Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/supervisor$"))
    expect(page.get_by_text("超过承诺办结时限的审批任务共 1 件")).to_be_visible()

    select = page.get_by_label("按地区查看")
    for _ in range(40):
        page.keyboard.press("Tab")
        if select.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the region filter was never reached with Tab")
    # 长沙市 first, then its districts: 芙蓉区 is the second step down, 天心区 the third
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(select).to_have_value("430103")
    expect(page.get_by_text("超过承诺办结时限的审批任务共 0 件")).to_be_visible()
    expect(page.get_by_text("差评引发的整改件共 0 件，其中当前超期 0 件")).to_be_visible()
    expect(page.get_by_text("共收到评价 0 条，好评率 —")).to_be_visible()
    for _ in range(1):
        page.keyboard.press("ArrowUp")
    expect(select).to_have_value("430102")
    expect(page.get_by_text("超过承诺办结时限的审批任务共 1 件")).to_be_visible()
    assert axe_check(page, "supervisor-board-region") == []


def test_the_board_asks_a_non_supervisor_to_sign_in_as_one(page, board):
    sign_in(page, "李华")
    page.goto("/supervisor")
    expect(page.get_by_role("heading", name="此页面需要监督人员身份登录")).to_be_visible()


def test_the_board_in_english(page, board):
    sign_in(page, SUPERVISOR)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Supervision board", level=1)).to_be_visible()
    overdue = page.get_by_role("region", name="Overdue tasks")
    expect(overdue.get_by_role("row", name="Health Commission 芙蓉区 1")).to_be_visible()
    expect(page.get_by_role("region", name="Review distribution")).to_contain_text(
        "2 review(s); good-review rate 50%"
    )
    assert axe_check(page, "supervisor-board-en") == []
