"""In Chromium: the exam admin's blueprint, simulation and sitting screens, and a candidate whose paper is
replaced by a backup paper when an item of it is declared leaked during the exam."""

import re

import pytest
from playwright.sync_api import expect

from server.exam.models import Attempt
from tests.conftest import candidate_in_browser, confirm_and_start, staff_login
from tests.helpers import replaceable_item, stored, stored_papers

pytestmark = pytest.mark.browser


def test_the_exam_admin_edits_a_blueprint_simulates_and_assembles(live_site, browser, artifacts):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(live_site.url + "/admin/")
    staff_login(page, live_site, "tiku")
    expect(page.locator("#login-error")).to_have_text("只有考务管理员可以使用考务管理功能。")
    staff_login(page, live_site, "kaowu")

    # The blueprint in use, and the simulation report for it.
    expect(page.locator("#blueprint-panel h2")).to_have_text("6-28-01-14 四级/中级工 · 第1版")
    expect(page.locator("#sections tbody tr")).to_have_count(3)
    page.fill("#sim-papers", "300")
    page.click("#run-simulation")
    expect(page.locator("#simulation-report h3")).to_have_text("模拟组卷测试结果分析：第1版蓝图，300 份试卷")
    expect(page.locator("#report-pool")).to_have_text("130 道")
    expect(page.locator("#report-overlap")).to_contain_text("平均")
    expect(page.locator("#report-parallel")).to_have_text(re.compile(r"^(是|否)（标准差"))
    page.screenshot(path=artifacts / "admin-1-blueprint-simulation.png", full_page=True)

    # Edit as a new version: a wrong count is shown in red and refused with the reason; fixed, it is kept.
    page.click("#edit-blueprint")
    first = page.locator("#edit-cells .cell-row").first.locator("input.num")
    count = int(first.input_value())
    first.fill(str(count + 1))
    expect(page.locator("#editor-totals")).to_have_class(re.compile("bad"))
    page.click("#check-blueprint")
    expect(page.locator("#problems")).to_contain_text("细目合计")
    page.screenshot(path=artifacts / "admin-2-blueprint-problems.png", full_page=True)
    first.fill(str(count))
    expect(page.locator("#editor-totals")).not_to_have_class(re.compile("bad"))
    page.click("#check-blueprint")
    expect(page.locator("#check-ok")).to_have_text("检查通过：蓝图有效，题库现有试题足够组卷。")
    page.click("#save-blueprint")
    expect(page.locator("#blueprint-panel h2")).to_have_text("6-28-01-14 四级/中级工 · 第2版")
    expect(page.locator(".versions li")).to_have_count(2)

    # The sitting: assembled ahead by the demo; switch it to version 2 and assemble again with 5 backups.
    page.click("#tab-sittings")
    sitting = page.locator(".sitting").first
    expect(sitting.locator(".prepared")).to_contain_text("30 份座位试卷，3 份备用卷")
    expect(sitting.locator(".overlap-worst")).to_have_text(re.compile(r"^\d+\.\d%$"))
    sitting.locator("#use-blueprint-1").click()
    expect(sitting.locator(".not-prepared")).to_be_visible()
    sitting.locator("input.backups").fill("5")
    sitting.locator("button.prepare").click()
    expect(sitting.locator(".prepared")).to_contain_text("30 份座位试卷，5 份备用卷")
    expect(sitting.locator(".meta")).to_contain_text("使用蓝图第2版")
    expect(sitting.locator(".backup-state")).to_have_text("备用卷：可用 5 份，已发出 0 份，作废 0 份；已换卷 0 人次。")
    page.screenshot(path=artifacts / "admin-3-sitting-papers.png", full_page=True)


def test_a_candidate_is_given_a_backup_paper_when_an_item_leaks(live_site, live_clients, browser, artifacts):
    server = live_site
    ticket = server.tickets[0]
    page = candidate_in_browser(browser, server, ticket)
    confirm_and_start(live_clients.proctor(server), ticket)
    expect(page.locator(".question-card")).to_be_visible()

    [paper] = stored_papers(server.app)
    leaked_item = replaceable_item(server.app, paper)  # some backup paper lacks it
    number = 1 + [e["item_id"] for s in paper["sections"] for e in s["items"]].index(leaked_item)
    page.locator(".sheet-cell").nth(number - 1).click()
    page.locator(".choice").first.click()
    expect(page.locator("#save-status")).to_have_text("✓ 所有答案已保存")
    expect(page.locator(".progress-line")).to_have_text("已作答 1 / 60 题")
    old_stem = page.locator(".stem").first.inner_text()

    bank = live_clients.login(server, "/api/auth/login", {"username": "tiku", "password": server.logins["tiku"]})
    token = bank.get(server.url + "/api/auth/session", timeout=5).json()["csrf_token"]
    leaked = bank.post(
        f"{server.url}/api/bank/items/{leaked_item}/leak",
        json={"reason": "考试期间发现试题外泄"},
        headers={"X-CSRFToken": token},
        timeout=5,
    )
    assert leaked.json()["ok"], leaked.text

    # The server notices within a second; the candidate is told, once, and sees the new paper.
    dialog = page.locator("#paper-replaced")
    expect(dialog).to_be_visible(timeout=10_000)
    expect(dialog).to_contain_text("您的试卷已更换")
    page.screenshot(path=artifacts / "candidate-7-paper-replaced.png")
    page.click("#paper-replaced-ok")
    expect(dialog).to_have_count(0)
    expect(page.locator(".sheet-cell")).to_have_count(60)
    expect(page.locator(".progress-line")).to_have_text("已作答 0 / 60 题")  # the leaked item's answer went with it
    page.locator(".sheet-cell").nth(number - 1).click()  # the leaked question's place holds another question
    expect(page.locator(".stem").first).not_to_have_text(old_stem)
    [attempt] = stored(server.app, Attempt)
    assert attempt.paper_no == 2
    [new_paper] = stored_papers(server.app)
    assert leaked_item not in {e["item_id"] for s in new_paper["sections"] for e in s["items"]}

    page.reload()  # said once: not again after a reload
    expect(page.locator(".question-card")).to_be_visible()
    expect(page.locator("#paper-replaced")).to_have_count(0)
