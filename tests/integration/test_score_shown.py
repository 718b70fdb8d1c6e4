"""A sitting configured to show scores tells the candidate their score and whether they passed."""

import pytest

from tests.helpers import correct_response


@pytest.fixture
def site_options():
    return {"show_score": True, "submit_after_s": 0}


def test_the_candidate_sees_score_and_result_when_the_sitting_shows_them(candidate, proctor, app):
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    proctor.start()
    sections = candidate.state()["paper"]["sections"]
    singles = sections[0]["items"]  # 30 items x 2 points
    for seq, item in enumerate(singles, start=1):
        assert candidate.answer(item["id"], correct_response(app, item["id"]), seq)["ok"]
    state = candidate.submit()["state"]
    assert (state["score"], state["passed"]) == (60.0, True)  # exactly the pass mark
