"""What the proctor sees live (presence, focus, the event feed) and does (pause, resume, extend, announce,
force-submit), each checked on the candidate's side and in the stored record; roles enforced."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.audit import AuditEntry
from server.exam.models import Attempt, ClockEvent, RoomEvent
from tests.helpers import ProctorActions, make_account, make_room, stored


def feed_lines(proctor):
    return [e["args"][0]["text"] for e in proctor.received() if e["name"] == "feed"]


def started(candidate, proctor):
    candidate.login().connect()
    proctor.watch()
    assert proctor.confirm(candidate.ticket)["ok"]
    assert proctor.start()["ok"]
    return proctor.seat(candidate.ticket)["candidate_id"]


def test_the_feed_tells_the_story_live_and_to_a_console_that_joins_later(proctor, candidate, app):
    proctor.watch()
    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    proctor.start()
    lines = feed_lines(proctor)
    assert lines == ["01号 张建华 登录，等待核验身份", "01号 张建华 身份已核验（王建国）", "统一开考（王建国）"]
    later = ProctorActions(app, "chief", app.site.logins["chief"]).watch()
    assert [line["text"] for line in later["feed"]] == lines
    assert [row.kind for row in stored(app, RoomEvent)] == ["login", "confirm", "start"]


def test_a_dropped_connection_shows_as_disconnected_until_the_client_is_back(proctor, candidate, make_candidate, clock):
    started(candidate, proctor)
    proctor.received()
    clock.advance(minutes=3)
    candidate.socket.disconnect(namespace="/candidate")
    received = proctor.received()
    update = [e["args"][0] for e in received if e["name"] == "seat_update"][-1]
    assert update["state"] == "disconnected" and update["state_label"] == "已断线"
    assert update["disconnected_at"] == "2026-11-21T01:03:00+00:00"
    assert [e["args"][0]["text"] for e in received if e["name"] == "feed"] == ["01号 张建华 断开连接"]
    assert proctor.watch()["counts"]["disconnected"] == 1
    candidate.connect()
    assert proctor.seat(candidate.ticket)["state"] == "answering"
    assert feed_lines(proctor) == ["01号 张建华 重新连接"]


def test_leaving_the_exam_window_is_counted_while_answering_only(proctor, candidate):
    candidate.login().connect()
    assert candidate.emit("focus", {"lost": True}) == {"ok": True, "recorded": False}  # not yet answering
    started(candidate, proctor)
    proctor.received()
    assert candidate.emit("focus", {"lost": True}) == {"ok": True, "recorded": True}
    received = proctor.received()
    assert [e["args"][0] for e in received if e["name"] == "seat_update"][-1]["focus_lost"] == 1
    assert [e["args"][0]["text"] for e in received if e["name"] == "feed"] == ["01号 张建华 离开考试窗口（第 1 次）"]
    assert candidate.emit("focus", {"lost": "yes"})["error"]["code"] == "invalid_payload"


def test_pausing_the_room_stops_every_clock_and_the_pause_is_made_up(proctor, candidate, clock):
    started(candidate, proctor)
    room_id = proctor.room_id()
    assert proctor.emit("pause_room", {"room_id": room_id, "reason": ""})["error"]["code"] == "reason_required"
    clock.advance(minutes=10)
    assert proctor.emit("pause_room", {"room_id": room_id, "reason": "停电"})["ok"]
    candidate.received()
    assert candidate.state()["phase"] == "paused"
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], item["options"][0]["id"], 1)["error"]["code"] == "paused"
    clock.advance(minutes=20)
    assert proctor.emit("resume_room", {"room_id": room_id, "reason": ""})["ok"]
    state = candidate.state()
    assert state["phase"] == "answering"
    assert state["clock"]["deadline"] == "2026-11-21T02:50:00+00:00"  # 90 minutes + the 20 paused
    assert proctor.emit("resume_room", {"room_id": room_id, "reason": ""})["error"]["code"] == "not_paused"


def test_one_candidate_is_paused_and_given_more_time(proctor, candidate, make_candidate, clock, app):
    neighbour = make_candidate(app.site.tickets[1])
    neighbour.login().connect()
    candidate_id = started(candidate, proctor)
    proctor.confirm(neighbour.ticket)
    assert proctor.emit("pause_candidate", {"candidate_id": candidate_id, "reason": "电脑故障，换机"})["ok"]
    assert candidate.state()["phase"] == "paused" and neighbour.state()["phase"] == "answering"
    assert proctor.seat(candidate.ticket)["own_clock"]["paused"] is True
    clock.advance(minutes=5)
    assert proctor.emit("resume_candidate", {"candidate_id": candidate_id, "reason": ""})["ok"]
    reply = proctor.emit("extend", {"candidate_id": candidate_id, "minutes": 10, "reason": "补足换机耽误的时间"})
    assert reply["ok"]
    assert candidate.state()["clock"]["deadline"] == "2026-11-21T02:45:00+00:00"  # 90 + 5 paused + 10
    assert neighbour.state()["clock"]["deadline"] == "2026-11-21T02:30:00+00:00"
    assert "own_clock" not in proctor.seat(neighbour.ticket)
    kinds = [(e.kind, e.seconds, e.reason) for e in stored(app, ClockEvent) if e.attempt_id is not None]
    assert kinds == [("pause", 0, "电脑故障，换机"), ("resume", 0, "恢复考试"), ("extend", 600, "补足换机耽误的时间")]
    assert {e.action for e in stored(app, AuditEntry)} >= {"clock.pause", "clock.resume", "clock.extend"}


def test_the_whole_room_is_given_more_time(proctor, candidate):
    started(candidate, proctor)
    room_id = proctor.room_id()
    assert proctor.emit("extend", {"room_id": room_id, "minutes": 15, "reason": "停电已恢复，补足时间"})["ok"]
    assert candidate.state()["clock"]["deadline"] == "2026-11-21T02:45:00+00:00"
    too_long = proctor.emit("extend", {"room_id": room_id, "minutes": 500, "reason": "x"})
    assert too_long["error"]["code"] == "invalid_payload"
    both = proctor.emit("extend", {"room_id": room_id, "candidate_id": 1, "minutes": 5, "reason": "x"})
    assert both["error"]["code"] == "invalid_payload"


def test_an_announcement_reaches_every_candidate_of_the_room(proctor, candidate):
    started(candidate, proctor)
    candidate.received()
    assert proctor.emit("announce", {"room_id": proctor.room_id(), "text": "请保持安静，注意检查漏答题目。"})["ok"]
    notices = [e["args"][0] for e in candidate.received() if e["name"] == "notice"]
    assert notices[0]["kind"] == "announcement" and notices[0]["text"] == "请保持安静，注意检查漏答题目。"
    assert candidate.state()["announcements"][-1]["text"] == "请保持安静，注意检查漏答题目。"  # after a reload too


def test_a_forced_submission_ends_the_exam_and_keeps_the_answers(proctor, candidate, app):
    candidate_id = started(candidate, proctor)
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], item["options"][0]["id"], 1)["ok"]
    assert proctor.emit("force_submit", {"candidate_id": candidate_id, "reason": "严重违纪，取消考试资格"})["ok"]
    state = [e["args"][0] for e in candidate.received() if e["name"] == "state"][-1]
    assert (state["phase"], state["submit_reason"], state["answered"]) == ("submitted", "proctor", 1)
    [attempt] = stored(app, Attempt)
    assert attempt.status == "submitted" and attempt.score is not None
    again = proctor.emit("force_submit", {"candidate_id": candidate_id, "reason": "x"})
    assert again["error"]["code"] == "submitted"


@pytest.fixture
def supervisor(app):
    make_account(app, "dudao", "supervisor", "supervisor-password")
    return ProctorActions(app, "dudao", "supervisor-password")


def test_the_supervisor_and_another_rooms_proctor_may_not_act(proctor, candidate, supervisor, app, clock):
    candidate_id = started(candidate, proctor)
    make_room(app, "第02考场", "proctor3", "room-two-password", ["202611010201"])
    other = ProctorActions(app, "proctor3", "room-two-password")
    room_id = proctor.room_id()
    for actor in (supervisor, other):
        for event, payload in [
            ("pause_room", {"room_id": room_id, "reason": "x"}),
            ("extend", {"room_id": room_id, "minutes": 5, "reason": "x"}),
            ("announce", {"room_id": room_id, "text": "x"}),
            ("pause_candidate", {"candidate_id": candidate_id, "reason": "x"}),
            ("force_submit", {"candidate_id": candidate_id, "reason": "x"}),
            ("allow_move", {"candidate_id": candidate_id, "reason": "x"}),
            ("mark_absent", {"candidate_id": candidate_id + 1}),
        ]:
            assert actor.emit(event, payload)["error"]["code"] == "forbidden", (event, actor)
    assert stored(app, ClockEvent)[-1].kind == "start"  # nothing changed
    assert candidate.state()["clock"]["deadline"] == (clock() + timedelta(minutes=90)).isoformat()


def test_late_logins_are_refused_and_absentees_recorded_after_the_cutoff(
    proctor, candidate, make_candidate, app, clock
):
    started(candidate, proctor)
    late = make_candidate(app.site.tickets[5])
    absent_id = proctor.seat(late.ticket)["candidate_id"]
    early = proctor.emit("mark_absent", {"candidate_id": absent_id})
    assert early["error"]["message"] == "开考 30 分钟后才能记为缺考。"
    clock.advance(minutes=29)
    late.login()  # 29 minutes after the start: still allowed in
    clock.advance(minutes=2)
    too_late = make_candidate(app.site.tickets[6])
    refused = too_late.lookup()
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "too_late"
    assert proctor.emit("mark_absent", {"candidate_id": absent_id})["error"]["code"] == "present"
    missing_id = proctor.seat(too_late.ticket)["candidate_id"]
    assert proctor.emit("mark_absent", {"candidate_id": missing_id})["ok"]
    seat = proctor.seat(too_late.ticket)
    assert (seat["state"], seat["state_label"]) == ("absent", "缺考")
    assert too_late.lookup().get_json()["error"]["code"] == "absent"
    assert proctor.watch()["counts"]["absent"] == 1


def test_a_candidate_moves_to_another_computer_and_carries_on(proctor, candidate, make_candidate, app):
    candidate_id = started(candidate, proctor)
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], item["options"][0]["id"], 1)["ok"]
    elsewhere = make_candidate(candidate.ticket)
    assert elsewhere.lookup().get_json()["error"]["code"] == "active_elsewhere"  # not without the proctor
    assert (
        proctor.emit("allow_move", {"candidate_id": candidate_id, "reason": ""})["error"]["code"] == "reason_required"
    )
    candidate.received()
    assert proctor.emit("allow_move", {"candidate_id": candidate_id, "reason": "显示器损坏"})["ok"]
    ended = [e["args"][0] for e in candidate.received() if e["name"] == "session_ended"]
    assert ended and ended[0]["code"] == "moved"
    assert candidate.emit("get_state", {})["error"]["code"] == "session_ended"  # the old computer is out
    elsewhere.login().connect()
    state = elsewhere.state()
    assert state["phase"] == "answering" and state["answers"] == {str(item["id"]): item["options"][0]["id"]}
    assert candidate.post("/api/candidate/login", {"ticket": candidate.ticket}).status_code == 409  # bound again
    [attempt] = stored(app, Attempt)
    assert not attempt.move_allowed
    assert {e.action for e in stored(app, AuditEntry)} >= {"candidate.allow_move", "candidate.moved"}
    elsewhere.socket.disconnect(namespace="/candidate")  # the new computer's presence is counted alone
    assert proctor.seat(candidate.ticket)["state"] == "disconnected"


def move_after_a_failure(proctor, candidate, make_candidate, clock, failed_for: timedelta):
    """The candidate answers, the computer dies (its socket closes), and after ``failed_for`` they log in on
    another computer the proctor allowed."""
    candidate_id = started(candidate, proctor)
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], item["options"][0]["id"], 1)["ok"]
    clock.advance(minutes=1)
    candidate.socket.disconnect(namespace="/candidate")  # the last sign of life
    clock.advance(seconds=failed_for.total_seconds())
    assert proctor.emit("allow_move", {"candidate_id": candidate_id, "reason": "考试机死机"})["ok"]
    elsewhere = make_candidate(candidate.ticket).login().connect()
    return candidate_id, elsewhere


def test_after_a_move_the_lost_time_is_offered_and_made_up_with_one_action(
    proctor, candidate, make_candidate, app, clock
):
    candidate_id, elsewhere = move_after_a_failure(proctor, candidate, make_candidate, clock, timedelta(minutes=4))
    before = elsewhere.state()["clock"]["remaining_ms"]
    seat = proctor.seat(candidate.ticket)
    assert seat["make_up_s"] == 240
    assert any("换机耽误 4 分 0 秒" in line["text"] for line in proctor.watch()["feed"])
    assert proctor.emit("make_up", {"candidate_id": candidate_id}) == {"ok": True, "seconds": 240}
    assert elsewhere.state()["clock"]["remaining_ms"] == before + 240_000
    assert proctor.seat(candidate.ticket)["make_up_s"] == 0
    again = proctor.emit("make_up", {"candidate_id": candidate_id})
    assert again["error"] == {"code": "nothing_to_make_up", "message": "该考生没有待补的时间。"}
    [extend] = [e for e in stored(app, ClockEvent) if e.kind == "extend"]
    assert (extend.seconds, extend.actor_id is not None) == (240, True)
    assert extend.reason == "换机耽误的考试时间补足（4 分 0 秒）"


def test_a_sitting_may_make_up_the_lost_time_by_itself(proctor, candidate, make_candidate, app, clock):
    from server.db import write_transaction
    from server.exam.models import ExamSession
    from server.extensions import db

    with app.app_context(), write_transaction(db.session):
        db.session.scalar(select(ExamSession)).auto_make_up = True
    _, elsewhere = move_after_a_failure(proctor, candidate, make_candidate, clock, timedelta(minutes=3))
    assert proctor.seat(candidate.ticket)["make_up_s"] == 0  # nothing left to offer: already given
    [extend] = [e for e in stored(app, ClockEvent) if e.kind == "extend"]
    assert (extend.seconds, extend.actor_id) == (180, None)
    assert elsewhere.state()["clock"]["remaining_ms"] == (90 - 1) * 60_000  # only the minute answered was used


def test_the_clock_sync_tells_the_candidate_what_the_state_says(proctor, candidate, make_candidate, clock):
    candidate_id = started(candidate, proctor)
    assert proctor.emit("extend", {"room_id": proctor.room_id(), "minutes": 15, "reason": "停电已恢复，补足时间"})["ok"]
    assert proctor.emit("pause_candidate", {"candidate_id": candidate_id, "reason": "电脑故障，换机"})["ok"]
    clock.advance(minutes=3)
    synced = candidate.emit("sync_clock", {})
    assert synced["ok"] and synced["clock"] == candidate.state()["clock"]
    assert synced["clock"]["deadline"] == "2026-11-21T02:48:00+00:00"  # 15 minutes more, 3 paused so far
    assert proctor.emit("allow_move", {"candidate_id": candidate_id, "reason": "显示器损坏"})["ok"]
    make_candidate(candidate.ticket).login()  # the computer it moved to holds the login now
    assert candidate.emit("sync_clock", {})["error"]["code"] == "session_ended"


def test_candidates_may_log_in_from_20_minutes_before_the_start_and_not_earlier(make_candidate, app, clock):
    from server.exam.models import ExamSession

    start = stored(app, ExamSession)[0].scheduled_start
    clock.now = start - timedelta(minutes=21)
    early = make_candidate(app.site.tickets[0])
    refused = early.lookup()
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["code"] == "entry_not_open"
    opens = (start - timedelta(minutes=20)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert error["message"].endswith(f"{opens:%H:%M}起可以登录。")
    assert stored(app, Attempt) == []
    clock.now = start - timedelta(minutes=20)
    early.login()  # the doors open on the minute
