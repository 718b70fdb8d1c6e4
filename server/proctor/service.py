"""What a proctor sees of a room, and who may act on it. Never commits."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server.auth.models import Account
from server.auth.views import current_account
from server.exam import discipline, feed, outage
from server.exam import service as exam
from server.exam.models import Candidate, Room, RoomClosing, RoomProctor
from server.timeutil import iso

STATE_LABELS = {
    "not_logged_in": "未到场",
    "awaiting_confirmation": "待确认身份",
    "waiting_start": "已确认，等待开考",
    "answering": "答题中",
    "paused": "已暂停",
    "time_up": "时间到",
    "submitted": "已交卷",
    "disconnected": "已断线",
    "absent": "缺考",
}
STAFF_ROLES = ("proctor", "chief", "supervisor")  # who may open the console and read the room record
IDLE_AFTER_S = 5 * 60  # answering without any change for this long shows as 长时间无操作


class AccessDenied(exam.ExamError):
    def __init__(self, message: str = "您没有管理该考场的权限。"):
        super().__init__("forbidden", message)


def staff() -> Account:
    """The logged-in proctor, chief examiner or supervisor of this request or socket; refused otherwise."""
    account = current_account()
    if account is None or account.role not in STAFF_ROLES:
        raise AccessDenied("请先以监考员、主考或督导员身份登录监考台。")
    return account


def rooms_for(session, account: Account) -> list[Room]:
    """The rooms a staff member may watch: their own as proctor, every room as chief or supervisor."""
    if account.role in ("chief", "supervisor"):
        return list(session.scalars(select(Room).order_by(Room.id)))
    if account.role != "proctor":
        return []
    return list(
        session.scalars(
            select(Room)
            .join(RoomProctor, RoomProctor.room_id == Room.id)
            .where(RoomProctor.account_id == account.id)
            .order_by(Room.id)
        )
    )


def require_room(session, account: Account, room_id: int, act: bool = False) -> Room:
    room = session.get(Room, room_id)
    if room is None or room not in rooms_for(session, account):
        raise AccessDenied()
    if act and account.role == "supervisor":
        raise AccessDenied("督导员只能查看，不能操作。")
    if act and session.get(RoomClosing, room.id) is not None:
        # Closed (封场): its results and kept record stand as they are (server.sittings.closing).
        raise exam.ExamError("room_closed", "本考场已封场，考试记录和成绩已定，不能再操作。")
    return room


def require_candidate(session, account: Account, candidate_id: int, act: bool = True) -> Candidate:
    candidate = session.get(Candidate, candidate_id)
    if candidate is None:
        raise exam.ExamError("unknown_candidate", "未找到该考生。")
    require_room(session, account, candidate.room_id, act=act)
    return candidate


def seat_view(session, candidate: Candidate, now: datetime, room_deadline: datetime | None = None) -> dict:
    attempt = candidate.attempt
    clock, room_clock = exam.clocks(session, attempt, now) if attempt else (None, None)
    state = exam.phase(attempt, clock)
    if attempt is not None and state not in ("submitted", "time_up") and attempt.disconnected_at is not None:
        state = "disconnected"
    if attempt is None and candidate.absent_at is not None:
        state = "absent"
    view = {
        "candidate_id": candidate.id,
        "seat": candidate.seat_no,
        "row": candidate.seat_row,
        "col": candidate.seat_col,
        "name": candidate.name,
        "ticket": candidate.ticket,
        "id_number": candidate.id_number,
        "state": state,
        "state_label": STATE_LABELS[state],
    }
    if attempt is not None:
        view["logged_in_at"] = iso(attempt.logged_in_at)
        view["last_seen_at"] = iso(attempt.last_seen_at)  # the last answer or connection: activity
        view["disconnected_at"] = iso(attempt.disconnected_at)
        view["focus_lost"] = attempt.focus_lost
        view["warnings"] = discipline.warnings_of(session, candidate)
        view["score_void"] = attempt.score_void
        view["make_up_s"] = attempt.make_up_s  # offered after 换机: the time the failed computer cost
        if clock is not None and clock.started_at is not None:
            if room_deadline is None:
                room_deadline = room_clock.deadline
            if clock.deadline != room_deadline or clock.paused:  # the candidate's own time differs
                view["own_clock"] = exam.clock_view(clock, now)
        if attempt.paper:
            view["answered"] = exam.answered_count(attempt)
            view["total"] = exam.paper_size(attempt)
            view["paper_no"] = attempt.paper_no  # 2 and up: a backup paper replaced a leaked one
        if attempt.status == "submitted":
            view["submitted_at"] = iso(attempt.submitted_at)
            view["submit_reason"] = attempt.submit_reason
    return view


def _pause_view(session, room: Room, clock, now: datetime) -> dict | None:
    """Why the room's clock stands still, and whether it waits for the chief examiner (outage > 30 min)."""
    last = outage.last_pause(session, room.id, None, now) if clock.paused and not clock.over else None
    if last is None or last.kind != "pause":
        return None
    return {
        "reason": last.reason,
        "since": iso(last.at),
        "by": exam.staff_name(session, last.actor_id),
        "awaiting_chief": outage.waits_for_chief(last, now, room.session.make_up_max_s),
    }


def room_view(session, room: Room, now: datetime) -> dict:
    exam_session = room.session
    clock = exam.room_clock(session, room, now)
    seats = [seat_view(session, c, now, clock.deadline) for c in room.candidates]
    counts: dict[str, int] = {}
    for seat in seats:
        counts[seat["state"]] = counts.get(seat["state"], 0) + 1
    return {
        "id": room.id,
        "name": room.name,
        "rows": room.rows,
        "cols": room.cols,
        "timezone": current_app.config["TIMEZONE"],
        "session": {
            "name": exam_session.name,
            "occupation": exam_session.occupation_name,
            "level": exam_session.level_name,
            "subject": exam_session.subject,
            "scheduled_start": iso(exam_session.scheduled_start),
            "duration_s": exam_session.duration_s,
        },
        "clock": exam.clock_view(clock, now),
        "pause": _pause_view(session, room, clock, now),
        "seats": seats,
        "counts": {
            "expected": len(seats),
            "present": len(seats) - counts.get("not_logged_in", 0),
            **counts,
        },
        "idle_after_s": IDLE_AFTER_S,
        "feed": feed.recent(session, room.id),
    }
