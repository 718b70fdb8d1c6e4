"""A whole sitting in real Chromium against a live ``jikao serve``: one candidate, one proctor."""

import re

import pytest
from playwright.sync_api import expect

from server.bank.models import Item
from server.bank.service import open_item
from server.exam.models import Attempt
from server.extensions import db
from tests.helpers import stored

pytestmark = pytest.mark.browser


@pytest.fixture
def site_options():
    return {"submit_after_s": 0}  # let the candidate submit at once


def item_key(app, item_id: int):
    with app.app_context():
        item = open_item(db.session.get(Item, item_id))
    return item


def test_a_candidate_takes_a_whole_exam_while_the_proctor_confirms_and_starts(live_site, browser, artifacts):
    server = live_site
    ticket = server.tickets[2]
    candidate = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    proctor = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()

    # The proctor opens the console.
    proctor.goto(server.url + "/proctor/")
    proctor.fill("#username", "proctor1")
    proctor.fill("#password", "not-the-password")
    proctor.click("#login")
    expect(proctor.locator("#login-error")).to_have_text("用户名或密码错误。")
    proctor.fill("#password", server.logins["proctor1"])
    proctor.click("#login")
    expect(proctor.locator(".seat.state-not_logged_in")).to_have_count(30)

    # The candidate types a wrong ticket, then the right one, and checks their details.
    candidate.goto(server.url + "/")
    candidate.fill("#ticket", "999999")
    candidate.click("#lookup")
    expect(candidate.locator("#login-error")).to_have_text("未找到该准考证号，请核对后重新输入。")
    candidate.fill("#ticket", ticket)
    candidate.screenshot(path=artifacts / "candidate-1-login.png")
    candidate.click("#lookup")
    expect(candidate.locator("td[data-field=name]")).to_have_text("李志强")
    candidate.screenshot(path=artifacts / "candidate-2-check-details.png")
    candidate.click("#confirm-login")
    expect(candidate.locator("#screen-awaiting h1")).to_have_text("请等待监考员核验身份")
    expect(candidate.locator(".question-card")).to_have_count(0)

    # The proctor sees the login within moments and confirms the identity (五对照).
    seat = proctor.locator(".seat.state-awaiting_confirmation")
    expect(seat).to_contain_text("李志强")
    proctor.click(".seat.state-awaiting_confirmation .verify")
    expect(proctor.locator("#verify-dialog td[data-field=ticket]")).to_have_text(ticket)
    proctor.screenshot(path=artifacts / "proctor-1-verify.png")
    proctor.click("#confirm-identity")
    expect(candidate.locator("#screen-waiting h1")).to_have_text("身份已确认，请等待开考")
    expect(candidate.locator(".question-card")).to_have_count(0)

    # 统一开考: the paper opens on the candidate's screen.
    proctor.click("#start-room")
    proctor.click("#confirm-start")
    expect(candidate.locator(".question-card")).to_be_visible()
    expect(proctor.locator("#room-clock-state")).to_have_text("考试中")
    expect(candidate.locator("#countdown")).to_have_text(re.compile(r"01:(30:00|29:5\d)"))
    expect(candidate.locator(".choices.radio input[type=radio]")).to_have_count(4)  # round selectors
    candidate.screenshot(path=artifacts / "candidate-3-paper.png")

    # Answer every question: two of three right, every third left unanswered.
    total = 60
    expected = 0.0
    unanswered = 0
    for index in range(total):
        current = candidate.locator(".sheet-cell.current")
        item_id = int(current.get_attribute("data-item-id"))
        item = item_key(server.app, item_id)
        points = 1.0 if item.type == "true_false" else 2.0
        if item.type == "multiple":
            expect(candidate.locator(".choices.checkbox input[type=checkbox]")).to_have_count(len(item.options))
        if index % 3 == 2:
            unanswered += 1
        else:
            right = index % 3 == 0
            if item.type == "true_false":
                labels = ["对（正确）" if item.key == right else "错（错误）"]
            else:
                texts = {o.id: o.text for o in item.options}
                chosen = list(item.key) if right else [o.id for o in item.options if o.id not in item.key][:1]
                labels = [texts[c] for c in chosen]
            for text in labels:
                exact = candidate.locator(".choice-text", has_text=re.compile(f"^{re.escape(text)}$"))
                candidate.locator(".choice", has=exact).click()
            expected += points if right else 0
        if index < total - 1:
            candidate.keyboard.press("ArrowRight")
    expect(candidate.locator("#save-status")).to_have_text("✓ 所有答案已保存")
    answered = total - unanswered
    expect(candidate.locator(".progress-line")).to_have_text(f"已作答 {answered} / {total} 题")
    expect(proctor.locator(".seat.state-answering")).to_contain_text(f"{answered}/{total} 题")
    proctor.screenshot(path=artifacts / "proctor-2-answering.png")

    # A reload brings back the same answers.
    candidate.reload()
    expect(candidate.locator(".progress-line")).to_have_text(f"已作答 {answered} / {total} 题")

    # Larger text for tired eyes.
    before = candidate.locator(".stem").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    candidate.click("#font-larger")
    after = candidate.locator(".stem").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert after > before

    # 结束考试: the dialog counts what is unanswered; then the candidate is out for good.
    candidate.click("#submit-exam")
    expect(candidate.locator("#submit-dialog")).to_contain_text(f"您还有 {unanswered} 题未作答")
    candidate.screenshot(path=artifacts / "candidate-4-submit.png")
    candidate.click("#confirm-submit")
    expect(candidate.locator("#screen-submitted h1")).to_have_text("您已交卷")
    expect(candidate.locator("#screen-submitted")).to_contain_text("成绩将在公示后公布")
    candidate.screenshot(path=artifacts / "candidate-5-submitted.png")
    expect(proctor.locator(".seat.state-submitted")).to_contain_text("李志强")
    proctor.screenshot(path=artifacts / "proctor-3-submitted.png")

    [attempt] = stored(server.app, Attempt)
    assert attempt.status == "submitted"
    assert attempt.score == expected

    candidate.reload()
    expect(candidate.locator("#screen-submitted")).to_be_visible()  # no way back into the paper
