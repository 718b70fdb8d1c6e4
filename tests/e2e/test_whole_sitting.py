"""In Chromium: the exam admin sets up a sitting through the screens — the sitting, its registration list,
the site and chief examiner, a room with its two proctors, the automatic arrangement and a move by hand,
the printouts, the papers assembled ahead — and then the sitting runs: a registered candidate logs in with
the ticket the arrangement gave, the room's proctor confirms and starts, the candidate answers and submits;
the room is closed, the results checked, published (the candidate's result page shows nothing before), and
the signed archive made."""

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from server.exam.models import Attempt, Candidate
from server.sittings import archive
from tests.conftest import staff_login
from tests.helpers import resident_id, stored

pytestmark = pytest.mark.browser

NAME = "2026年12月 污水处理工（四级/中级工）理论知识考试 第3场"


PEOPLE = [
    ("张建华", resident_id("11010519800101123"), "市排水公司"),
    ("李秀英", resident_id("32010219920815442"), "县水务局"),
    ("王磊", resident_id("44030119751130561"), "市排水公司"),
]


def registration_list() -> dict:
    lines = ["姓名,证件号码,职业,等级,工作单位", *(f"{n},{i},污水处理工,四级,{u}" for n, i, u in PEOPLE)]
    return {"name": "第3场报名.csv", "mimeType": "text/csv", "buffer": "\n".join(lines).encode("utf-8")}


def test_a_sitting_set_up_through_the_screens_then_runs(live_site, browser, artifacts):
    server = live_site
    admin = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = admin.new_page()
    page.goto(server.url + "/admin/")
    staff_login(page, server, "kaowu")
    page.click("#tab-sittings")

    # The sitting: starting in 15 minutes (so candidates may already enter), submission allowed at once.
    start = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=15)
    page.click("#open-new-sitting")
    page.fill("#sitting-name", NAME)
    page.fill("#sitting-occupation-name", "污水处理工")
    page.fill("#sitting-start", f"{start:%Y-%m-%dT%H:%M}")
    page.fill("#policy-submit_after_s", "0")
    page.fill("#policy-late_entry_s", "0")  # no late entry: the room may close once its candidate is done
    page.click("#create-sitting")
    card = page.locator(".sitting", has_text=NAME)
    card.locator(".registration-file").set_input_files(registration_list())
    card.locator(".import-registrations").click()
    expect(card.locator(".registered")).to_have_text("已报名 3 人")

    # Rooms and staff: the screen says what is missing until the rules are met.
    card.locator(".open-arrangement").click()
    warnings = page.locator("#arrange-warnings")
    expect(warnings).to_contain_text("尚未设置考场。")
    expect(warnings).to_contain_text("尚未指定本场次的主考。")
    page.fill("#room-name", "第05考场")
    page.fill("#room-location", "实训楼三层 305")
    page.fill("#room-rows", "6")
    expect(page.locator("#room-size")).to_have_text(
        "共 36 个座位：超过每考场 30 人的规定，自动编排只安排前 30 个座位。"
    )
    page.fill("#room-rows", "2")
    page.fill("#room-cols", "3")
    page.select_option("#room-proctor-1", label="王建国（proctor1）")
    page.click("#save-room")
    expect(page.locator("#room-table tbody tr")).to_have_count(1)
    expect(warnings).to_contain_text("第05考场只安排了 1 名监考员，应为两名（主监考、副监考）。")
    page.click("#room-table .edit-room")
    page.select_option("#room-proctor-2", label="李秀兰（proctor2）")
    page.click("#save-room")
    expect(page.locator("#arrange-message")).to_have_text("已保存 第05考场。")
    page.fill("#site-name", "市职业技能鉴定中心考点")
    page.select_option("#site-chief", label="陈志明（chief）")
    page.click("#save-site")
    expect(page.locator("#arrange-ready")).to_have_text("考场、监考员和主考均已安排。")

    # The automatic arrangement keeps the two colleagues of 市排水公司 apart; then one move by hand.
    page.click("#auto-arrange")
    expect(page.locator("#arrange-message")).to_contain_text("已编排 3 名考生；同单位相邻 0 对。")
    expect(page.locator("#arrange-summary")).to_have_text(
        "报名 3 人，已安排座位 3 人，待安排 0 人。 同一工作单位相邻就座：0 对。"
    )
    seats = page.locator(".room-seats .seat.taken")
    expect(seats).to_have_count(3)
    page.locator(".seat.taken", has_text="李秀英").click()
    expect(page.locator("#picked-hint")).to_contain_text("已选中 李秀英")
    page.locator(".seat[data-seat='5']").click()
    expect(page.locator("#arrange-message")).to_contain_text("准考证号已变更，请重新打印：李秀英")
    expect(page.locator(".seat[data-seat='5']")).to_contain_text("李秀英")
    page.screenshot(path=artifacts / "admin-10-arrangement.png", full_page=True)

    # The admission tickets open as a PDF with the ticket the candidate will type.
    [li] = [c for c in stored(server.app, Candidate) if c.name == "李秀英"]
    assert li.seat_no == 5 and li.ticket.endswith("0105")
    pdf = page.request.get(server.url + page.locator("#print-tickets").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")

    # Papers assembled ahead, from the sittings list.
    page.click("#back-to-sittings")
    card.locator(".prepare").click()
    expect(card.locator(".prepared")).to_contain_text("3 份座位试卷")

    # Exam day: the room's proctor watches the new room; the candidate logs in with the arranged ticket.
    proctor = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    proctor.goto(server.url + "/proctor/")
    staff_login(proctor, server, "proctor1")
    proctor.select_option("#room-select", label="第05考场")
    expect(proctor.locator("#count-expected")).to_have_text("3")
    candidate = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    candidate.goto(server.url + "/")
    candidate.fill("#ticket", li.ticket)
    candidate.click("#lookup")
    expect(candidate.locator("td[data-field=name]")).to_have_text("李秀英")
    candidate.click("#confirm-login")
    expect(candidate.locator("#screen-awaiting h1")).to_have_text("请等待监考员核验身份")
    proctor.click(".seat.state-awaiting_confirmation .verify")
    expect(proctor.locator("#verify-dialog td[data-field=ticket]")).to_have_text(li.ticket)
    proctor.click("#confirm-identity")
    proctor.click("#start-room")
    proctor.click("#confirm-start")
    expect(candidate.locator(".question-card")).to_be_visible()
    candidate.locator(".choice").first.click()
    expect(candidate.locator("#save-status")).to_have_text("✓ 所有答案已保存")
    candidate.click("#submit-exam")
    candidate.click("#confirm-submit")
    expect(candidate.locator("#screen-submitted h1")).to_have_text("您已交卷")
    expect(proctor.locator(".seat.state-submitted")).to_contain_text("李秀英")

    [attempt] = stored(server.app, Attempt)
    assert attempt.status == "submitted" and attempt.candidate_id == li.id and attempt.score is not None

    # Once someone has logged in, the arrangement is fixed.
    page.locator(".sitting", has_text=NAME).locator(".open-arrangement").click()
    expect(page.locator("#arrange-locked")).to_have_text("已有 1 名考生登录，考场和座位不能再改动（仍可打印）。")
    expect(page.locator("#auto-arrange")).to_have_count(0)

    # Closing: the room is closed (the two who never came recorded absent), the results checked, and nobody
    # sees a score before the admin publishes them.
    page.click("#back-to-sittings")
    page.locator(".sitting", has_text=NAME).locator(".open-closing").click()
    page.click("#close-rooms")
    expect(page.locator("#closing-message")).to_have_text("第05考场：已封场：收卷 0 人，记缺考 2 人")
    expect(page.locator("#closing-counts")).to_contain_text("已交卷 1 人，缺考 2 人")
    xlsx = page.request.get(server.url + page.locator("#results-xlsx").get_attribute("href"))
    sheet = load_workbook(BytesIO(xlsx.body()))["成绩汇总表"]
    assert xlsx.ok and [row[0] for row in sheet.iter_rows(min_row=5, values_only=True)].count(li.ticket) == 1

    results = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    results.goto(server.url + "/results")
    results.fill("#ticket", li.ticket)
    results.fill("#id-number", li.id_number)
    results.click("#query")
    expect(results.locator("#not-published")).to_have_text("成绩尚未公布，请在公布后查询。")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#publish")
    expect(page.locator("#publication")).to_contain_text("公布（刘芳（kaowu））")
    page.screenshot(path=artifacts / "admin-11-closing.png", full_page=True)
    results.click("#query")
    expect(results.locator("#result-table")).to_contain_text(f"成绩{attempt.score:g} 分")
    expect(results.locator("#result-table")).to_contain_text("李秀英")
    results.screenshot(path=artifacts / "candidate-results.png")

    # The signed archive downloads and verifies.
    zipped = page.request.get(server.url + page.locator("#archive").get_attribute("href"))
    assert zipped.ok and archive.verify(zipped.body()).sitting == NAME
