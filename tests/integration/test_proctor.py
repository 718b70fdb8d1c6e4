"""The proctor's minimum: log in, see the room live, confirm identities, start the room; roles enforced."""

import pytest

from server.exam.models import Attempt, Room
from tests.helpers import ProctorActions, make_account, make_room, stored


@pytest.fixture
def other_room(app):
    make_room(app, "第02考场", "proctor3", "room-two-password", ["202611010201"])
    return ProctorActions(app, "proctor3", "room-two-password")


def seat_updates(proctor):
    return [e["args"][0] for e in proctor.received() if e["name"] == "seat_update"]


def test_the_room_shows_every_seat_with_its_state(proctor):
    room = proctor.watch()
    assert (room["name"], room["rows"], room["cols"]) == ("第01考场", 5, 6)
    assert len(room["seats"]) == 30
    assert {s["state"] for s in room["seats"]} == {"not_logged_in"}
    assert room["counts"] == {"expected": 30, "present": 0, "not_logged_in": 30}
    assert room["clock"]["started_at"] is None


def test_a_login_appears_on_the_console_with_the_id_number_for_checking(proctor, candidate):
    proctor.watch()
    candidate.login()
    [update] = seat_updates(proctor)
    assert (update["ticket"], update["state"], update["state_label"]) == (
        candidate.ticket,
        "awaiting_confirmation",
        "待确认身份",
    )
    assert len(update["id_number"]) == 18  # the proctor sees the whole number for the 五对照 check


def test_progress_reaches_the_console_as_the_candidate_answers(proctor, candidate):
    candidate.login().connect()
    proctor.watch()
    proctor.confirm(candidate.ticket)
    proctor.start()
    proctor.received()
    item = candidate.paper_items()[0]
    candidate.answer(item["id"], item["options"][0]["id"], seq=1)
    [progress] = [e["args"][0] for e in proctor.received() if e["name"] == "seat_progress"]
    seat = proctor.seat(candidate.ticket)
    assert progress == {
        "candidate_id": seat["candidate_id"],
        "answered": 1,
        "total": 60,
        "last_seen_at": seat["last_seen_at"],  # the console's 最近操作, as stored
    }
    assert (seat["state"], seat["answered"], seat["total"]) == ("answering", 1, 60)


def test_rejecting_a_login_sends_the_candidate_back_and_frees_the_ticket(proctor, candidate, make_candidate, app):
    candidate.login().connect()
    seat = proctor.seat(candidate.ticket)
    assert proctor.emit("reject_identity", {"candidate_id": seat["candidate_id"]})["ok"]
    ended = [e for e in candidate.received() if e["name"] == "session_ended"]
    assert ended and ended[0]["args"][0]["code"] == "rejected"
    assert stored(app, Attempt) == []
    assert candidate.emit("get_state", {})["error"]["code"] == "session_ended"
    make_candidate(candidate.ticket).login()  # the right person can now log in at a computer


def test_starting_twice_is_refused(proctor):
    assert proctor.start()["ok"]
    assert proctor.start()["error"] == {"code": "already_started", "message": "本考场已经开考。"}


def test_a_proctor_cannot_watch_or_act_in_another_room(proctor, other_room, app, make_candidate):
    make_candidate("202611010201").login()
    foreign_room = next(r.id for r in stored(app, Room) if r.name == "第02考场")
    assert proctor.emit("watch_room", {"room_id": foreign_room})["error"]["code"] == "forbidden"
    assert proctor.emit("start_room", {"room_id": foreign_room})["error"]["code"] == "forbidden"
    seat = other_room.seat("202611010201")
    assert proctor.emit("confirm_identity", {"candidate_id": seat["candidate_id"]})["error"]["code"] == "forbidden"
    assert [r.started_at for r in stored(app, Room)] == [None, None]
    assert [a.status for a in stored(app, Attempt)] == ["awaiting_confirmation"]


def test_the_chief_examiner_sees_every_room(app, other_room):
    chief = ProctorActions(app, "chief", app.site.logins["chief"])
    assert [r["name"] for r in chief.emit("list_rooms", {})["rooms"]] == ["第01考场", "第02考场"]


def test_the_supervisor_watches_but_cannot_act(app, candidate):
    make_account(app, "duda", "supervisor", "supervisor-password")
    supervisor = ProctorActions(app, "duda", "supervisor-password")
    candidate.login()
    room = supervisor.watch()
    assert room["seats"][0]["state"] == "awaiting_confirmation"
    assert supervisor.start()["error"]["message"] == "督导员只能查看，不能操作。"
    assert supervisor.confirm(candidate.ticket)["error"]["code"] == "forbidden"
    assert [r.started_at for r in stored(app, Room)] == [None]


def test_staff_of_other_roles_cannot_open_the_console(app):
    from server.extensions import socketio
    from tests.helpers import csrf_token

    make_account(app, "tiku-b", "bank_admin", "bank-admin-password")
    http = app.test_client()
    http.post(
        "/api/auth/login",
        json={"username": "tiku-b", "password": "bank-admin-password"},
        headers={"X-CSRFToken": csrf_token(http)},
    )
    console = socketio.test_client(app, namespace="/proctor", flask_test_client=http)
    assert not console.is_connected("/proctor")
