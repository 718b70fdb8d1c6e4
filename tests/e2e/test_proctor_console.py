"""The proctor console in Chromium with two candidates in their own browsers: every action takes effect on
the candidate's screen, and the console follows the room live (progress within a second)."""

import re

import pytest
from playwright.sync_api import expect

from server.exam.models import Attempt, ClockEvent
from tests.conftest import candidate_in_browser, proctor_console
from tests.helpers import stored

pytestmark = pytest.mark.browser


def seat(console, number: int):
    return console.locator(".seat", has=console.locator(".seat-no", has_text=re.compile(f"^{number:02d}$")))


def confirm_and_start_in_console(console, pages: dict) -> None:
    """The proctor confirms each seat's identity and starts the room; every candidate's paper opens."""
    for number in pages:
        seat(console, number).locator(".verify").click()
        console.click("#confirm-identity")
    console.click("#start-room")
    console.click("#confirm-start")
    for page in pages.values():
        expect(page.locator(".question-card")).to_be_visible()


def answer_dialog(console, fields: dict):
    for name, value in fields.items():
        console.fill(f"#ask-{name}", value)
    console.click("#ask-ok")
    expect(console.locator("#ask-dialog")).to_have_count(0)


def test_a_proctor_runs_the_room_from_the_console(live_site, browser, artifacts):
    server = live_site
    console = proctor_console(browser, server)

    first = candidate_in_browser(browser, server, server.tickets[0])
    second = candidate_in_browser(browser, server, server.tickets[1])
    expect(console.locator("#count-present")).to_have_text("2")
    confirm_and_start_in_console(console, {1: first, 2: second})
    expect(console.locator("#feed li").first).to_contain_text("统一开考（王建国）")

    # Progress reaches the console within a second of the stored answer.
    first.locator(".choice").first.click()
    expect(first.locator("#save-status")).to_have_text("✓ 所有答案已保存")
    expect(seat(console, 1)).to_contain_text("1/60 题", timeout=1000)

    # An announcement appears on every candidate's screen.
    console.click("#announce")
    answer_dialog(console, {"text": "请考生保持安静，独立作答。"})
    for page in (first, second):
        expect(page.locator("#announcement")).to_contain_text("请考生保持安静，独立作答。")
    first.screenshot(path=artifacts / "candidate-8-announcement.png")
    for page in (first, second):
        page.click("#announcement button")

    # One candidate's computer fails: paused, then resumed with ten minutes more.
    seat(console, 1).click()
    console.click("#pause-candidate")
    answer_dialog(console, {"reason": "电脑死机，正在处理"})
    expect(first.locator("#paused-overlay")).to_be_visible()
    expect(second.locator("#paused-overlay")).to_have_count(0)
    first.screenshot(path=artifacts / "candidate-9-paused.png")
    expect(seat(console, 1)).to_contain_text("单独暂停")
    console.screenshot(path=artifacts / "proctor-4-candidate-paused.png")
    seat(console, 1).click()
    console.click("#resume-candidate")
    answer_dialog(console, {"reason": ""})
    expect(first.locator("#paused-overlay")).to_have_count(0)
    seat(console, 1).click()
    console.click("#extend-candidate")
    answer_dialog(console, {"minutes": "10", "reason": "补足故障耽误的时间"})
    expect(first.locator("#countdown")).to_have_text(re.compile(r"^01:(40|39):"))
    expect(seat(console, 1)).to_contain_text("本人剩余 01:")

    # The other candidate is stopped by the proctor; their screen says so.
    seat(console, 2).click()
    console.click("#force-submit")
    answer_dialog(console, {"reason": "夹带资料，按违纪处理"})
    expect(second.locator("#screen-submitted")).to_contain_text("监考员已为您收卷")
    second.screenshot(path=artifacts / "candidate-11-collected.png")
    expect(seat(console, 2)).to_contain_text("监考员收卷")

    # The first candidate's browser closes: the seat shows it at once, with the time.
    first.context.close()
    expect(seat(console, 1)).to_contain_text("已断线")
    expect(console.locator("#feed li").first).to_contain_text("01号 张建华 断开连接")
    console.screenshot(path=artifacts / "proctor-5-room-live.png")

    kinds = [(e.kind, e.reason) for e in stored(server.app, ClockEvent) if e.attempt_id is not None]
    assert kinds == [("pause", "电脑死机，正在处理"), ("resume", "恢复考试"), ("extend", "补足故障耽误的时间")]
    assert [a.submit_reason for a in stored(server.app, Attempt)] == [None, "proctor"]


def test_two_warnings_then_removal_from_the_console(live_site, browser, artifacts):
    server = live_site
    console = proctor_console(browser, server)
    candidate = candidate_in_browser(browser, server, server.tickets[3])
    seat(console, 4).locator(".verify").click()
    console.click("#confirm-identity")
    console.click("#start-room")
    console.click("#confirm-start")
    expect(candidate.locator(".question-card")).to_be_visible()

    for what in ("偷看邻座屏幕", "再次偷看邻座屏幕"):
        seat(console, 4).click()
        console.click("#warn")
        console.fill("#ask-what", what)
        console.click("#ask-ok")
    # The second warning offers removal at once.
    expect(console.locator("#ask-dialog")).to_contain_text("该考生已被警告 2 次，可以责令其离开考场。")
    console.screenshot(path=artifacts / "proctor-6-removal-offered.png")
    answer_dialog(console, {"what": "两次警告后仍偷看"})
    expect(candidate.locator("#login-error")).to_have_text("您已被取消本科目考试资格，请按监考员指示离开考场。")
    candidate.screenshot(path=artifacts / "candidate-10-removed.png")
    expect(seat(console, 4)).to_contain_text("已移出考场")
    expect(seat(console, 4)).to_contain_text("成绩无效")
    expect(console.locator("#feed")).to_contain_text("04号 刘海燕 移出考场、取消考试资格：两次警告后仍偷看")


def started_long_ago(server, minutes: int) -> None:
    """Move the room's recorded start back, as if the sitting had begun ``minutes`` ago (the late-entry
    cutoff is 30 minutes; a browser test cannot wait that long). The server derives every clock from it."""
    from datetime import timedelta

    from server.db import write_transaction
    from server.extensions import db

    with server.app.app_context(), write_transaction(db.session):
        start = db.session.query(ClockEvent).filter_by(kind="start", attempt_id=None).one()
        start.at -= timedelta(minutes=minutes)


def failed_minutes_ago(server, ticket: str, minutes: int) -> None:
    """Record that the candidate's computer went silent ``minutes`` ago (a browser test cannot wait)."""
    from datetime import UTC, datetime, timedelta

    from server.db import write_transaction
    from server.exam.models import Attempt, Candidate
    from server.extensions import db

    with server.app.app_context(), write_transaction(db.session):
        attempt = db.session.query(Attempt).join(Candidate).filter(Candidate.ticket == ticket).one()
        attempt.disconnected_at = attempt.last_seen_at = datetime.now(UTC) - timedelta(minutes=minutes)


def test_room_pause_incident_move_absence_and_the_printed_record(live_site, browser, artifacts):
    server = live_site
    console = proctor_console(browser, server)
    first = candidate_in_browser(browser, server, server.tickets[0])
    second = candidate_in_browser(browser, server, server.tickets[1])
    confirm_and_start_in_console(console, {1: first, 2: second})
    first.locator(".choice").first.click()
    expect(first.locator("#save-status")).to_have_text("✓ 所有答案已保存")

    # A power cut: the whole room is paused, every screen says so; then resumed.
    console.click("#pause-room")
    answer_dialog(console, {"reason": "全场停电"})
    for page in (first, second):
        expect(page.locator("#paused-overlay")).to_contain_text("考试已暂停")
    expect(console.locator("#room-clock-state")).to_have_text("已暂停")
    console.click("#resume-room")
    answer_dialog(console, {"reason": "恢复供电"})
    for page in (first, second):
        expect(page.locator("#paused-overlay")).to_have_count(0)
    expect(console.locator("#room-clock-state")).to_have_text("考试中")
    console.click("#record-incident")
    answer_dialog(console, {"what": "全场停电 6 分钟", "decision": "恢复供电后继续考试"})
    expect(console.locator("#feed li").first).to_contain_text("考场情况 全场停电 6 分钟；处理：恢复供电后继续考试")

    # 换机: the first candidate's computer fails; the proctor authorises the move; the old screen ends and
    # the candidate carries on at another computer with the answer already given.
    seat(console, 1).click()
    console.click("#allow-move")
    answer_dialog(console, {"reason": "考试机键盘失灵"})
    expect(first.locator("#login-error")).to_have_text("监考员已为您办理换机：请到新的考试机上输入准考证号继续考试。")
    started_long_ago(server, 10)
    failed_minutes_ago(server, server.tickets[0], 3)  # the computer had died before the proctor was called
    elsewhere = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    elsewhere.goto(server.url + "/")
    elsewhere.fill("#ticket", server.tickets[0])
    elsewhere.click("#lookup")
    elsewhere.click("#confirm-login")
    expect(elsewhere.locator(".question-card")).to_be_visible()
    expect(elsewhere.locator(".choice").first).to_have_class(re.compile(r"\bselected\b"))
    expect(console.locator("#feed")).to_contain_text("01号 张建华 已在新的考试机上登录（换机）")
    # The time the failed computer cost is offered, and given with one action.
    expect(console.locator("#feed")).to_contain_text(re.compile(r"01号 张建华 换机耽误 3 分 \d+ 秒，建议为其补时"))
    expect(seat(console, 1)).to_contain_text("待补时")
    seat(console, 1).click()
    expect(console.locator("#make-up")).to_contain_text(re.compile(r"补时 3 分 \d+ 秒（换机耽误）"))
    console.screenshot(path=artifacts / "proctor-9-make-up-offered.png")
    console.click("#make-up")
    expect(console.locator("#feed li").first).to_contain_text(re.compile(r"01号 张建华 补时 3 分 \d+ 秒"))
    expect(seat(console, 1)).not_to_contain_text("待补时")
    expect(elsewhere.locator("#countdown")).to_have_text(
        re.compile(r"01:2[23]:\d\d")
    )  # 90 - 10 + 3 minutes, less a few seconds

    # 缺考 after the late-entry cutoff; a latecomer is refused at the login screen.
    started_long_ago(server, 21)  # 31 minutes ago in all
    seat(console, 3).click()
    console.click("#mark-absent")
    expect(seat(console, 3)).to_contain_text("缺考")
    expect(console.locator("#count-absent")).to_have_text("1")
    late = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    late.goto(server.url + "/")
    late.fill("#ticket", server.tickets[4])
    late.click("#lookup")
    expect(late.locator("#login-error")).to_have_text("开考 30 分钟后不得入场，不能再登录考试。")
    late.screenshot(path=artifacts / "candidate-12-too-late.png")

    # The room record, opened from the console in a new tab, and its PDF.
    with console.context.expect_page() as opened:
        console.click("#room-record")
    record = opened.value
    expect(record.locator("h1")).to_have_text("考场情况记录表")
    expect(record.locator("#absentees")).to_contain_text("由王建国记为缺考")
    expect(record.locator("#incidents")).to_contain_text("全场停电 6 分钟")
    expect(record.locator("#process")).to_contain_text("批准换机：考试机键盘失灵（王建国）")
    expect(record.locator(".signatures")).to_contain_text("监考员（二）签名")
    record.screenshot(path=artifacts / "proctor-8-room-record.png", full_page=True)
    pdf = record.request.get(server.url + record.locator("#pdf").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
