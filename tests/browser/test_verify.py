"""Anyone checks an e-licence, without signing in: the page a licence's QR code opens
(/verify?license=<id>) and the box where a signed licence document is pasted. The verdict
and what the signature covers, in Chinese."""

import json
import re

import pytest
from playwright.sync_api import expect

from onestop.client import PERSON_ID
from tests.support.browser import axe_check, screenshot


@pytest.fixture(scope="module")
def licences(mesh):
    """The licences of one approved birth application (Li Hua's), the last one revoked."""
    client = mesh.client()
    application_id = client.apply("birth")
    assert client.wait_for_decision(application_id)["status"] == "approved"
    issued = client.wait_for_licenses(PERSON_ID, application_id, 2)
    assert len(issued) >= 2
    revoked = issued[-1]
    response = mesh.post(
        f"/api/licenses/{revoked['id']}/revoke",
        json={"reason": "发证信息有误，已重新签发"},
        headers=mesh.as_("operator"),
    )
    assert response.status_code == 200, response.text
    return {"valid": issued[0], "revoked": revoked}


def test_a_scanned_qr_code_shows_a_valid_licence_and_what_its_signature_covers(page, licences):
    valid = licences["valid"]
    page.goto(f"/verify?license={valid['id']}")
    expect(page.get_by_role("heading", name="电子证照核验", level=1)).to_be_visible()
    verdict = page.get_by_role("region", name="核验结果：有效")
    expect(verdict).to_be_visible()
    expect(verdict.get_by_role("heading", name="签名所覆盖的内容")).to_be_visible()
    facts = verdict.locator("dl")
    expect(facts).to_contain_text(f"证照编号{valid['number']}")
    expect(facts).to_contain_text("证照名称Social Security Card")
    expect(facts).to_contain_text("审批事项社会保障卡申领（HN-RS-0001）")
    expect(facts).to_contain_text("发证机关长沙市 · 人力资源和社会保障厅（局）")
    # personal data masked: the ID number's first three and last two, the name's first
    expect(facts).to_contain_text("证件号码 / 统一社会信用代码430*************34")
    expect(facts).to_contain_text("持证人L*****")
    assert PERSON_ID not in page.content()
    expect(verdict.get_by_text("为保护个人信息")).to_be_visible()
    expect(page.get_by_role("link", name="登录")).to_be_visible()  # nobody signed in
    assert axe_check(page, "verify-valid") == []
    screenshot(page, "verify-valid")


def test_a_revoked_licence_says_revoked_with_the_reason(page, licences):
    page.goto(f"/verify?license={licences['revoked']['id']}")
    verdict = page.get_by_role("region", name="核验结果：已吊销")
    expect(verdict).to_be_visible()
    expect(verdict.get_by_text(re.compile("原因：发证信息有误，已重新签发"))).to_be_visible()
    assert axe_check(page, "verify-revoked") == []


def test_an_unknown_licence_says_so(page):
    page.goto("/verify?license=L" + "0" * 31)
    expect(page.get_by_role("heading", name="未找到该证照")).to_be_visible()


def test_a_tampered_document_pasted_by_keyboard_only_says_forged(page, licences):
    """Keyboard only: Tab to the box, type the document in, Tab to the button, Enter."""
    tampered = dict(licences["valid"], number=licences["valid"]["number"] + "8")
    page.goto("/verify")
    box = page.get_by_label("粘贴电子证照文件内容（JSON）")
    for _ in range(30):
        page.keyboard.press("Tab")
        if box.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("the paste box was never reached with Tab")
    page.keyboard.insert_text("{not json")
    page.keyboard.press("Tab")  # the file chooser
    page.keyboard.press("Tab")  # the button
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text(re.compile("内容不是有效的 JSON 格式"))

    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(json.dumps(tampered, ensure_ascii=False))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    verdict = page.get_by_role("region", name=re.compile("核验结果：签名无效"))
    expect(verdict).to_be_visible()
    expect(verdict.get_by_text("请勿采信")).to_be_visible()
    expect(verdict.get_by_role("heading", name="签名所覆盖的内容")).to_have_count(0)
    assert axe_check(page, "verify-forged") == []

    # the untouched document is valid, and its content is shown as signed
    page.get_by_label("粘贴电子证照文件内容（JSON）").fill(json.dumps(licences["valid"]))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_role("region", name="核验结果：有效")).to_be_visible()


def test_the_check_fits_a_phone_and_speaks_english(phone, licences):
    """A QR code is scanned with a phone: the verdict fits its screen, in either language."""
    phone.goto(f"/verify?license={licences['valid']['id']}")
    expect(phone.get_by_role("region", name="核验结果：有效")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_check(phone, "verify-phone") == []
    screenshot(phone, "verify-phone")
    phone.get_by_role("button", name="English").click()
    verdict = phone.get_by_role("region", name="Result: valid")
    expect(verdict.get_by_role("heading", name="What the signature covers")).to_be_visible()
    expect(verdict.locator("dl")).to_contain_text("Social security card application")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
