"""The window clerk applies for the person at the counter and prints the receipt."""

import re

from playwright.sync_api import expect

from onestop.client import PERSON_ID, SAMPLE_PDF
from tests.browser.conftest import sign_in
from tests.browser.keyboard import tab_to
from tests.support.browser import axe_check, screenshot

CLERK = "芙蓉区政务服务中心窗口"
BIRTH_MATERIALS = ["父母双方居民身份证", "医疗机构分娩记录", "居民户口簿", "新生儿数码照片"]


def test_the_clerk_applies_for_a_person_and_prints_the_receipt(page, mesh):
    sign_in(page, CLERK)

    # the catalog's Chinese titles of the form's fields (x-title-zh, x-enum-titles-zh)
    def with_chinese_titles(route):
        scenario = route.fetch().json()
        fields = scenario["form_schema"]["properties"]
        fields["child_name"]["x-title-zh"] = "新生儿姓名"
        fields["child_sex"]["x-enum-titles-zh"] = ["女", "男"]
        route.fulfill(json=scenario)

    page.route("**/api/scenarios/birth", with_chinese_titles)
    page.goto("/counter")
    expect(page.get_by_role("heading", name="窗口受理", exact=True)).to_be_visible()
    # the package found in the applicant's own words, or chosen from the list
    page.get_by_label("或按群众说的话查找").fill("生孩子")
    page.get_by_role("button", name="查找", exact=True).click()
    page.get_by_role("button", name="受理：出生一件事").click()
    expect(page.get_by_role("heading", name="受理：出生一件事")).to_be_visible()
    page.get_by_role("button", name="更换事项").click()
    page.get_by_label("一件事", exact=True).select_option(label="出生一件事")
    page.get_by_role("button", name="开始受理").click()
    expect(page.get_by_role("heading", name="受理：出生一件事")).to_be_visible()

    # nothing filled: every missing entry says so, in Chinese, next to it
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert")).to_contain_text("还有内容未填写或填写有误")
    expect(page.get_by_text("请填写申请人姓名或名称")).to_be_visible()
    expect(page.get_by_text("请填写 18 位居民身份证号码（最后一位可为 X）")).to_be_visible()
    expect(page.get_by_text("此项为必填项").first).to_be_visible()
    expect(page.get_by_text("请上传此项材料")).to_have_count(len(BIRTH_MATERIALS))

    page.get_by_label("申请人姓名").fill("李华")
    page.get_by_label("居民身份证号码").fill(PERSON_ID)
    expect(page.get_by_label("申请人所在区县（行政区划代码）")).to_have_value("430102")
    page.get_by_label("窗口号（选填）").fill("3")
    # the form generated from the package's JSON Schema (rjsf names its fields root_<name>)
    expect(page.get_by_label("新生儿姓名")).to_be_visible()
    expect(page.locator("#root_child_sex option", has_text="女")).to_have_count(1)
    page.locator("#root_child_name").fill("李小华")
    page.locator("#root_child_birth_date").fill("2026-11-20")
    page.locator("#root_child_sex").select_option(index=1)
    page.locator("#root_birth_hospital").fill("湖南省妇幼保健院")
    page.locator("#root_mother_id_number").fill("4301021992")  # too short: the pattern says no
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("#root_mother_id_number__error")).to_contain_text(
        "请输入正确的 18 位居民身份证号码"
    )
    page.locator("#root_mother_id_number").fill("430102199201011228")

    for name in BIRTH_MATERIALS:
        page.get_by_label(name, exact=True).set_input_files(
            {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": SAMPLE_PDF}
        )
    expect(page.get_by_text(re.compile("^已上传：scan.pdf"))).to_have_count(len(BIRTH_MATERIALS))
    expect(page.get_by_text("请上传此项材料")).to_have_count(0)  # messages follow the entries
    expect(page.get_by_text("请填写申请人姓名或名称")).to_have_count(0)

    # the service's own per-field messages (a 400) land next to the fields they name
    def refused(route):
        route.fulfill(
            status=400,
            json={
                "error": "bad_request",
                "message": "validation failed",
                "fields": {
                    "form": {"child_name": ["姓名含有不允许的字符"]},
                    "materials": {"0": {"file_id": ["父母双方居民身份证: no upload of yours"]}},
                },
            },
        )

    page.route("**/api/applications", refused)
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("姓名含有不允许的字符")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("materials.0.file_id")
    page.unroute("**/api/applications", refused)

    # an e-licence the applicant shows instead of a paper: the service checks it (a 400 here)
    photo_licence = page.get_by_label("或：申请人出示的电子证照编号").last
    photo_licence.fill("L" + "0" * 31)
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_role("alert")).to_contain_text("license_id")
    photo_licence.fill("")  # back to the scanned photo
    expect(page.get_by_text(re.compile("^已上传：scan.pdf"))).to_have_count(len(BIRTH_MATERIALS))
    assert axe_check(page, "counter-form") == []
    screenshot(page, "counter-form")

    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/counter/receipt/[0-9a-f]{32}$"))
    application_id = page.url.rsplit("/", 1)[1]

    expect(page.get_by_role("heading", name="受理回执")).to_be_visible()
    expect(page.get_by_text(application_id, exact=True)).to_be_visible()
    expect(page.get_by_text("430*************34")).to_be_visible()  # masked, never whole
    expect(page.get_by_text(PERSON_ID)).to_have_count(0)
    expect(page.locator(".receipt").get_by_text("出生一件事")).to_be_visible()
    expect(page.get_by_text(re.compile(r"12 个工作日"))).to_be_visible()
    qr = page.get_by_role("img", name="查询办理进度的二维码")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/png;base64,")
    assert page.evaluate("(img) => img.naturalWidth", qr.element_handle()) > 100
    link = page.locator("a.follow-up")
    # the QR code and the link open the applicant's own page on the screens
    expect(link).to_have_text(re.compile(rf"^http://[^/]+/applications/{application_id}$"))
    assert axe_check(page, "counter-receipt") == []
    screenshot(page, "counter-receipt")

    # printing: the browser's print, without the site's header, footer and buttons
    page.evaluate("window.print = () => { window.printed = true; }")
    page.get_by_role("button", name="打印回执").click()
    assert page.evaluate("window.printed") is True
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="打印回执")).to_be_hidden()
    expect(qr).to_be_visible()
    page.emulate_media(media="screen")

    # the application is the person's, received at this counter, and listed as the clerk's own
    clerk = mesh.as_("clerk", region="430102")
    view = mesh.get(f"/api/applications/{application_id}", headers=clerk).json()
    assert view["channel"] == "counter" and view["applicant"]["name"] == "李华"
    assert view["counter"]["window"] == "3" and view["counter"]["clerk"] == "clerk-0001"
    page.get_by_role("link", name="受理下一件").click()
    listed = page.get_by_role("link", name=application_id)
    expect(listed).to_be_visible()

    # keyboard only: from the counter's list to the receipt, and print it
    page.evaluate("document.activeElement && document.activeElement.blur()")
    tab_to(page, listed)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="受理回执")).to_be_visible()
    page.evaluate("window.print = () => { window.printed = 'keyboard'; }")
    tab_to(page, page.get_by_role("button", name="打印回执"))
    page.keyboard.press("Enter")
    assert page.evaluate("window.printed") == "keyboard"
