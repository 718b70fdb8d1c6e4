"""Holes found in review, each pinned by the behaviour a user would see."""

import pytest
from sqlalchemy import select

from server.db import write_transaction
from server.exam import service
from server.exam.models import Answer, Attempt
from server.exam.service import ExamError
from server.extensions import db, socketio
from tests.helpers import csrf_token, stored


def started(candidate, proctor):
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    proctor.start()


def test_checks_inside_a_unit_of_work_see_a_submission_made_meanwhile(candidate, proctor, app, clock):
    started(candidate, proctor)
    item = candidate.paper_items()[0]["id"]
    clock.advance(minutes=31)
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))  # loaded before another handler submits
        with app.app_context(), write_transaction(db.session):
            service.submit(db.session, db.session.get(Attempt, attempt.id), clock())
        with write_transaction(db.session), pytest.raises(ExamError) as refused:
            service.save_answer(db.session, attempt, item, "A", 99, clock())
        assert refused.value.code == "submitted"
        with write_transaction(db.session), pytest.raises(ExamError):
            service.submit(db.session, attempt, clock())
    assert stored(app, Answer) == []


def test_when_an_answer_finds_the_time_up_the_proctor_sees_the_submission(candidate, proctor, app, clock):
    started(candidate, proctor)
    item = candidate.paper_items()[0]
    proctor.watch()
    proctor.received()
    clock.advance(minutes=91)  # before the sweeper's next pass
    assert candidate.answer(item["id"], None, 5)["error"]["code"] == "time_up"
    updates = [e["args"][0] for e in proctor.received() if e["name"] == "seat_update"]
    assert updates and updates[-1]["state"] == "submitted"
    assert [e["args"][0]["phase"] for e in candidate.received() if e["name"] == "state"][-1] == "submitted"


def test_a_rejected_screen_receives_nothing_of_the_next_login(make_candidate, proctor, app):
    rejected = make_candidate(app.site.tickets[0]).login().connect()
    proctor.watch()
    seat = proctor.seat(rejected.ticket)
    assert proctor.emit("reject_identity", {"candidate_id": seat["candidate_id"]})["ok"]
    rejected.received()
    nxt = make_candidate(app.site.tickets[1]).login().connect()
    proctor.confirm(nxt.ticket)
    proctor.start()
    assert [e for e in rejected.received() if e["name"] == "state"] == []


def test_a_candidate_login_ends_a_staff_login_left_in_that_browser(make_candidate, app):
    computer = make_candidate(app.site.tickets[0])
    computer.http.post(
        "/api/auth/login",
        json={"username": "proctor1", "password": app.site.logins["proctor1"]},
        headers={"X-CSRFToken": csrf_token(computer.http)},
    )
    computer.login()
    console = socketio.test_client(app, namespace="/proctor", flask_test_client=computer.http)
    assert not console.is_connected("/proctor")


def test_a_proctor_logging_in_at_a_candidates_computer_does_not_lock_the_candidate_out(make_candidate, proctor, app):
    computer = make_candidate(app.site.tickets[0]).login().connect()
    proctor.confirm(computer.ticket)
    response = computer.http.post(
        "/api/auth/login",
        json={"username": "proctor2", "password": app.site.logins["proctor2"]},
        headers={"X-CSRFToken": csrf_token(computer.http)},
    )
    assert response.status_code == 200
    computer.connect()
    assert computer.state()["phase"] == "waiting_start"


def test_logging_out_ends_the_console_that_is_still_connected(make_candidate, proctor, app):
    waiting = make_candidate(app.site.tickets[0]).login()
    response = proctor.http.post("/api/auth/logout", json={}, headers={"X-CSRFToken": csrf_token(proctor.http)})
    assert response.status_code == 200
    assert proctor.http.get("/api/auth/session").get_json()["account"] is None
    assert proctor.confirm_by_seat(waiting.ticket)["error"]["code"] == "forbidden"
    assert [a.status for a in stored(app, Attempt)] == ["awaiting_confirmation"]


def test_no_one_is_admitted_after_the_rooms_time_is_over(make_candidate, proctor, app, clock):
    first = make_candidate(app.site.tickets[0]).login().connect()
    proctor.confirm(first.ticket)
    proctor.start()
    clock.advance(minutes=20)
    late = make_candidate(app.site.tickets[1]).login().connect()  # in before the late-entry cutoff
    clock.advance(minutes=75)  # but not confirmed before the end
    reply = proctor.confirm(late.ticket)
    assert reply["error"] == {"code": "room_over", "message": "本考场考试时间已结束，不能再确认考生入场。"}
    assert all("paper" not in e["args"][0] for e in late.received() if e["name"] == "state")
