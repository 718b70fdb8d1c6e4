"""Faults as the candidate lives them, in real Chromium: the network drops, answering goes on, the tab is
closed with an answer not yet sent, and the reopened exam sends it and carries on where it was."""

import re
import time

import pytest
from playwright.sync_api import expect

from server.exam.models import Answer
from tests.conftest import candidate_in_browser, confirm_and_start, proctor_console
from tests.helpers import stored

pytestmark = pytest.mark.browser

SAVED = "✓ 所有答案已保存"


def test_answers_made_offline_survive_a_closed_tab_and_arrive_when_back_online(
    live_site, live_clients, browser, artifacts
):
    server = live_site
    ticket = server.tickets[4]
    page = candidate_in_browser(browser, server, ticket)
    context = page.context
    confirm_and_start(live_clients.proctor(server), ticket)

    page.locator(".choice").first.click()
    expect(page.locator("#save-status")).to_have_text(SAVED)
    assert len(stored(server.app, Answer)) == 1

    # The network drops: the screen says calmly that answers are kept here, and answering goes on.
    context.set_offline(True)
    expect(page.locator("#save-status")).to_contain_text("答案已暂存在本机", timeout=25_000)
    page.keyboard.press("ArrowRight")
    page.locator(".choice").first.click()
    page.keyboard.press("ArrowRight")
    page.locator(".choice").nth(1).click()
    expect(page.locator(".progress-line")).to_have_text(re.compile(r"已作答 3 / \d+ 题"))
    page.screenshot(path=artifacts / "candidate-13-offline.png")
    assert len(stored(server.app, Answer)) == 1  # the server has not seen them: they are in the journal
    countdown = page.locator("#countdown").inner_text()

    # The tab is closed while offline; the exam is opened again in the same browser, and the network is back.
    page.close()
    reopened = context.new_page()
    context.set_offline(False)
    reopened.goto(server.url + "/")
    expect(reopened.locator(".question-card")).to_be_visible()
    expect(reopened.locator("#save-status")).to_have_text(SAVED)
    expect(reopened.locator(".progress-line")).to_have_text(re.compile(r"已作答 3 / \d+ 题"))
    expect(reopened.locator(".sheet-cell.current")).to_have_text("3")  # back at the question it was on
    assert len(stored(server.app, Answer)) == 3
    # The same paper and the same time: the countdown goes on from where it was (a few seconds later).
    minutes, seconds = (int(part) for part in countdown.split(":")[-2:])
    left = minutes * 60 + seconds
    shown = reopened.locator("#countdown").inner_text()
    minutes, seconds = (int(part) for part in shown.split(":")[-2:])
    assert 0 <= left - (minutes * 60 + seconds) <= 30
    reopened.screenshot(path=artifacts / "candidate-14-back-online.png")


def beaten_since_the_start(server) -> None:
    """Wait (polling, with a deadline) for a heartbeat after the room's start: the server was seen alive with
    the exam running, so the restart knows the exam was running when it died."""
    from server.exam.models import ClockEvent, ServerHeartbeat

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [start] = stored(server.app, ClockEvent, kind="start")
        [beat] = stored(server.app, ServerHeartbeat)
        if beat.beat_at > start.at:
            return
        time.sleep(0.1)  # polling interval, not a wait for an outcome
    raise AssertionError("no heartbeat after the start within 10 s")


def went_down_minutes_ago(server, minutes: int) -> None:
    """Make the crash look ``minutes`` old: the last heartbeat and the candidates' last activity, and the
    room's clock with them, move back (a browser test cannot wait three quarters of an hour). The restarted
    server works out the rest itself."""
    from datetime import timedelta

    from server.db import write_transaction
    from server.exam.models import Attempt, ClockEvent, ServerHeartbeat
    from server.extensions import db

    with server.app.app_context(), write_transaction(db.session):
        for event in db.session.query(ClockEvent):
            event.at -= timedelta(minutes=minutes)
        for attempt in db.session.query(Attempt):
            attempt.last_seen_at -= timedelta(minutes=minutes)
        beat = db.session.get(ServerHeartbeat, 1)
        beat.beat_at -= timedelta(minutes=minutes)


def test_after_a_long_outage_the_chief_examiner_decides_from_the_console(live_site, live_clients, browser, artifacts):
    server = live_site
    ticket = server.tickets[5]
    page = candidate_in_browser(browser, server, ticket)
    confirm_and_start(live_clients.proctor(server), ticket)
    page.locator(".choice").first.click()
    expect(page.locator("#save-status")).to_have_text(SAVED)
    countdown = page.locator("#countdown").inner_text()

    # The power goes for 45 minutes: more than the 30 that are made up by themselves.
    beaten_since_the_start(server)
    server.crash()
    went_down_minutes_ago(server, 45)
    server.start()
    expect(page.locator("#paused-overlay")).to_contain_text("考试已暂停", timeout=15_000)  # reconnected alone
    page.screenshot(path=artifacts / "candidate-15-paused-for-the-chief.png")

    console = proctor_console(browser, server, "chief")
    expect(console.locator("#pause-banner")).to_contain_text("超过 30 分钟，等待主考决定")
    console.click("#chief-decision")
    for choice in ("继续考试", "结束考试", "另行安排考试"):
        expect(console.locator("#ask-decision")).to_contain_text(choice)
    console.check("#ask-decision-continue")
    console.fill("#ask-reason", "区域停电 45 分钟")
    console.screenshot(path=artifacts / "proctor-10-chief-decides.png")
    console.click("#ask-ok")
    expect(console.locator("#ask-dialog")).to_have_count(0)
    expect(console.locator("#pause-banner")).to_have_count(0)

    # The candidate carries on with the time they had: the 45 minutes cost nothing.
    expect(page.locator("#paused-overlay")).to_have_count(0)
    expect(page.locator(".progress-line")).to_have_text(re.compile(r"已作答 1 / \d+ 题"))
    minutes, seconds = (int(part) for part in countdown.split(":")[-2:])
    shown_minutes, shown_seconds = (int(part) for part in page.locator("#countdown").inner_text().split(":")[-2:])
    assert 0 <= (minutes * 60 + seconds) - (shown_minutes * 60 + shown_seconds) <= 30
    expect(console.locator("#feed")).to_contain_text("主考决定：继续考试，补足耽误的考试时间")

    # Later the room is paused again, and this time the chief examiner stops the sitting for another day.
    console.click("#pause-room")
    console.fill("#ask-reason", "再次停电，短时间无法恢复")
    console.click("#ask-ok")
    expect(page.locator("#paused-overlay")).to_be_visible()
    console.click("#chief-decision")
    console.check("#ask-decision-reschedule")
    console.click("#ask-ok")
    expect(page.locator("#screen-submitted h1")).to_have_text("本场考试已中止")
    expect(page.locator("#screen-submitted")).to_contain_text("本场考试因故中止，将另行安排考试")
    expect(page.locator("#screen-submitted")).not_to_contain_text("成绩")
    page.screenshot(path=artifacts / "candidate-16-rescheduled.png")
    expect(console.locator("#feed")).to_contain_text("考试中止，另行安排考试，本场不评分（已答 1/60 题）")
