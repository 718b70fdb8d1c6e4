"""The attempt's life, from ticket login to score: plain functions that take a session and ``now``.

They check every rule and raise :class:`ExamError` (a stable code and a Chinese message for the
screen) before changing anything; they never commit: the view or event handler owns the transaction.

Phases as a candidate sees them::

    awaiting_confirmation -> waiting_start -> answering -> submitted
    (login)                  (proctor confirms) (room started)  (candidate submits, or time is up)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, delete, event, func, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from item_bank import ITEM_TYPES, PASS_MARK, ItemError, score_paper
from item_bank.paper import paper_item_ids
from server import audit
from server.audit import AuditEntry
from server.auth.models import Account
from server.bank.service import load_items
from server.db import MEMO
from server.errors import ExamError
from server.exam import assembly, feed
from server.exam.clock import ClockState, Tick, clock_state
from server.exam.models import (
    Answer,
    AnswerLog,
    Attempt,
    Candidate,
    ClockEvent,
    ExamSession,
    Room,
    SocketPresence,
    Violation,
)
from server.exam.sealing import keep_sheet, kept_sheet, seal_paper
from server.timeutil import iso, local
from server.wire import RawJSON


@dataclass
class AnswerSaved:
    attempt: Attempt
    item_id: int
    seq: int
    applied: bool  # False when a newer change was already stored (a stale or replayed message)


def session_ended() -> ExamError:
    """This browser no longer holds the attempt: the proctor undid the login, or it moved elsewhere."""
    return ExamError("session_ended", "本机的考试登录已失效，请重新输入准考证号登录。")


def find_candidate(session, ticket: str) -> Candidate:
    candidate = session.scalar(select(Candidate).where(Candidate.ticket == ticket.strip()))
    if candidate is None:
        raise ExamError("unknown_ticket", "未找到该准考证号，请核对后重新输入。")
    return candidate


def _when(moment: datetime, now: datetime) -> str:
    """A moment as the candidate reads it: the site's clock time, with the date when it is not today."""
    there = local(moment)
    return f"{there:%H:%M}" if there.date() == local(now).date() else f"{there.month}月{there.day}日 {there:%H:%M}"


def check_can_log_in(session, candidate: Candidate, device_token: str | None, now: datetime) -> None:
    """Refuse a login the rules do not allow, before anything is written."""
    if candidate.absent_at is not None:
        raise ExamError("absent", "该考生已被记为缺考，不能登录。如有疑问请联系监考员。")
    attempt = candidate.attempt
    if attempt is None:
        clock = room_clock(session, candidate.room, now)
        exam = candidate.session
        opens = exam.scheduled_start - timedelta(seconds=exam.entry_before_s)
        if clock.started_at is None and now < opens:
            raise ExamError(
                "entry_not_open",
                f"尚未到入场时间。本场考试{_when(exam.scheduled_start, now)}开考，{_when(opens, now)}起可以登录。",
            )
        cutoff = timedelta(seconds=exam.late_entry_s)
        if clock.started_at is not None and now > clock.started_at + cutoff:
            minutes = candidate.session.late_entry_s // 60
            raise ExamError("too_late", f"开考 {minutes} 分钟后不得入场，不能再登录考试。")
        return
    if attempt.status == "submitted":
        raise ExamError("already_submitted", "该考生已交卷，不能再次进入考试。")
    if attempt.device_token != device_token and not attempt.move_allowed:
        raise ExamError("active_elsewhere", "该准考证号已在其他考试机上登录。请举手示意监考员处理。")


def log_in(session, candidate: Candidate, device_token: str | None, now: datetime) -> Attempt:
    """Bind the candidate to this computer (or resume on the same one, or move to this one when the proctor
    has allowed it: 换机) and await the proctor."""
    check_can_log_in(session, candidate, device_token, now)
    attempt = candidate.attempt
    if attempt is not None:
        if attempt.device_token != device_token:  # the move the proctor allowed
            attempt.device_token = device_token
            attempt.move_allowed = False
            feed.about(session, candidate, "move", "已在新的考试机上登录（换机）", now)
            audit.record(session, now, f"candidate:{candidate.id}", "candidate.moved", f"attempt:{attempt.id}")
            _time_lost_moving(session, attempt, now)
        attempt.last_seen_at = now
        return attempt
    attempt = Attempt(
        candidate=candidate,
        status="awaiting_confirmation",
        device_token=device_token or secrets.token_urlsafe(24),
        logged_in_at=now,
        last_seen_at=now,
        flags=[],
    )
    session.add(attempt)
    audit.record(session, now, f"candidate:{candidate.id}", "candidate.login", f"attempt:{candidate.ticket}")
    feed.about(session, candidate, "login", "登录，等待核验身份", now)
    return attempt


def _time_lost_moving(session, attempt: Attempt, now: datetime) -> None:
    """The exam time that ran from the failed computer's last sign of life (the server stopped hearing from
    it, or its last answer) to this login: made up at once if the sitting says so, else offered."""
    since = attempt.disconnected_at or attempt.last_seen_at
    if attempt.status != "confirmed" or since is None:
        return
    lost_s = int(
        (
            attempt_clock(session, attempt, since).remaining - attempt_clock(session, attempt, now).remaining
        ).total_seconds()
    )
    if lost_s <= 0:
        return
    candidate = attempt.candidate
    if candidate.session.auto_make_up:
        reason = f"换机耽误的考试时间，自动补足（{duration_text(lost_s)}）"
        record_clock(session, candidate.room_id, attempt.id, "extend", None, reason, now, seconds=lost_s)
        feed.about(session, candidate, "extend", f"补时 {duration_text(lost_s)}：{reason}", now)
        attempt.make_up_s = 0
    else:
        attempt.make_up_s = lost_s
        feed.about(session, candidate, "move", f"换机耽误 {duration_text(lost_s)}，建议为其补时", now)


def duration_text(seconds: int) -> str:
    """``125`` → ``2 分 5 秒``, as the console and the room record say it."""
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} 小时 {minutes} 分 {seconds} 秒"
    return f"{minutes} 分 {seconds} 秒" if minutes else f"{seconds} 秒"


def minutes_text(seconds: int) -> str:
    """A limit of the timing policy: ``1800`` → ``30 分钟``."""
    return f"{seconds // 60} 分钟" if seconds % 60 == 0 else duration_text(seconds)


def confirm_identity(session, attempt: Attempt, proctor_id: int, now: datetime) -> None:
    """The proctor has checked the person against the ticket: draw the paper (still sealed)."""
    if attempt.status != "awaiting_confirmation":
        raise ExamError("not_awaiting", "该考生不在等待身份确认的状态。")
    if room_clock(session, attempt.candidate.room, now).over:
        raise ExamError("room_over", "本考场考试时间已结束，不能再确认考生入场。")
    candidate = attempt.candidate
    seal_paper(attempt, assembly.paper_for_seat(session, attempt, now))
    attempt.status = "confirmed"
    attempt.confirmed_at = now
    attempt.confirmed_by = proctor_id
    audit.record(session, now, f"account:{proctor_id}", "identity.confirm", f"candidate:{candidate.id}")
    feed.about(session, candidate, "confirm", f"身份已核验（{staff_name(session, proctor_id)}）", now)


def reject_identity(session, attempt: Attempt, proctor_id: int, now: datetime) -> None:
    """The person is not the ticket's holder, or must log in again elsewhere: undo the login."""
    if attempt.status != "awaiting_confirmation":
        raise ExamError("not_awaiting", "该考生不在等待身份确认的状态。")
    audit.record(session, now, f"account:{proctor_id}", "identity.reject", f"candidate:{attempt.candidate_id}")
    feed.about(session, attempt.candidate, "reject", f"登录未获确认（{staff_name(session, proctor_id)}）", now)
    forget_presence(session, attempt.id)
    session.delete(attempt)


def start_room(session, room: Room, proctor_id: int, now: datetime) -> None:
    """The single start signal for the room (统一开考): papers open and clocks start."""
    if room.started_at is not None:
        raise ExamError("already_started", "本考场已经开考。")
    room.started_at = now
    session.add(ClockEvent(room_id=room.id, kind="start", at=now, actor_id=proctor_id))
    audit.record(session, now, f"account:{proctor_id}", "room.start", f"room:{room.id}")
    feed.record(session, room.id, "start", f"统一开考（{staff_name(session, proctor_id)}）", now)


def record_clock(
    session,
    room_id: int,
    attempt_id: int | None,
    kind: str,
    actor_id: int | None,
    reason: str,
    now: datetime,
    seconds: int = 0,
    at: datetime | None = None,
) -> None:
    """Record a clock event of the room (or of one attempt), with the ledger entry saying who and why.
    ``actor_id`` None: the server itself; ``at``: when it took effect, if not now (an outage found later)."""
    session.add(
        ClockEvent(
            room_id=room_id,
            attempt_id=attempt_id,
            kind=kind,
            at=at or now,
            seconds=seconds,
            actor_id=actor_id,
            reason=reason,
        )
    )
    target = f"attempt:{attempt_id}" if attempt_id else f"room:{room_id}"
    audit.record(session, now, audit.staff(actor_id), f"clock.{kind}", target, seconds=seconds, reason=reason)


def tick(kind: str, at: datetime, seconds: int, attempt_id: int | None) -> Tick:
    """A clock event as the clock sees it: the room's, or one candidate's own."""
    return Tick(kind, at, seconds, "room" if attempt_id is None else "candidate")


def _duration(exam) -> timedelta:
    return timedelta(seconds=exam.duration_s)


def attempt_clock(session, attempt: Attempt, now: datetime) -> ClockState:
    return clocks(session, attempt, now)[0]


def _clock_ticks(session, room_id: int, attempt_id: int | None) -> list[Tick]:
    """The room's clock events (and the attempt's own, if given) as ticks; read once per unit of work."""
    memo = session.info.setdefault(MEMO, {})
    key = ("clock", room_id, attempt_id)
    if key not in memo:
        memo[key] = read_ticks(session, room_id, attempt_id)
    return memo[key]


TICKS = select(ClockEvent.kind, ClockEvent.at, ClockEvent.seconds, ClockEvent.attempt_id).where(
    ClockEvent.room_id == bindparam("room_id"),
    (ClockEvent.attempt_id.is_(None)) | (ClockEvent.attempt_id == bindparam("attempt_id")),
)


def read_ticks(executor, room_id: int, attempt_id: int | None) -> list[Tick]:
    """The room's clock events and the attempt's own, as ticks (``executor``: a session or a connection)."""
    rows = executor.execute(TICKS, {"room_id": room_id, "attempt_id": attempt_id})
    return [tick(kind, at, seconds, owner) for kind, at, seconds, owner in rows]


def load_attempts(session, *where) -> list[Attempt]:
    """Attempts with what a state and a seat view read of them (candidate, room, sitting, answers), in two
    queries however many there are."""
    attempts = session.scalars(
        select(Attempt)
        .where(*where)
        .options(
            joinedload(Attempt.candidate).joinedload(Candidate.room).joinedload(Room.session),
            selectinload(Attempt.answers),
        )
    ).all()
    for attempt in attempts:  # the way back, which the seat view takes, without a read per seat
        set_committed_value(attempt.candidate, "attempt", attempt)
    return list(attempts)


def room_attempts(session, room_id: int) -> list[Attempt]:
    return load_attempts(session, Attempt.candidate_id.in_(select(Candidate.id).where(Candidate.room_id == room_id)))


def rooms_ticks(session, room_ids: set[int]) -> dict[int, list[tuple[int | None, Tick]]]:
    """Every clock event of the rooms in one query, by room, each with its owner (None: the room's own)."""
    by_room: dict[int, list[tuple[int | None, Tick]]] = {room_id: [] for room_id in room_ids}
    rows = session.execute(
        select(ClockEvent.room_id, ClockEvent.attempt_id, ClockEvent.kind, ClockEvent.at, ClockEvent.seconds).where(
            ClockEvent.room_id.in_(room_ids)
        )
    )
    for room_id, owner, kind, at, seconds in rows:
        by_room[room_id].append((owner, tick(kind, at, seconds, owner)))
    return by_room


def read_ahead(session, attempts: list[Attempt]) -> None:
    """Read at once what the states and seat views of ``attempts`` would read one seat at a time (their rooms'
    clock events and each candidate's warnings in a query each, the announcements in one per room), and
    remember it for this unit of work. For the welcome of many screens at once (a whole centre after a
    restart) and for a room's start signal."""
    memo = session.info.setdefault(MEMO, {})
    rooms = {a.candidate.room_id for a in attempts}
    by_room = rooms_ticks(session, rooms)
    for room_id, ticks in by_room.items():
        memo[("clock", room_id, None)] = [t for owner, t in ticks if owner is None]
    for attempt in attempts:
        ticks = by_room[attempt.candidate.room_id]
        memo[("clock", attempt.candidate.room_id, attempt.id)] = [t for o, t in ticks if o in (None, attempt.id)]
    for room_id in rooms:
        memo[("announcements", room_id)] = announcements(session, room_id)
    warned = session.execute(
        select(Violation.candidate_id, func.count(Violation.id))
        .where(Violation.candidate_id.in_({a.candidate_id for a in attempts}), Violation.kind == "warning")
        .group_by(Violation.candidate_id)
    )
    counts = dict(warned.all())
    for attempt in attempts:
        memo[("warnings", attempt.candidate_id)] = counts.get(attempt.candidate_id, 0)


@event.listens_for(Session, "after_flush")
def _clock_events_written(session, flush_context) -> None:
    if any(isinstance(row, ClockEvent) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(MEMO, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _unit_of_work_ended(session) -> None:
    session.info.pop(MEMO, None)


def clocks(session, attempt: Attempt, now: datetime) -> tuple[ClockState, ClockState]:
    """The attempt's own clock and its room's, from one read of the room's clock events."""
    ticks = _clock_ticks(session, attempt.candidate.room_id, attempt.id)
    duration = _duration(attempt.candidate.session)
    own = clock_state(duration, ticks, now)
    return own, clock_state(duration, [t for t in ticks if t.scope == "room"], now)


def room_clock(session, room: Room, now: datetime) -> ClockState:
    return clock_state(_duration(room.session), _clock_ticks(session, room.id, None), now)


@dataclass(frozen=True)
class RunningClock:
    attempt_id: int
    room_id: int
    warned: bool
    warning_s: int
    clock: ClockState

    @property
    def time_up(self) -> bool:
        return self.clock.over

    @property
    def warning_due(self) -> bool:
        return not self.warned and in_last_minutes(self.clock, self.warning_s)


def in_last_minutes(clock: ClockState, warning_s: int) -> bool:
    """The clock runs and has at most ``warning_s`` left: the 15-minute notice is due (if not yet given)."""
    return clock.running and clock.remaining <= timedelta(seconds=warning_s)


def _running_seats(*columns):
    """``columns`` of every confirmed attempt in a started room: the seats whose clocks the sweeper watches."""
    return (
        select(*columns)
        .join(Candidate, Attempt.candidate_id == Candidate.id)
        .join(Room, Candidate.room_id == Room.id)
        .join(ExamSession, Room.session_id == ExamSession.id)
        .where(Attempt.status == "confirmed", Room.started_at.isnot(None))
    )


def _seat_clock(duration_s: int, room_ticks: list, attempt_id: int | None, now: datetime) -> ClockState:
    """A seat's clock from its room's ticks with their owners (:func:`rooms_ticks`): the room's own and the
    attempt's; ``attempt_id`` None: the clock of the room's seats with no events of their own."""
    ticks = [tick for owner, tick in room_ticks if owner is None or owner == attempt_id]
    return clock_state(timedelta(seconds=duration_s), ticks, now)


def running_clocks(session, now: datetime) -> list[RunningClock]:
    """Every confirmed attempt in a started room with its clock, read as plain rows in two queries however
    many seats there are (for the sweeper's work once :func:`anything_due` found some)."""
    attempts = session.execute(
        _running_seats(Attempt.id, Candidate.room_id, Attempt.warned_at, ExamSession.duration_s, ExamSession.warning_s)
    ).all()
    if not attempts:
        return []
    by_room = rooms_ticks(session, {room_id for _, room_id, *_ in attempts})
    result = []
    own = {owner for ticks in by_room.values() for owner, _ in ticks if owner is not None}
    room_clocks: dict[int, ClockState] = {}  # most seats keep their room's clock: worked out once a room
    for attempt_id, room_id, warned_at, duration_s, warning_s in attempts:
        if attempt_id in own or room_id not in room_clocks:
            clock = _seat_clock(duration_s, by_room.get(room_id, []), attempt_id, now)
            if attempt_id not in own:
                room_clocks[room_id] = clock
        else:
            clock = room_clocks[room_id]
        result.append(RunningClock(attempt_id, room_id, warned_at is not None, warning_s, clock))
    return result


def phase(attempt: Attempt | None, clock: ClockState | None) -> str:
    if attempt is None:
        return "not_logged_in"
    if attempt.status == "submitted":
        return "submitted"
    if attempt.status == "awaiting_confirmation":
        return "awaiting_confirmation"
    if clock is None or clock.started_at is None:
        return "waiting_start"
    if clock.over:
        return "time_up"
    if clock.paused:
        return "paused"
    return "answering"


def submit_opens_at(attempt: Attempt, clock: ClockState) -> datetime | None:
    if clock.started_at is None:
        return None
    return clock.started_at + timedelta(seconds=attempt.candidate.session.submit_after_s)


def require_answering(session, attempt: Attempt, now: datetime) -> ClockState:
    """The clock state if the candidate may answer now; otherwise the reason why not."""
    clock = attempt_clock(session, attempt, now)
    current = phase(attempt, clock)
    if current == "answering":
        return clock
    if current == "submitted" and attempt.submit_reason == "time_up":
        raise ExamError("time_up", "考试时间已到，不能再作答。")
    if current == "submitted":
        raise ExamError("submitted", "您已交卷，不能再作答。")
    if current == "time_up":
        raise ExamError("time_up", "考试时间已到，不能再作答。")
    if current == "paused":
        raise ExamError("paused", "考试已暂停，请等待监考员通知。")
    raise ExamError("not_started", "考试尚未开始。")


def save_answer(session, attempt: Attempt, item_id: int, response, seq: int, now: datetime) -> AnswerSaved:
    """Store one change of an answer, idempotently by ``seq``."""
    require_answering(session, attempt, now)
    entry = _paper_entry(attempt, item_id)
    if entry is None:
        raise ExamError("not_in_paper", "该题不在您的试卷中。")
    item = load_items(session, [item_id])[item_id]
    try:
        normalized = ITEM_TYPES[item.type].normalize_response(item, response)
    except ItemError as exc:
        raise ExamError("invalid_response", exc.message) from exc
    current = session.scalar(select(Answer).where(Answer.attempt_id == attempt.id, Answer.item_id == item_id))
    if current is not None and current.seq >= seq:
        return AnswerSaved(attempt, item_id, current.seq, applied=False)
    if current is None:
        current = Answer(attempt_id=attempt.id, item_id=item_id)
        session.add(current)
    current.response = normalized
    current.seq = seq
    current.saved_at = now
    session.add(AnswerLog(attempt_id=attempt.id, item_id=item_id, response=normalized, seq=seq, saved_at=now))
    attempt.last_seen_at = now
    return AnswerSaved(attempt, item_id, seq, applied=True)


def set_flag(session, attempt: Attempt, item_id: int, flagged: bool, now: datetime) -> list[int]:
    """Mark an item for review ("标记"), so that the navigator shows it on any computer."""
    require_answering(session, attempt, now)
    if _paper_entry(attempt, item_id) is None:
        raise ExamError("not_in_paper", "该题不在您的试卷中。")
    attempt.flags = marked(attempt.flags, item_id, flagged)
    return attempt.flags


def marked(flags: list[int] | None, item_id: int, flagged: bool) -> list[int]:
    """The attempt's marks for review after marking (or unmarking) ``item_id``: each item once, in id order."""
    return sorted([f for f in flags or () if f != item_id] + ([item_id] if flagged else []))


def close_if_time_up(session, attempt: Attempt, now: datetime) -> bool:
    """Submit the attempt if its time has run out (whoever notices first: the sweeper or an event)."""
    if phase(attempt, attempt_clock(session, attempt, now)) != "time_up":
        return False
    submit(session, attempt, now, reason="time_up")
    return True


def submit(session, attempt: Attempt, now: datetime, reason: str = "candidate") -> float:
    """End the attempt and score it. Candidates may submit only from ``submit_after_s`` on."""
    if attempt.status == "submitted":
        raise ExamError("submitted", "您已交卷。")
    if reason == "candidate":
        clock = require_answering(session, attempt, now)
        opens = submit_opens_at(attempt, clock)
        if opens is not None and now < opens:
            minutes = attempt.candidate.session.submit_after_s // 60
            raise ExamError("too_early", f"开考 {minutes} 分钟后才可以交卷。")
    attempt.status = "submitted"
    attempt.submitted_at = now
    attempt.submit_reason = reason
    # A sitting stopped for a rescheduled one is not scored: the candidate sits the subject again.
    attempt.score = None if reason == "rescheduled" else score_attempt(session, attempt)
    audit.record(session, now, _actor(attempt, reason), "attempt.submit", f"attempt:{attempt.id}", reason=reason)
    done = f"已答 {answered_count(attempt)}/{paper_size(attempt)} 题"
    text = {
        "candidate": f"交卷（{done}）",
        "time_up": f"考试时间到，系统自动交卷（{done}）",
        "removed": f"考试被终止（{done}）",
        "ended": f"主考决定结束考试，按已作答评分（{done}）",
        "rescheduled": f"考试中止，另行安排考试，本场不评分（{done}）",
    }
    feed.about(session, attempt.candidate, "submit", text.get(reason, f"交卷（{done}）"), now)
    return attempt.score


def score_attempt(session, attempt: Attempt) -> float:
    if not attempt.paper:
        return 0.0
    sheet = kept_sheet(attempt.id, attempt.paper_sealed)  # the paper's items, opened for its answers already
    items = sheet.items if sheet is not None else load_items(session, paper_item_ids(attempt.paper))
    responses = {a.item_id: a.response for a in attempt.answers}
    return score_paper(attempt.paper, items, responses)


def expire_due(session, now: datetime) -> list[Attempt]:
    """Submit every confirmed attempt whose time is up (the sweeper calls this every second)."""
    due = [session.get(Attempt, r.attempt_id) for r in running_clocks(session, now) if r.time_up]
    for attempt in due:
        submit(session, attempt, now, reason="time_up")
    return due


def due_warnings(session, now: datetime) -> list[tuple[Attempt, ClockState]]:
    """Attempts that have just entered the last minutes (default 15) and were not yet warned."""
    due = [(session.get(Attempt, r.attempt_id), r) for r in running_clocks(session, now) if r.warning_due]
    for attempt, _ in due:
        attempt.warned_at = now
    for room_id, minutes in {(r.room_id, r.warning_s // 60) for _, r in due}:
        feed.record(session, room_id, "warning", f"距考试结束不足 {minutes} 分钟，已自动提醒考生", now)
    return [(attempt, r.clock) for attempt, r in due]


def anything_due(session, now: datetime) -> bool:
    """Whether a sweep has work: an attempt whose time is up or whose warning is due (as :func:`running_clocks`
    would find). Read without the write lock, and in rows per room, not per seat: the seats of a room share its
    clock, and only the few with clock events of their own (a candidate paused or given time) are worked out
    one by one. At 2,000 seats, reading every seat every second held the event loop for tens of milliseconds,
    and each answer arriving meanwhile waited for it."""
    unwarned = func.sum(case((Attempt.warned_at.is_(None), 1), else_=0))
    rooms = session.execute(
        _running_seats(
            Candidate.room_id, ExamSession.duration_s, ExamSession.warning_s, func.count(Attempt.id), unwarned
        ).group_by(Candidate.room_id, ExamSession.duration_s, ExamSession.warning_s)
    ).all()
    if not rooms:
        return False
    by_room = rooms_ticks(session, {room_id for room_id, *_ in rooms})
    owners = {owner for ticks in by_room.values() for owner, _ in ticks if owner is not None}
    own: dict[int, list[tuple[int, bool]]] = {}  # room -> its running attempts with clocks of their own
    if owners:
        rows = session.execute(
            select(Attempt.id, Candidate.room_id, Attempt.warned_at)
            .join(Candidate, Attempt.candidate_id == Candidate.id)
            .where(Attempt.id.in_(owners), Attempt.status == "confirmed")
        )
        for attempt_id, room_id, warned_at in rows:
            own.setdefault(room_id, []).append((attempt_id, warned_at is not None))

    def due(clock: ClockState, warning_s: int, any_unwarned: bool) -> bool:
        return clock.over or (any_unwarned and in_last_minutes(clock, warning_s))

    for room_id, duration_s, warning_s, seats, unwarned_seats in rooms:
        ticks = by_room.get(room_id, [])
        apart = own.get(room_id, [])
        shared = seats - len(apart)
        shared_unwarned = unwarned_seats - sum(1 for _, warned in apart if not warned)
        # (over PostgreSQL the reads are separate snapshots: a seat submitted in between can make these negative)
        if shared > 0 and due(_seat_clock(duration_s, ticks, None, now), warning_s, shared_unwarned > 0):
            return True
        for attempt_id, warned in apart:
            if due(_seat_clock(duration_s, ticks, attempt_id, now), warning_s, not warned):
                return True
    return False


def connected(session, attempt: Attempt, now: datetime, worker: str, held: dict | None = None) -> None:
    """An exam-client socket of the attempt opened on ``worker`` (this server process). ``held``: the
    worker's presence rows of the attempts at hand, read ahead by :func:`presence_ahead`."""
    attempt.last_seen_at = now
    if attempt.disconnected_at is not None and attempt.status != "submitted":
        feed.about(session, attempt.candidate, "reconnect", "重新连接", now)
    attempt.connections += 1
    attempt.disconnected_at = None
    row = held.get(attempt.id) if held is not None else session.get(SocketPresence, (worker, attempt.id))
    if row is None:
        row = SocketPresence(worker=worker, attempt_id=attempt.id, sockets=0)
        session.add(row)
        if held is not None:
            held[attempt.id] = row
    row.sockets += 1


def presence_ahead(session, worker: str, attempt_ids) -> dict[int, SocketPresence]:
    """The worker's presence rows of these attempts, in one read (for :func:`connected` in a batch)."""
    query = select(SocketPresence).where(SocketPresence.worker == worker, SocketPresence.attempt_id.in_(attempt_ids))
    return {row.attempt_id: row for row in session.scalars(query)}


def disconnected(session, attempt: Attempt, now: datetime, worker: str) -> None:
    """An exam-client socket of the attempt closed; with none left, the candidate shows as disconnected."""
    row = session.get(SocketPresence, (worker, attempt.id))
    if row is not None:
        row.sockets -= 1
        if row.sockets <= 0:
            session.delete(row)
    attempt.connections = max(attempt.connections - 1, 0)
    if attempt.connections == 0 and attempt.status != "submitted":
        attempt.disconnected_at = now
        feed.about(session, attempt.candidate, "disconnect", "断开连接", now)


def forget_presence(session, attempt_id: int) -> None:
    """The attempt's sockets no longer count, on any worker (a login undone, a move to another computer)."""
    session.execute(delete(SocketPresence).where(SocketPresence.attempt_id == attempt_id))


def reset_presence(session, now: datetime, worker: str, alone: bool = True) -> None:
    """At a server process's start none of its sockets is open. ``alone`` (no other worker serving): no socket
    is open anywhere, and everyone still connected by the records is disconnected now; otherwise only the
    sockets this worker held before are let go. Either way the exam clients reconnect by themselves."""
    if not alone:
        release_worker(session, worker, now)
        return
    session.execute(delete(SocketPresence))
    for attempt in session.scalars(select(Attempt).where(Attempt.connections > 0)):
        attempt.connections = 0
        if attempt.status != "submitted":
            attempt.disconnected_at = now


def release_worker(session, worker: str, since: datetime) -> list[Attempt]:
    """A worker's sockets are gone (it died at ``since``, its last sign of life, or it restarts): they no longer
    count. Returns the attempts left with no socket open anywhere: their candidates show as disconnected
    since then."""
    rows = session.scalars(select(SocketPresence).where(SocketPresence.worker == worker)).all()
    if not rows:
        return []
    attempts = {a.id: a for a in load_attempts(session, Attempt.id.in_([row.attempt_id for row in rows]))}
    gone = []
    for row in rows:
        attempt = attempts[row.attempt_id]
        attempt.connections = max(attempt.connections - row.sockets, 0)
        session.delete(row)
        if attempt.connections == 0 and attempt.status != "submitted":
            attempt.disconnected_at = since
            feed.about(session, attempt.candidate, "disconnect", "断开连接", since)
            gone.append(attempt)
    return gone


def focus_changed(session, attempt: Attempt, lost: bool, now: datetime) -> bool:
    """The exam window lost the focus (the candidate left it) while answering: counted and shown."""
    if not lost or phase(attempt, attempt_clock(session, attempt, now)) != "answering":
        return False
    attempt.focus_lost += 1
    feed.about(session, attempt.candidate, "focus_lost", f"离开考试窗口（第 {attempt.focus_lost} 次）", now)
    return True


def staff_name(session, account_id: int | None) -> str:
    account = session.get(Account, account_id) if account_id else None
    return account.display_name if account else "系统"


def paper_item_ids_of(attempt: Attempt) -> list[int]:
    return paper_item_ids(attempt.paper) if attempt.paper else []


def answered_count(attempt: Attempt) -> int:
    return sum(1 for a in attempt.answers if a.response is not None)


def paper_size(attempt: Attempt) -> int:
    return len(paper_item_ids(attempt.paper)) if attempt.paper else 0


def clock_view(clock: ClockState, now: datetime) -> dict:
    return {
        "server_now": iso(now),
        "started_at": iso(clock.started_at),
        "deadline": iso(clock.deadline),
        "remaining_ms": int(clock.remaining.total_seconds() * 1000),
        "paused": clock.paused,
    }


def candidate_state(session, attempt: Attempt, now: datetime) -> dict:
    """Everything the candidate's screen needs. Item content only once the room has started,
    and only through ``to_candidate`` (no answer keys)."""
    candidate = attempt.candidate
    exam = candidate.session
    clock = attempt_clock(session, attempt, now)
    current = phase(attempt, clock)
    state: dict = {
        "phase": current,
        "timezone": current_app.config["TIMEZONE"],
        "candidate": candidate_profile(candidate),
        "clock": clock_view(clock, now),
        "duration_s": exam.duration_s,
        "warning_s": exam.warning_s,
        "submit_after_s": exam.submit_after_s,
        "submit_opens_at": iso(submit_opens_at(attempt, clock)),
    }
    if current not in ("submitted", "not_logged_in"):
        state["announcements"] = announcements(session, candidate.room_id)
    if current in ("answering", "paused") and attempt.paper:
        state["paper"] = paper_view(session, attempt)
        state["answers"] = {str(a.item_id): a.response for a in attempt.answers}
        state["flags"] = attempt.flags
        state["last_seq"] = max((a.seq for a in attempt.answers), default=0)
        state["paper_no"] = attempt.paper_no
        # Replaced while the candidate was answering (a backup paper for a leaked one): the screen says so.
        state["paper_replaced"] = bool(
            attempt.paper_replaced_at and clock.started_at and attempt.paper_replaced_at >= clock.started_at
        )
    if current == "submitted":
        state["submitted_at"] = iso(attempt.submitted_at)
        state["submit_reason"] = attempt.submit_reason
        state["answered"] = answered_count(attempt)
        state["total"] = paper_size(attempt)
        # The score only once published (or by the sitting's policy, as it is made); never a void one, and
        # none for a sitting stopped to be held again.
        if exam.scores_public and attempt.score is not None and not attempt.score_void:
            state["score"] = attempt.score
            state["passed"] = attempt.score is not None and attempt.score >= PASS_MARK
    return state


def paper_view(session, attempt: Attempt) -> dict | RawJSON:
    """The candidate's paper as their screen shows it. Rendered once per process and paper, and kept with the
    attempt's sheet as the JSON its screen is sent (``server.wire``), so its first answer needs no more reading
    and a storm of states (the start signal, every screen after a restart) renders and encodes nothing twice."""
    sheet = kept_sheet(attempt.id, attempt.paper_sealed)
    if sheet is not None and sheet.view is not None:
        return sheet.view
    paper = attempt.paper
    ids = paper_item_ids(paper)
    items = sheet.items if sheet is not None else load_items(session, ids)
    view = candidate_paper(paper, items)
    sheet = keep_sheet(attempt.id, attempt.paper_sealed, ids, items, view)
    return view if sheet is None else sheet.view  # (a paper in the old clear form is not kept)


def render_papers(session, attempts: list[Attempt]) -> None:
    """Render the papers of ``attempts`` not rendered yet, from one read of all their items: the first
    state of every screen after a restart (or at the start signal) then renders nothing one seat at a time."""
    cold = [a for a in attempts if a.paper_sealed and not _rendered(a)]
    if not cold:
        return
    items = load_items(session, {i for attempt in cold for i in paper_item_ids(attempt.paper)})
    for attempt in cold:
        paper = attempt.paper
        keep_sheet(attempt.id, attempt.paper_sealed, paper_item_ids(paper), items, candidate_paper(paper, items))


def _rendered(attempt: Attempt) -> bool:
    sheet = kept_sheet(attempt.id, attempt.paper_sealed)
    return sheet is not None and sheet.view is not None


def announcements(session, room_id: int, limit: int = 5) -> list[dict]:
    """The room's latest broadcasts, newest last, as the candidates see them (no proctor names)."""
    read = session.info.get(MEMO, {}).get(("announcements", room_id))  # see read_ahead
    if read is not None and limit == 5:
        return read
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "room.announce", AuditEntry.target == f"room:{room_id}")
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    return [{"at": iso(row.at), "text": row.detail["text"]} for row in reversed(rows)]


def candidate_paper(paper: dict, items: dict) -> dict:
    sections = []
    for section in paper["sections"]:
        kind = ITEM_TYPES[section["type"]]
        sections.append(
            {
                "type": section["type"],
                "label": kind.label,
                "points": section["points"],
                "items": [
                    {"id": e["item_id"], **kind.to_candidate(items[e["item_id"]], e.get("options"))}
                    for e in section["items"]
                ],
            }
        )
    return {"sections": sections}


def candidate_profile(candidate: Candidate) -> dict:
    exam = candidate.session
    return {
        "ticket": candidate.ticket,
        "name": candidate.name,
        "id_number_masked": mask_id(candidate.id_number),
        "occupation": exam.occupation_name,
        "level": exam.level_name,
        "subject": exam.subject,
        "session": exam.name,
        "scheduled_start": iso(exam.scheduled_start),
        "room": candidate.room.name,
        "seat": candidate.seat_no,
    }


def mask_id(id_number: str) -> str:
    return id_number[:4] + "*" * max(len(id_number) - 8, 0) + id_number[-4:] if len(id_number) > 8 else "****"


def _paper_entry(attempt: Attempt, item_id: int) -> dict | None:
    if not attempt.paper:
        return None
    for section in attempt.paper["sections"]:
        for entry in section["items"]:
            if entry["item_id"] == item_id:
                return entry
    return None


def _actor(attempt: Attempt, reason: str) -> str:
    return f"candidate:{attempt.candidate_id}" if reason == "candidate" else "system"
