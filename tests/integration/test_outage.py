"""A server outage costs no candidate a minute: the time from the last heartbeat to the restart is made up
(up to 30 minutes), or the room waits paused for the chief examiner; either way the room record says so."""

from datetime import timedelta

from sqlalchemy import select

from server.db import write_transaction
from server.exam import outage, service
from server.exam.models import Answer, Attempt, Incident, Room
from server.extensions import db
from tests.helpers import ProctorActions, correct_response, remaining_s, started, stored


def beat_then_restart(app, clock, down: timedelta) -> list[outage.Recovery]:
    """The server beats, dies, and starts again ``down`` later."""
    with app.app_context(), write_transaction(db.session):
        outage.beat(db.session, clock(), "local")
    clock.advance(seconds=down.total_seconds())
    with app.app_context(), write_transaction(db.session):
        return outage.recover(db.session, clock(), "local")


def test_an_outage_within_30_minutes_is_made_up_for_the_whole_room(candidate, proctor, app, clock):
    started(candidate, proctor)
    clock.advance(minutes=20)
    before = remaining_s(app, clock)
    [recovery] = beat_then_restart(app, clock, timedelta(minutes=12, seconds=5))
    assert (recovery.lost_s, recovery.made_up) == (725, True)
    assert remaining_s(app, clock) == before  # not a second lost
    with app.app_context():
        [incident] = db.session.scalars(select(Incident)).all()
        assert "服务器中断 12 分 5 秒" in incident.what
        assert "已为全场自动补足 12 分 5 秒" in incident.decision
        assert incident.actor_id is None  # recorded by the system
    state = candidate.emit("get_state", {})["state"]
    assert state["phase"] == "answering"
    assert state["clock"]["remaining_ms"] == before * 1000
    room = proctor.watch()
    assert any("全场补时 12 分 5 秒" in line["text"] for line in room["feed"])


def test_an_outage_that_ran_past_the_end_gives_the_time_back(candidate, proctor, app, clock):
    started(candidate, proctor)
    clock.advance(minutes=85)  # 5 minutes left
    beat_then_restart(app, clock, timedelta(minutes=10))
    assert remaining_s(app, clock) == 5 * 60
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], item["options"][0]["id"], seq=1)["ok"]


def long_outage(candidate, proctor, app, clock):
    """The candidate has answered one question when the server goes down for 45 minutes."""
    started(candidate, proctor)
    clock.advance(minutes=20)
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], correct_response(app, item["id"]), 1)["ok"]
    before = remaining_s(app, clock)
    [recovery] = beat_then_restart(app, clock, timedelta(minutes=45))
    assert not recovery.made_up
    clock.advance(minutes=10)  # the chief examiner comes and weighs it up
    return before, ProctorActions(app, "chief", app.site.logins["chief"])


def test_a_longer_outage_waits_for_the_chief_examiner_who_may_go_on_with_the_time_made_up(
    candidate, proctor, app, clock
):
    before, chief = long_outage(candidate, proctor, app, clock)
    assert candidate.state()["phase"] == "paused"
    room = proctor.watch()
    assert room["pause"]["awaiting_chief"] and room["pause"]["by"] == "系统"
    assert "等待主考决定" in room["pause"]["reason"]
    refused = proctor.emit("resume_room", {"room_id": room["id"], "reason": "来电了"})
    assert refused["error"]["code"] == "chief_decides"
    assert candidate.state()["phase"] == "paused"  # the proctor could not decide it
    reply = chief.emit("chief_decision", {"room_id": room["id"], "decision": "continue", "reason": "区域停电"})
    assert reply == {"ok": True, "ended": 0}
    assert candidate.state()["phase"] == "answering"
    assert remaining_s(app, clock) == before  # the 55 minutes cost nothing
    assert proctor.watch()["pause"] is None
    with app.app_context():
        decisions = [(i.what, i.decision) for i in db.session.scalars(select(Incident).order_by(Incident.id))]
    assert "由主考决定继续考试（补足时间）、结束考试或另行安排考试" in decisions[0][1]
    assert decisions[1] == ("区域停电", "主考决定：继续考试，补足耽误的考试时间")


def test_the_chief_examiner_may_end_the_sitting_and_the_answers_so_far_are_scored(candidate, proctor, app, clock):
    _, chief = long_outage(candidate, proctor, app, clock)
    room_id = proctor.room_id()
    second = candidate.paper_items()[1]
    reply = chief.emit("chief_decision", {"room_id": room_id, "decision": "end", "reason": "区域停电，无法恢复"})
    assert reply == {"ok": True, "ended": 1}
    state = candidate.state()
    assert (state["phase"], state["submit_reason"], state["answered"]) == ("submitted", "ended", 1)
    refused = candidate.answer(second["id"], correct_response(app, second["id"]), 2)
    assert refused["error"]["code"] == "submitted"  # nothing more is accepted
    room = proctor.watch()
    assert room["clock"]["remaining_ms"] == 0 and not room["clock"]["paused"]
    assert proctor.seat(candidate.ticket)["submit_reason"] == "ended"
    [attempt] = stored(app, Attempt)
    assert attempt.score is not None and attempt.score > 0  # the one right answer counts
    with app.app_context():
        last = db.session.scalars(select(Incident).order_by(Incident.id.desc())).first()
    assert last.decision == "主考决定：结束本场考试，按已作答部分评分；1 名考生的考试随之结束"


def test_the_chief_examiner_may_stop_the_sitting_for_a_rescheduled_one(candidate, proctor, app, clock):
    _, chief = long_outage(candidate, proctor, app, clock)
    reply = chief.emit("chief_decision", {"room_id": proctor.room_id(), "decision": "reschedule", "reason": ""})
    assert reply == {"ok": True, "ended": 1}
    state = candidate.state()
    assert (state["phase"], state["submit_reason"]) == ("submitted", "rescheduled")
    assert "score" not in state
    [attempt] = stored(app, Attempt)
    assert attempt.score is None  # not scored: the candidate sits the subject again
    assert len(stored(app, Answer, attempt_id=attempt.id)) == 1  # the answers are kept for the record


def test_only_the_chief_examiner_decides_and_only_for_a_paused_room(candidate, proctor, app, clock):
    started(candidate, proctor)
    chief = ProctorActions(app, "chief", app.site.logins["chief"])
    room_id = proctor.room_id()
    refused = chief.emit("chief_decision", {"room_id": room_id, "decision": "end", "reason": ""})
    assert refused["error"]["code"] == "not_paused"
    assert proctor.emit("pause_room", {"room_id": room_id, "reason": "火警"})["ok"]
    refused = proctor.emit("chief_decision", {"room_id": room_id, "decision": "end", "reason": ""})
    assert refused["error"]["code"] == "forbidden"
    refused = chief.emit("chief_decision", {"room_id": room_id, "decision": "cancel", "reason": ""})
    assert not refused["ok"]
    assert candidate.state()["phase"] == "paused"  # none of these changed anything
    [attempt] = stored(app, Attempt)
    assert attempt.status == "confirmed"


def test_activity_stored_after_the_last_beat_shortens_the_outage(candidate, proctor, app, clock):
    """A busy server's heartbeat can wait behind the events it serves; an answer it stored later proves it
    was still alive then, so the candidates are not given time they did not lose."""
    started(candidate, proctor)
    clock.advance(minutes=10)
    with app.app_context(), write_transaction(db.session):
        outage.beat(db.session, clock(), "local")
    clock.advance(seconds=4)  # no beat meanwhile, but an answer is stored
    item = candidate.paper_items()[0]
    assert candidate.answer(item["id"], correct_response(app, item["id"]), 1)["ok"]
    clock.advance(seconds=20)  # the server dies now and is back 20 s later
    with app.app_context(), write_transaction(db.session):
        [recovery] = outage.recover(db.session, clock(), "local")
    assert recovery.made_up and recovery.lost_s == 20


def test_a_room_paused_at_the_last_beat_lost_no_time_and_gets_none(candidate, proctor, app, clock):
    started(candidate, proctor)
    clock.advance(minutes=20)
    with app.app_context():
        room_id = db.session.scalar(select(Room.id).where(Room.name == "第01考场"))
    assert proctor.emit("pause_room", {"room_id": room_id, "reason": "停电"})["ok"]
    before = remaining_s(app, clock)
    assert beat_then_restart(app, clock, timedelta(minutes=5)) == []
    assert remaining_s(app, clock) == before


def test_a_first_start_and_a_quiet_restart_change_no_clock(candidate, proctor, app, clock):
    with app.app_context(), write_transaction(db.session):
        assert outage.recover(db.session, clock(), "local") == []  # no heartbeat yet: a fresh installation
    started(candidate, proctor)
    clock.advance(minutes=100)  # the sitting is over
    before = remaining_s(app, clock)
    assert beat_then_restart(app, clock, timedelta(minutes=5)) == []
    assert remaining_s(app, clock) == before == 0


def three_answering(make_candidate, proctor, app) -> list:
    candidates = [make_candidate(ticket).login().connect() for ticket in app.site.tickets[:3]]
    for candidate in candidates:
        proctor.confirm(candidate.ticket)
    proctor.start()
    return candidates


def network_drops(candidates, clock) -> None:
    """Every computer of the room goes silent, a few seconds apart (each socket notices on its own)."""
    for candidate in candidates:
        candidate.socket.disconnect(namespace="/candidate")
        clock.advance(seconds=5)


def test_a_room_whose_network_drops_is_paused_and_made_up_when_it_comes_back(make_candidate, proctor, app, clock):
    candidates = three_answering(make_candidate, proctor, app)
    clock.advance(minutes=10)
    before = candidates[0].state()["clock"]["remaining_ms"]
    network_drops(candidates, clock)
    room = proctor.watch()
    assert room["clock"]["paused"]
    assert any("考场网络中断：全场 3 台考试机同时断线" in line["text"] for line in room["feed"])
    clock.advance(minutes=7)
    candidates[0].connect()  # the network is back: the first computer reconnects by itself
    state = candidates[0].state()
    assert state["phase"] == "answering"
    assert state["clock"]["remaining_ms"] == before  # the minutes without network cost nothing
    with app.app_context():
        incidents = [(i.what, i.decision) for i in db.session.scalars(select(Incident).order_by(Incident.id))]
    assert incidents[0][0].startswith("考场网络中断：全场 3 台考试机自")
    assert incidents[1] == ("考场网络恢复（中断 7 分 15 秒）", "全场恢复计时，中断的 7 分 15 秒 已补足")


def test_one_computer_going_silent_pauses_nothing(make_candidate, proctor, app, clock):
    candidates = three_answering(make_candidate, proctor, app)
    network_drops(candidates[:2], clock)
    assert not proctor.watch()["clock"]["paused"]


def test_computers_silent_far_apart_are_not_a_network_drop(make_candidate, proctor, app, clock):
    candidates = three_answering(make_candidate, proctor, app)
    candidates[0].socket.disconnect(namespace="/candidate")
    clock.advance(minutes=2)  # the others leave much later: separate faults, for the proctor to see
    network_drops(candidates[1:], clock)
    assert not proctor.watch()["clock"]["paused"]


def test_a_network_drop_longer_than_30_minutes_waits_for_the_chief_examiner(make_candidate, proctor, app, clock):
    candidates = three_answering(make_candidate, proctor, app)
    network_drops(candidates, clock)
    clock.advance(minutes=40)
    candidates[0].connect()
    assert candidates[0].state()["phase"] == "paused"
    assert proctor.watch()["clock"]["paused"]


def test_computers_not_back_yet_after_a_restart_are_no_network_drop(make_candidate, proctor, app, clock):
    candidates = three_answering(make_candidate, proctor, app)
    clock.advance(minutes=10)
    before = candidates[0].state()["clock"]["remaining_ms"]
    beat_then_restart(app, clock, timedelta(seconds=20))
    with app.app_context(), write_transaction(db.session):
        service.reset_presence(db.session, clock(), "local")  # as ``jikao serve`` does at start
    candidates[0].connect()
    clock.advance(seconds=3)
    candidates[0].socket.disconnect(namespace="/candidate")  # the others have not reconnected yet
    candidates[0].connect()
    assert candidates[0].state()["clock"]["remaining_ms"] == before - 3_000  # the outage made up once, no more
