"""At time-up the browser shows the automatic submission; the answers made in time are kept."""

import pytest
from playwright.sync_api import expect

from server.exam.models import Answer, Attempt
from tests.helpers import stored
from tests.integration.test_live_server import connect, http_login

pytestmark = pytest.mark.browser


@pytest.fixture
def site_options():
    return {"duration_s": 20, "submit_after_s": 0}


def test_time_up_submits_automatically(live_site, browser, artifacts):
    server = live_site
    ticket = server.tickets[0]
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(server.url + "/")
    page.fill("#ticket", ticket)
    page.click("#lookup")
    page.click("#confirm-login")
    expect(page.locator("#screen-awaiting")).to_be_visible()

    proctor = connect(
        server,
        http_login(server, "/api/auth/login", {"username": "proctor1", "password": server.logins["proctor1"]}),
        "/proctor",
    )
    try:
        room = proctor.call("list_rooms", {}, namespace="/proctor")["rooms"][0]
        seats = proctor.call("watch_room", {"room_id": room["id"]}, namespace="/proctor")["room"]["seats"]
        seat = next(s for s in seats if s["ticket"] == ticket)
        assert proctor.call("confirm_identity", {"candidate_id": seat["candidate_id"]}, namespace="/proctor")["ok"]
        assert proctor.call("start_room", {"room_id": room["id"]}, namespace="/proctor")["ok"]
    finally:
        proctor.disconnect()

    # Less than 15 minutes remain from the start, so the notice shows at once.
    expect(page.locator("#time-warning")).to_be_visible()
    page.click("#time-warning button")
    page.locator(".choice").first.click()
    expect(page.locator("#save-status")).to_have_text("✓ 所有答案已保存")

    expect(page.locator("#screen-submitted")).to_contain_text("考试时间到，系统已自动交卷。", timeout=40_000)
    expect(page.locator("dialog")).to_have_count(0)  # no notice left over the result
    page.screenshot(path=artifacts / "candidate-6-time-up.png")
    [attempt] = stored(server.app, Attempt)
    assert (attempt.status, attempt.submit_reason) == ("submitted", "time_up")
    assert len(stored(server.app, Answer)) == 1
