"""What a proctor may do to a running exam: pause and resume the room or one candidate, extend time, force a
submission, broadcast an announcement. Each function takes its target and arguments, then who acts and when.

Every action needs a reason, is refused when the rules do not allow it (before anything changes), and goes
to the ledger and to the room's feed. Never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server import audit
from server.errors import ExamError
from server.exam import discipline, feed, outage
from server.exam.models import Attempt, Room
from server.exam.service import (
    attempt_clock,
    duration_text,
    forget_presence,
    minutes_text,
    phase,
    record_clock,
    room_clock,
    staff_name,
    submit,
)
from server.timeutil import iso

MAX_EXTENSION_MIN = 120


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ExamError("reason_required", "请写明原因。")
    return reason


def _running_room(session, room: Room, now: datetime):
    clock = room_clock(session, room, now)
    if clock.started_at is None:
        raise ExamError("not_started", "本考场尚未开考。")
    if clock.over:
        raise ExamError("room_over", "本考场考试时间已结束。")
    return clock


def _own_pause(session, attempt: Attempt, now: datetime) -> bool:
    """Whether the candidate's own clock (not the room's) is paused."""
    last = outage.last_pause(session, attempt.candidate.room_id, attempt.id, now)
    return last is not None and last.kind == "pause"


def _taking(session, attempt: Attempt | None, now: datetime) -> Attempt:
    """The attempt, if its candidate is taking the exam now (started, not submitted, time left)."""
    if attempt is None or attempt.status == "awaiting_confirmation":
        raise ExamError("not_confirmed", "该考生尚未确认入场。")
    current = phase(attempt, attempt_clock(session, attempt, now))
    if current == "submitted":
        raise ExamError("submitted", "该考生已交卷。")
    if current == "waiting_start":
        raise ExamError("not_started", "本考场尚未开考。")
    if current == "time_up":
        raise ExamError("time_up", "该考生的考试时间已结束。")
    return attempt


def pause_room(session, room: Room, reason: str, actor_id: int, now: datetime) -> None:
    reason = _reason(reason)
    if _running_room(session, room, now).paused:
        raise ExamError("already_paused", "本考场已经暂停。")
    record_clock(session, room.id, None, "pause", actor_id, reason, now)
    feed.record(session, room.id, "pause", f"全场暂停计时：{reason}（{staff_name(session, actor_id)}）", now)


def resume_room(session, room: Room, reason: str, actor_id: int, now: datetime, chief: bool = False) -> None:
    """Restart the room's clock. After an outage longer than the sitting's make-up limit (30 minutes by default)
    only the chief examiner may (the
    regulations leave that decision to them: :func:`chief_decision`)."""
    reason = reason.strip() or "恢复考试"
    if not _running_room(session, room, now).paused:
        raise ExamError("not_paused", "本考场没有暂停。")
    if not chief and outage.awaiting_chief(session, room, now):
        limit = minutes_text(room.session.make_up_max_s)
        raise ExamError("chief_decides", f"中断已超过 {limit}，须由主考决定继续考试、结束考试或另行安排考试。")
    record_clock(session, room.id, None, "resume", actor_id, reason, now)
    feed.record(session, room.id, "resume", f"全场恢复计时（{staff_name(session, actor_id)}）", now)


def pause_candidate(session, attempt: Attempt | None, reason: str, actor_id: int, now: datetime) -> None:
    reason = _reason(reason)
    attempt = _taking(session, attempt, now)
    if _own_pause(session, attempt, now):
        raise ExamError("already_paused", "该考生已经暂停。")
    record_clock(session, attempt.candidate.room_id, attempt.id, "pause", actor_id, reason, now)
    feed.about(session, attempt.candidate, "pause", f"暂停计时：{reason}（{staff_name(session, actor_id)}）", now)


def resume_candidate(session, attempt: Attempt | None, reason: str, actor_id: int, now: datetime) -> None:
    reason = reason.strip() or "恢复考试"
    if attempt is None or not _own_pause(session, attempt, now):
        raise ExamError("not_paused", "该考生没有被单独暂停。")
    if attempt.status == "submitted":
        raise ExamError("submitted", "该考生已交卷。")
    record_clock(session, attempt.candidate.room_id, attempt.id, "resume", actor_id, reason, now)
    feed.about(session, attempt.candidate, "resume", f"恢复计时（{staff_name(session, actor_id)}）", now)


def _minutes(minutes: int) -> int:
    if not 1 <= minutes <= MAX_EXTENSION_MIN:
        raise ExamError("invalid_minutes", f"延长时间应为 1 到 {MAX_EXTENSION_MIN} 分钟。")
    return minutes


def extend_room(session, room: Room, minutes: int, reason: str, actor_id: int, now: datetime) -> None:
    """More time for everyone in the room (e.g. a power cut was mended: the lost minutes are made up)."""
    reason, minutes = _reason(reason), _minutes(minutes)
    _running_room(session, room, now)
    record_clock(session, room.id, None, "extend", actor_id, reason, now, seconds=minutes * 60)
    feed.record(
        session, room.id, "extend", f"全场延长 {minutes} 分钟：{reason}（{staff_name(session, actor_id)}）", now
    )


def extend_candidate(session, attempt: Attempt | None, minutes: int, reason: str, actor_id: int, now) -> None:
    """More time for one candidate (e.g. their computer failed and they moved to another)."""
    reason, minutes = _reason(reason), _minutes(minutes)
    attempt = _taking(session, attempt, now)
    record_clock(session, attempt.candidate.room_id, attempt.id, "extend", actor_id, reason, now, seconds=minutes * 60)
    feed.about(
        session, attempt.candidate, "extend", f"延长 {minutes} 分钟：{reason}（{staff_name(session, actor_id)}）", now
    )


def make_up(session, attempt: Attempt | None, actor_id: int, now: datetime) -> int:
    """Give the candidate the time their failed computer cost them, as offered after 换机 (one action)."""
    if attempt is None or attempt.make_up_s <= 0:
        raise ExamError("nothing_to_make_up", "该考生没有待补的时间。")
    attempt = _taking(session, attempt, now)
    seconds, attempt.make_up_s = attempt.make_up_s, 0
    reason = f"换机耽误的考试时间补足（{duration_text(seconds)}）"
    record_clock(session, attempt.candidate.room_id, attempt.id, "extend", actor_id, reason, now, seconds=seconds)
    feed.about(
        session,
        attempt.candidate,
        "extend",
        f"补时 {duration_text(seconds)}：{reason}（{staff_name(session, actor_id)}）",
        now,
    )
    return seconds


def force_submit(session, attempt: Attempt | None, reason: str, actor_id: int, now: datetime) -> float:
    """The proctor ends the candidate's exam now (the answers so far are scored)."""
    reason = _reason(reason)
    attempt = _taking(session, attempt, now)
    audit.record(session, now, f"account:{actor_id}", "attempt.force_submit", f"attempt:{attempt.id}", reason=reason)
    feed.about(
        session, attempt.candidate, "force_submit", f"由监考员收卷：{reason}（{staff_name(session, actor_id)}）", now
    )
    return submit(session, attempt, now, reason="proctor")


DECISIONS = {
    "continue": "继续考试，补足耽误的考试时间",
    "end": "结束本场考试，按已作答部分评分",
    "reschedule": "中止本场考试，另行安排考试（本场作答保存，不评分）",
}


def chief_decision(session, room: Room, decision: str, reason: str, actor_id: int, now: datetime) -> int:
    """The chief examiner's decision for a room whose exam stands paused after a long outage (SPEC.md "Faults":
    extend, reschedule or cancel): continue with the lost time made up, end the sitting now (the answers so
    far are scored), or stop it for a rescheduled sitting (the answers are kept, nothing is scored).

    Every candidate of the room still in the exam is affected at once; the decision goes into the room
    record with what happened. Returns how many candidates' exams it ended."""
    if decision not in DECISIONS:
        raise ExamError("invalid_decision", "请选择：继续考试、结束考试或另行安排考试。")
    if not _running_room(session, room, now).paused:
        raise ExamError("not_paused", "本考场没有暂停；请先暂停计时，再由主考决定。")
    what = reason.strip() or "考试中断"
    text = f"主考决定：{DECISIONS[decision]}"
    if decision == "continue":
        resume_room(session, room, f"{text}（{what}）", actor_id, now, chief=True)
        discipline.record_incident(session, room, what, text, None, actor_id, now)
        return 0
    record_clock(session, room.id, None, "end", actor_id, f"{text}（{what}）", now)
    feed.record(session, room.id, "end", f"{text}（{staff_name(session, actor_id)}）", now)
    taking = [c.attempt for c in room.candidates if c.attempt is not None and c.attempt.status == "confirmed"]
    for attempt in taking:
        submit(session, attempt, now, reason="ended" if decision == "end" else "rescheduled")
    discipline.record_incident(session, room, what, f"{text}；{len(taking)} 名考生的考试随之结束", None, actor_id, now)
    return len(taking)


def announce(session, room: Room, text: str, actor_id: int, now: datetime) -> dict:
    """A message for every candidate of the room (shown on their screens), kept in the feed."""
    text = text.strip()
    if not text:
        raise ExamError("empty_announcement", "通知内容不能为空。")
    audit.record(session, now, f"account:{actor_id}", "room.announce", f"room:{room.id}", text=text)
    feed.record(session, room.id, "announce", f"广播通知：{text}（{staff_name(session, actor_id)}）", now)
    return {"kind": "announcement", "text": text, "at": iso(now)}


def mark_absent(session, candidate, actor_id: int, now: datetime) -> None:
    """缺考: the candidate never logged in, and the late-entry cutoff has passed."""
    if candidate.attempt is not None:
        raise ExamError("present", "该考生已登录，不能记为缺考。")
    if candidate.absent_at is not None:
        raise ExamError("already_absent", "该考生已记为缺考。")
    clock = room_clock(session, candidate.room, now)
    cutoff = timedelta(seconds=candidate.session.late_entry_s)
    if clock.started_at is None or now <= clock.started_at + cutoff:
        minutes = candidate.session.late_entry_s // 60
        raise ExamError("too_early_for_absence", f"开考 {minutes} 分钟后才能记为缺考。")
    candidate.absent_at = now
    candidate.absent_by = actor_id
    audit.record(session, now, f"account:{actor_id}", "candidate.absent", f"candidate:{candidate.id}")
    feed.about(session, candidate, "absent", f"记为缺考（{staff_name(session, actor_id)}）", now)


def allow_move(session, attempt: Attempt | None, reason: str, actor_id: int, now: datetime) -> None:
    """换机: the candidate continues on another computer; this one's session ends at once."""
    reason = _reason(reason)
    if attempt is None or attempt.status == "awaiting_confirmation":
        raise ExamError("not_confirmed", "该考生尚未确认入场；未确认的登录可以直接拒绝后重新登录。")
    if attempt.status == "submitted":
        raise ExamError("submitted", "该考生已交卷。")
    attempt.move_allowed = True
    attempt.device_token = f"moved:{now.timestamp():.0f}"  # no browser holds this: the old one is out
    # The old computer's sockets are closed now, and their closing is no longer this attempt's: not counted.
    attempt.connections = 0
    forget_presence(session, attempt.id)
    attempt.disconnected_at = attempt.disconnected_at or attempt.last_seen_at or now  # its last sign of life
    audit.record(session, now, f"account:{actor_id}", "candidate.allow_move", f"attempt:{attempt.id}", reason=reason)
    feed.about(session, attempt.candidate, "move", f"批准换机：{reason}（{staff_name(session, actor_id)}）", now)
