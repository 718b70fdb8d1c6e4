"""Faults as the candidate lives them, in real Chromium: the network drops, answering goes on, the tab is
closed with an answer not yet sent, and the reopened exam sends it and carries on where it was."""

import re

import pytest
from playwright.sync_api import expect

from server.exam.models import Answer
from tests.conftest import candidate_in_browser, confirm_and_start
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
