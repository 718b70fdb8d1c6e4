"""Discipline and the room record (000 违规违纪处理办法): warnings, removal, voided scores in the violation
register (违纪违规考生登记表), and incidents in the room record (考场情况记录表). Each line says when, which
seat, what happened and what was decided, and who recorded it. Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from server import audit
from server.db import MEMO
from server.errors import ExamError
from server.exam import feed
from server.exam.models import Attempt, Candidate, Incident, Room, Violation
from server.exam.service import staff_name, submit

WARNINGS_BEFORE_REMOVAL = 2  # two warnings in one sitting let the proctor remove the candidate
DECISIONS = {"warning": "警告", "removal": "取消本科目考试资格，责令离开考场", "void_score": "本科目成绩无效"}


def _text(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ExamError("reason_required", f"请写明{name}。")
    return value


def _confirmed(candidate: Candidate) -> Attempt:
    attempt = candidate.attempt
    if attempt is None or attempt.status == "awaiting_confirmation":
        raise ExamError("not_confirmed", "该考生尚未确认入场。")
    return attempt


def warnings_of(session, candidate: Candidate) -> int:
    read = session.info.get(MEMO, {}).get(("warnings", candidate.id))  # see service.read_ahead
    if read is not None:
        return read
    return session.scalar(
        select(func.count(Violation.id)).where(Violation.candidate_id == candidate.id, Violation.kind == "warning")
    )


def _register(session, candidate: Candidate, kind: str, what: str, actor_id: int, now: datetime) -> Violation:
    row = Violation(
        room_id=candidate.room_id,
        candidate_id=candidate.id,
        at=now,
        kind=kind,
        what=what,
        decision=DECISIONS[kind],
        actor_id=actor_id,
    )
    session.add(row)
    audit.record(session, now, f"account:{actor_id}", f"violation.{kind}", f"candidate:{candidate.id}", what=what)
    return row


def warn(session, candidate: Candidate, what: str, actor_id: int, now: datetime) -> int:
    """Record a warning; returns how many the candidate now has in this sitting."""
    what = _text(what, "违纪情况")
    if candidate.attempt is None:
        raise ExamError("not_logged_in", "该考生尚未登录。")
    _register(session, candidate, "warning", what, actor_id, now)
    session.flush()
    count = warnings_of(session, candidate)
    feed.about(session, candidate, "warning", f"第 {count} 次警告：{what}（{staff_name(session, actor_id)}）", now)
    return count


def remove(session, candidate: Candidate, what: str, actor_id: int, now: datetime) -> Attempt:
    """Remove the candidate from the exam (取消考试资格): the attempt ends now and its score is void."""
    what = _text(what, "原因")
    attempt = _confirmed(candidate)
    if attempt.status == "submitted" and attempt.submit_reason == "removed":
        raise ExamError("already_removed", "该考生已被移出考场。")
    _register(session, candidate, "removal", what, actor_id, now)
    feed.about(session, candidate, "removal", f"移出考场、取消考试资格：{what}（{staff_name(session, actor_id)}）", now)
    if attempt.status != "submitted":
        submit(session, attempt, now, reason="removed")
    attempt.score_void = True
    return attempt


def void_score(session, candidate: Candidate, what: str, actor_id: int, now: datetime) -> None:
    """本科目成绩无效: the candidate's score of this sitting will not count."""
    what = _text(what, "原因")
    attempt = _confirmed(candidate)
    if attempt.score_void:
        raise ExamError("already_void", "该考生的成绩已记为无效。")
    attempt.score_void = True
    _register(session, candidate, "void_score", what, actor_id, now)
    feed.about(session, candidate, "void_score", f"成绩记为无效：{what}（{staff_name(session, actor_id)}）", now)


def record_incident(
    session, room: Room, what: str, decision: str, candidate: Candidate | None, actor_id: int | None, now: datetime
) -> Incident:
    """A line of the room record: what happened (a power cut, a broken computer, …) and what was decided.
    ``actor_id`` None: recorded by the server itself (an outage it found)."""
    what, decision = _text(what, "情况"), _text(decision, "处理结果")
    row = Incident(
        room_id=room.id,
        candidate_id=candidate.id if candidate else None,
        at=now,
        what=what,
        decision=decision,
        actor_id=actor_id,
    )
    session.add(row)
    audit.record(session, now, audit.staff(actor_id), "incident.record", f"room:{room.id}", what=what)
    seat = f"{feed.who(candidate)}：" if candidate else ""
    feed.record(session, room.id, "incident", f"考场情况 {seat}{what}；处理：{decision}", now, candidate)
    return row
