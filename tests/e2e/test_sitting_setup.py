"""In Chromium: the exam admin sets up a sitting through the screens, with its timing policy, and imports its
registration list (a file with errors first, refused with every problem by row; then a good one)."""

import pytest
from playwright.sync_api import expect

from server.sittings.models import Registrant
from tests.conftest import staff_login
from tests.helpers import resident_id, stored

pytestmark = pytest.mark.browser

NAME = "2026年12月 污水处理工（四级/中级工）理论知识考试 第2场"


def registration_list(rows: list[tuple[str, str]]) -> dict:
    lines = [
        "姓名,证件号码,职业,等级,工作单位",
        *(f"{name},{number},污水处理工,四级,市排水公司" for name, number in rows),
    ]
    return {"name": "报名名单.csv", "mimeType": "text/csv", "buffer": "\n".join(lines).encode("gbk")}


def test_the_exam_admin_sets_up_a_sitting_and_imports_its_registration_list(live_site, browser, artifacts):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()  # a test centre's computer: Chinese, Beijing time
    page.goto(live_site.url + "/admin/")
    staff_login(page, live_site, "kaowu")
    page.click("#tab-sittings")
    page.click("#open-new-sitting")

    # The form comes with the regulations' timing; the admin changes one rule for this sitting.
    expect(page.locator("#policy-entry_before_s")).to_have_value("20")
    expect(page.locator("#policy-late_entry_s")).to_have_value("30")
    expect(page.locator("#policy-warning_s")).to_have_value("15")
    page.fill("#sitting-name", NAME)
    page.fill("#sitting-occupation-name", "污水处理工")
    page.fill("#sitting-start", "2020-01-05T09:00")
    page.fill("#policy-late_entry_s", "20")
    page.click("#create-sitting")
    expect(page.locator("#new-sitting-message")).to_have_text("开考时间应在现在之后。")
    page.fill("#sitting-start", "2099-12-05T09:00")
    page.screenshot(path=artifacts / "admin-4-new-sitting.png", full_page=True)
    page.click("#create-sitting")

    card = page.locator(".sitting", has_text=NAME)
    expect(card.locator(".meta")).to_contain_text("开考时间 2099/12/5 09:00:00")
    expect(card.locator(".policy-lines")).to_contain_text("开考 20 分钟后不得入场")
    expect(card.locator(".registered")).to_have_text("已报名 0 人")

    # A list with a wrong ID number and a repeated one: refused whole, each problem by row.
    zhang, li = resident_id("11010519800101123"), resident_id("32010219920815442")
    wrong = li[:-1] + ("1" if li[-1] == "0" else "0")
    card.locator(".registration-file").set_input_files(
        registration_list([("张建华", zhang), ("李秀英", wrong), ("王磊", zhang)])
    )
    card.locator(".import-registrations").click()
    problems = card.locator(".registration-problems li")
    expect(card.locator(".registration-result")).to_contain_text("发现 2 个问题，未导入任何考生")
    expect(problems.nth(0)).to_contain_text("报名名单.csv 第3行 证件号码：身份证号码校验位不正确")
    expect(problems.nth(1)).to_have_text("报名名单.csv 第4行 证件号码：与第2行的证件号码重复")
    page.screenshot(path=artifacts / "admin-5-registration-problems.png", full_page=True)
    assert stored(live_site.app, Registrant) == []

    card.locator(".registration-file").set_input_files(registration_list([("张建华", zhang), ("李秀英", li)]))
    card.locator(".check-registrations").click()
    expect(card.locator(".registration-result")).to_have_text("检查通过：共 2 名考生，尚未导入。")
    card.locator(".import-registrations").click()
    expect(card.locator(".registration-result")).to_have_text("已导入 2 名考生。")
    expect(card.locator(".registered")).to_have_text("已报名 2 人")
    page.screenshot(path=artifacts / "admin-6-registered.png", full_page=True)
    assert sorted(r.name for r in stored(live_site.app, Registrant)) == ["张建华", "李秀英"]
