"""At time-up the browser shows the automatic submission; the answers made in time are kept."""

import pytest
from playwright.sync_api import expect

from server.exam.models import Answer, Attempt
from tests.conftest import candidate_in_browser, confirm_and_start
from tests.helpers import stored

pytestmark = pytest.mark.browser


@pytest.fixture
def site_options():
    return {"duration_s": 20, "submit_after_s": 0}


def test_time_up_submits_automatically(live_site, live_clients, browser, artifacts):
    server = live_site
    ticket = server.tickets[0]
    page = candidate_in_browser(browser, server, ticket)

    confirm_and_start(live_clients.proctor(server), ticket)

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
