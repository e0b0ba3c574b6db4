"""The applicant, in a real browser against the mesh: find 出生一件事, read the one-time
notice, fill the form generated from the package's JSON Schema (Chinese messages per field),
upload, submit once, follow the progress live to the decision, see the e-licence with its
QR code, review; answer a correction; withdraw (keyboard only); the list, the wallet, the
inbox; the submission on a phone.

The reference departments decide by the applicant's name (README "Try it"): approve at
once by default, `Correct health` asks one correction, `Hold health` leaves the health task
waiting. Form fields are found by their generated ids (`field_<name>`): their labels are the
catalog's titles, in Chinese once the catalog carries them."""

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.support.browser import axe_check, screenshot

PDF = {"name": "材料.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
# the birth package's materials an applicant uploads (the birth certificate comes from the
# package's own first item)
BIRTH_UPLOADS = ["父母双方居民身份证", "医疗机构分娩记录", "居民户口簿", "新生儿数码照片"]
APPLICATION_URL = re.compile(r"/applications/[0-9a-f]{32}$")


def fill_birth_form(page, name, mother_id="430102199201011228"):
    page.get_by_label("申请人姓名").fill(name)
    page.locator("#field_child_name").fill("李小宝")
    page.locator("#field_child_birth_date").fill("2026-11-20")
    page.locator("#field_child_sex").select_option(index=1)
    page.locator("#field_birth_hospital").fill("湖南省妇幼保健院")
    page.locator("#field_mother_id_number").fill(mother_id)


def upload_birth_materials(page):
    for material in BIRTH_UPLOADS:
        page.get_by_label(material, exact=True).set_input_files(files=[PDF])
        expect(page.locator(".material-upload", has_text=material)).to_contain_text("已上传")


def mark_page(page):
    """A mark that a reload would erase: the page must update itself."""
    page.evaluate("window.__still_the_same_page = true")


def assert_not_reloaded(page):
    assert page.evaluate("window.__still_the_same_page === true"), "the page was reloaded"


def status_of(page):
    return page.locator(".status-line")


def apply_for_birth(page, name):
    """Sign in as 李华 beforehand; returns the new application's id."""
    page.goto("/scenarios/birth")
    fill_birth_form(page, name)
    upload_birth_materials(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(APPLICATION_URL)
    return page.url.rsplit("/", 1)[1]


def test_birth_from_search_to_decision_licence_and_review(page):
    sign_in(page, "李华")
    page.goto("/")
    page.get_by_label("用自己的话说说要办的事").fill("生孩子")
    page.keyboard.press("Enter")
    page.locator("ol.results > li").first.get_by_role("link", name="出生一件事").click()
    expect(page).to_have_url(re.compile(r"/scenarios/birth$"))

    # the package and its one-time notice: what to upload, what the package issues itself
    expect(page.get_by_role("heading", name="出生一件事", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="包含的事项（11 项）")).to_be_visible()
    notice = page.locator(
        "section", has=page.get_by_role("heading", name="一次性告知：需要准备的材料")
    )
    for material in BIRTH_UPLOADS:
        expect(notice.locator("li", has_text=material)).to_contain_text("需上传")
    expect(notice.locator("li", has_text="出生医学证明")).to_contain_text("免于提交")
    expect(page.get_by_text("承诺办结时限 12 个工作日")).to_be_visible()
    assert axe_check(page, "scenario") == []
    screenshot(page, "scenario")

    # the form checks itself in the page, under the page's real CSP (no code generation):
    # a missing field and a bad ID number each get a Chinese message at the field, nothing sent
    posted = []
    page.on("request", lambda r: posted.append(r) if r.method == "POST" else None)
    fill_birth_form(page, "李华", mother_id="12345")
    page.locator("#field_birth_hospital").fill("")
    page.get_by_role("button", name="提交申请").click()
    mother = page.locator("#field_mother_id_number")
    expect(page.locator("#field_mother_id_number__error")).to_contain_text(
        "请输入正确的 18 位居民身份证号码"
    )
    expect(page.locator("#field_birth_hospital__error")).to_contain_text("此项为必填项")
    expect(page.locator("#field_child_name__error")).to_have_count(0)
    expect(page.locator("#field_birth_hospital")).to_be_focused()  # the first wrong field
    page.locator("#field_birth_hospital").fill("湖南省妇幼保健院")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#field_birth_hospital__error")).to_have_count(0)
    expect(mother).to_be_focused()
    assert not [r for r in posted if r.url.endswith("/api/applications")]
    # and every material not yet uploaded says so at its own input
    expect(page.locator(".material-upload", has_text="居民户口簿")).to_contain_text("请上传此材料")
    expect(page).to_have_url(re.compile(r"/scenarios/birth$"))
    assert axe_check(page, "scenario-errors") == []

    mother.fill("430102199201011228")
    upload_birth_materials(page)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(APPLICATION_URL)
    mark_page(page)

    # progress to the decision, live
    expect(status_of(page)).to_contain_text("已办结（准予）")
    tasks = page.get_by_role("table", name="每个事项的办理部门、状态和期限")
    expect(tasks.get_by_role("row")).to_have_count(5)  # the header and four items
    health = tasks.get_by_role("row", name=re.compile("出生医学证明签发"))
    expect(health).to_contain_text("卫生健康委员会")
    expect(health).to_contain_text("已准予")
    expect(health).to_contain_text("时限 2 个工作日")
    expect(health).to_contain_text(re.compile(r"截止 2026年\d+月\d+日"))
    expect(page.get_by_role("heading", name="办理结果")).to_be_visible()
    expect(page.get_by_text("受理通知书", exact=True)).to_be_visible()

    # the e-licences, each with a QR code of the public verify page
    licence = page.get_by_role("article", name="出生医学证明")
    expect(licence).to_be_visible()
    qr = licence.get_by_role("img", name=re.compile("出生医学证明.*核验二维码"))
    expect(qr).to_be_visible()
    assert re.search(r"/verify\?license=L[0-9a-f]{31}$", qr.get_attribute("data-qr-text"))
    expect(page.get_by_role("article", name="社会保障卡")).to_be_visible()
    assert_not_reloaded(page)
    assert axe_check(page, "application-decided") == []
    screenshot(page, "application-decided")

    # the review: a bad one must say why, and opens a rectification case
    page.get_by_label("不满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#comment-error")).to_contain_text("请写明原因")
    page.get_by_label("请说明不满意的原因（必填）").fill("材料要求说明不够清楚")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("您的评价：不满意")).to_be_visible()
    expect(page.get_by_text("已转为整改工单，当前进展：等待部门回访")).to_be_visible()
    assert axe_check(page, "application-reviewed") == []


def test_correction_answered_in_the_browser(page):
    sign_in(page, "李华")
    apply_for_birth(page, "Correct health")
    mark_page(page)
    expect(status_of(page)).to_contain_text("待补正材料")
    correction = page.locator(
        "section", has=page.get_by_role("heading", name="请补正材料（一次性告知）")
    )
    expect(correction).to_contain_text("出生医学证明签发")
    expect(correction).to_contain_text("父母双方居民身份证")
    assert axe_check(page, "application-correction") == []
    # submitting without the file: said at the file's input
    correction.get_by_role("button", name="提交补正材料").click()
    expect(correction).to_contain_text("请上传此材料")
    correction.get_by_label("父母双方居民身份证").set_input_files(files=[PDF])
    expect(correction).to_contain_text("已上传")
    correction.get_by_role("button", name="提交补正材料").click()
    expect(status_of(page)).to_contain_text("已办结（准予）")
    expect(page.get_by_role("heading", name="请补正材料（一次性告知）")).to_have_count(0)
    assert_not_reloaded(page)


def _tab_to(page, predicate_js, limit=80):
    """Press Tab until the focused element satisfies `predicate_js` (a JS expression on
    `el`); fails after `limit` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            f"(() => {{ const el = document.activeElement; return !!({predicate_js}); }})()"
        ):
            return
    raise AssertionError(f"Tab never reached {predicate_js}")


def _choose_file_by_keyboard(page, path, attempts=3):
    """Space on the focused file input opens the chooser; the file is chosen there. Under
    load Chromium now and then drops the chooser a key press asked for (the focus still on
    the input, nothing else happened): the person presses Space again, and so does this."""
    for attempt in range(attempts):
        assert page.evaluate("document.activeElement.type") == "file"
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            continue
        chooser.value.set_files(files=[path])
        return


def _date_keys(page):
    """The digits that type 2026-11-20 into Chromium's date field, whose order (month first
    or year first) is the browser's own language's: tried on a field added for it."""
    page.evaluate(
        "() => { const i = document.createElement('input');"
        " i.type = 'date'; i.id = 'probe-date'; document.body.append(i); }"
    )
    probe = page.locator("#probe-date")
    probe.focus()
    page.keyboard.type("11202026")
    keys = "11202026" if probe.input_value() == "2026-11-20" else "20261120"
    page.evaluate("document.getElementById('probe-date').remove()")
    return keys


def test_keyboard_only_apply_and_withdraw(page):
    sign_in(page, "李华")
    page.goto("/scenarios/birth")
    expect(page.get_by_role("heading", name="在线申请")).to_be_visible()
    expect(page.locator("#field__applicant_name")).to_be_visible()
    # the counties arrive after the form first shows and re-render it: type only once every
    # answer the page asked for is in (a person waits for the page to settle too)
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.querySelectorAll('#field__region option').length > 2")
    date_keys = _date_keys(page)
    page.locator("body").focus()

    _tab_to(page, "el.id === 'field__applicant_name'")
    page.keyboard.press("Control+A")
    page.keyboard.type("Hold health")
    page.keyboard.press("Tab")  # the county: 芙蓉区 already chosen
    page.keyboard.press("Tab")
    page.keyboard.type("李小宝")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "field_child_birth_date"
    page.keyboard.type(date_keys)
    expect(page.locator("#field_child_birth_date")).to_have_value("2026-11-20")
    _tab_to(page, "el.id === 'field_child_sex'")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#field_child_sex")).not_to_have_value("")
    _tab_to(page, "el.id === 'field_birth_hospital'")
    page.keyboard.type("湖南省妇幼保健院")
    page.keyboard.press("Tab")
    page.keyboard.type("430102199201011228")
    for material in BIRTH_UPLOADS:
        # the last upload's answer re-renders the list: move on once it has settled
        page.wait_for_load_state("networkidle")
        _tab_to(page, "el.type === 'file'")
        _choose_file_by_keyboard(page, PDF)
        expect(page.locator(".material-upload", has_text=material)).to_contain_text("已上传")
    _tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    expect(page).to_have_url(APPLICATION_URL)
    expect(status_of(page)).to_contain_text("审批中")

    # withdraw, confirmed, with the keyboard
    _tab_to(page, "el.textContent === '撤回申请'")
    page.keyboard.press("Enter")
    expect(page.locator("#withdraw-question")).to_be_focused()
    expect(page.locator("#withdraw-question")).to_contain_text("确定撤回这件申请吗？")
    page.keyboard.press("Tab")
    page.keyboard.type("信息填错了")
    _tab_to(page, "el.textContent === '确认撤回'")
    page.keyboard.press("Enter")
    expect(status_of(page)).to_contain_text("已撤回")
    expect(page.get_by_role("row", name=re.compile("出生医学证明签发"))).to_contain_text("已取消")
    assert axe_check(page, "application-withdrawn") == []


def test_applications_wallet_and_inbox(page, mesh):
    newest = mesh.client().apply("birth", name="李华")
    sign_in(page, "李华")
    page.goto("/applications")
    expect(page.get_by_role("heading", name="我的办件", level=1)).to_be_visible()
    first = page.locator(".application-list > li").first
    expect(first).to_contain_text(newest)
    expect(first.get_by_role("link", name="出生一件事")).to_be_visible()
    expect(first.locator(".status")).to_have_text(re.compile("已提交|受理审查中|审批中|已办结"))
    assert axe_check(page, "applications") == []
    screenshot(page, "applications")
    first.get_by_role("link", name="出生一件事").click()
    expect(page).to_have_url(re.compile(f"/applications/{newest}$"))
    expect(status_of(page)).to_contain_text("已办结（准予）")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的电子证照").click()
    expect(page.get_by_role("heading", name="我的电子证照", level=1)).to_be_visible()
    card = page.get_by_role("article", name="出生医学证明").first
    expect(card.get_by_role("img", name=re.compile("核验二维码"))).to_be_visible()
    expect(card).to_contain_text("有效")
    assert axe_check(page, "licences") == []
    screenshot(page, "licences")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="消息").click()
    expect(page.get_by_role("heading", name="消息", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="未读消息")).to_have_text(
        re.compile(r"未读消息 [1-9]\d* 条")
    )
    first_unread = page.locator(".inbox > li.unread").first
    text = first_unread.locator("p").first.inner_text()
    first_unread.get_by_role("button", name=re.compile("^标为已读")).click()
    marked = page.locator(".inbox > li", has_text=text).first
    expect(marked).to_have_class(re.compile(r"(^|\s)read(\s|$)"))
    expect(marked.get_by_role("button")).to_have_count(0)
    assert axe_check(page, "inbox") == []

    # a package seen again: the birth certificate now held is reused, not asked for
    page.goto("/scenarios/birth")
    page.get_by_label("同时申请“生育津贴支付”").check()
    notice = page.locator(
        "section", has=page.get_by_role("heading", name="一次性告知：需要准备的材料")
    )
    expect(notice.locator("li", has_text="出生医学证明")).to_contain_text("已有电子证照，免于提交")


def test_submit_on_a_phone(phone):
    sign_in(phone, "李华")
    phone.goto("/scenarios/birth")
    expect(phone.get_by_role("heading", name="一次性告知：需要准备的材料")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(phone, "scenario-phone") == []
    fill_birth_form(phone, "李华")
    upload_birth_materials(phone)
    submit = phone.get_by_role("button", name="提交申请")
    submit.tap()
    expect(phone).to_have_url(APPLICATION_URL)
    expect(status_of(phone)).to_contain_text("已办结（准予）")
    expect(phone.get_by_role("img", name=re.compile("核验二维码")).first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(phone, "application-phone") == []
    screenshot(phone, "application-phone")


def test_server_field_errors_and_a_retry_keeps_its_idempotency_key(page):
    """The service's own 400 field messages land at their fields; a failed attempt retried
    as it was keeps its Idempotency-Key (the service answers it once), a changed one does
    not. The first two answers are the service's as they would come (intercepted)."""
    sign_in(page, "李华")
    page.goto("/scenarios/birth")
    fill_birth_form(page, "李华")
    upload_birth_materials(page)
    keys = []
    fake = [
        (
            400,
            {
                "error": "bad_request",
                "message": "validation failed",
                "fields": {"form": {"birth_hospital": ["Not a valid hospital."]}},
            },
        ),
        (503, {"error": "unavailable", "message": "the broker is down"}),
    ]

    def answer(route):
        if route.request.method != "POST":
            return route.continue_()
        keys.append(route.request.headers["idempotency-key"])
        if fake:
            status, body = fake.pop(0)
            return route.fulfill(status=status, json=body)
        return route.continue_()

    page.route("**/api/applications", answer)
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#field_birth_hospital__error")).to_contain_text("填写内容有误")
    expect(page.get_by_role("alert").filter(has_text="提交未成功")).to_be_visible()

    page.locator("#field_birth_hospital").fill("长沙市妇幼保健院")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert").filter(has_text="服务暂时不可用")).to_be_visible()
    page.get_by_role("button", name="重试").click()
    expect(page).to_have_url(APPLICATION_URL)
    assert len(keys) == 3
    assert keys[1] != keys[0], "a changed application is a new attempt"
    assert keys[2] == keys[1], "the retry of the same attempt keeps its key"
