"""Discipline and the room record: warnings, removal after the second, voided scores, incidents."""

from server.audit import AuditEntry
from server.exam.models import Attempt, Incident, Violation
from tests.helpers import ProctorActions, make_account, stored
from tests.integration.test_proctor_actions import feed_lines, started


def test_two_warnings_offer_removal_which_ends_the_exam_for_good(proctor, candidate, app):
    candidate_id = started(candidate, proctor)
    assert proctor.emit("warn", {"candidate_id": candidate_id, "what": ""})["error"]["code"] == "reason_required"
    first = proctor.emit("warn", {"candidate_id": candidate_id, "what": "左顾右盼，与邻座交谈"})
    assert first == {"ok": True, "warnings": 1, "may_remove": False}
    second = proctor.emit("warn", {"candidate_id": candidate_id, "what": "再次与邻座交谈"})
    assert second == {"ok": True, "warnings": 2, "may_remove": True}
    assert proctor.seat(candidate.ticket)["warnings"] == 2
    candidate.received()
    assert proctor.emit("remove", {"candidate_id": candidate_id, "what": "两次警告后仍与邻座交谈"})["ok"]
    ended = [e["args"][0] for e in candidate.received() if e["name"] == "session_ended"]
    assert ended[0]["code"] == "removed" and "取消本科目考试资格" in ended[0]["message"]
    [attempt] = stored(app, Attempt)
    assert (attempt.status, attempt.submit_reason, attempt.score_void) == ("submitted", "removed", True)
    register = [(v.kind, v.what, v.decision) for v in stored(app, Violation)]
    assert register == [
        ("warning", "左顾右盼，与邻座交谈", "警告"),
        ("warning", "再次与邻座交谈", "警告"),
        ("removal", "两次警告后仍与邻座交谈", "取消本科目考试资格，责令离开考场"),
    ]
    refused = candidate.post("/api/candidate/login", {"ticket": candidate.ticket})
    assert refused.get_json()["error"]["code"] == "already_submitted"  # no way back in
    assert proctor.emit("remove", {"candidate_id": candidate_id, "what": "x"})["error"]["code"] == "already_removed"


def test_a_score_is_voided_and_incidents_go_into_the_room_record(proctor, candidate, app):
    candidate_id = started(candidate, proctor)
    assert proctor.emit("void_score", {"candidate_id": candidate_id, "what": "查实替考"})["ok"]
    assert proctor.seat(candidate.ticket)["score_void"] is True
    assert proctor.emit("void_score", {"candidate_id": candidate_id, "what": "x"})["error"]["code"] == "already_void"
    room_id = proctor.room_id()
    proctor.received()
    reply = proctor.emit(
        "record_incident",
        {"room_id": room_id, "candidate_id": candidate_id, "what": "考试机黑屏", "decision": "换机并补时 5 分钟"},
    )
    assert reply["ok"]
    assert (
        proctor.emit("record_incident", {"room_id": room_id, "what": "停电 8 分钟", "decision": ""})["error"]["code"]
        == "reason_required"
    )
    [incident] = stored(app, Incident)
    assert (incident.what, incident.decision, incident.candidate_id) == (
        "考试机黑屏",
        "换机并补时 5 分钟",
        candidate_id,
    )
    assert feed_lines(proctor) == ["考场情况 01号 张建华：考试机黑屏；处理：换机并补时 5 分钟"]
    assert {e.action for e in stored(app, AuditEntry)} >= {"violation.void_score", "incident.record"}


def test_the_supervisor_records_nothing(proctor, candidate, app):
    candidate_id = started(candidate, proctor)
    make_account(app, "dudao", "supervisor", "supervisor-password")
    supervisor = ProctorActions(app, "dudao", "supervisor-password")
    room_id = proctor.room_id()
    for event, payload in [
        ("warn", {"candidate_id": candidate_id, "what": "x"}),
        ("remove", {"candidate_id": candidate_id, "what": "x"}),
        ("void_score", {"candidate_id": candidate_id, "what": "x"}),
        ("record_incident", {"room_id": room_id, "what": "x", "decision": "y"}),
    ]:
        assert supervisor.emit(event, payload)["error"]["code"] == "forbidden"
    assert stored(app, Violation) == [] and stored(app, Incident) == []
