"""The answer path: the event every candidate sends every few seconds, made cheap and durable.

An answer change (and a mark for review) is checked and written with a handful of plain SQL statements (no
ORM objects), in a transaction shared with every other answer that arrives meanwhile, committed with one fsync
on an OS thread (:class:`server.db.GroupCommit`). Only then is it acknowledged, and the room's proctors get the
seat's progress.

This path takes only the plain case: a confirmed attempt, a sealed paper, a clock that runs. Anything else
(time just ran out, a pause, a submitted attempt, a paper in the old clear form) goes the full way through
:func:`server.exam.service.save_answer`, which knows every rule and every refusal.

Each process keeps each attempt's paper opened (:class:`server.exam.sealing.Sheet`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Text, bindparam, cast, func, select, update

from item_bank import ITEM_TYPES, ItemError
from item_bank.paper import paper_item_ids
from server.bank.service import load_items
from server.db import GroupCommit, Prepared
from server.errors import ExamError
from server.exam import service
from server.exam.clock import ClockState, clock_state
from server.exam.feed import PROCTOR_NS, room_channel
from server.exam.models import Answer, AnswerLog, Attempt, Candidate, ExamSession
from server.exam.sealing import Sheet, keep_sheet, kept_sheet, open_sealed
from server.extensions import db, socketio
from server.timeutil import iso

COMMITTER = "jikao.group_commit"

_ATTEMPT = Prepared(
    select(
        Attempt.status,
        Attempt.device_token,
        Attempt.paper_sealed,
        Attempt.candidate_id,
        Candidate.room_id,
        ExamSession.id.label("session_id"),
        ExamSession.duration_s,
        ExamSession.sealed_key,
    )
    .join(Candidate, Attempt.candidate_id == Candidate.id)
    .join(ExamSession, Candidate.session_id == ExamSession.id)
    .where(Attempt.id == bindparam("attempt_id"))
)
_CURRENT_SEQ = Prepared(select(Answer.seq).where(Answer.attempt_id == bindparam("a"), Answer.item_id == bindparam("i")))
_COUNT = select(func.count()).where(
    Answer.attempt_id == bindparam("a"),
    Answer.response.is_not(None),
    cast(Answer.response, Text) != "null",  # a cleared answer is stored as JSON null
)
_ANSWERED = Prepared(_COUNT)
# The attempt's last sign of life, and in the same statement how many questions it has answered now.
_TOUCH = Prepared(
    update(Attempt)
    .where(Attempt.id == bindparam("a"))
    .values(last_seen_at=bindparam("at"))
    .returning(_COUNT.scalar_subquery())
)
_LOG = Prepared(AnswerLog.__table__.insert())
_FLAGS = Prepared(select(Attempt.flags).where(Attempt.id == bindparam("a")))
_SET_FLAGS = Prepared(update(Attempt).where(Attempt.id == bindparam("a")).values(flags=bindparam("flags_now")))
_TICKS = Prepared(service.TICKS)


class _Row(NamedTuple):  # the columns of _ATTEMPT
    status: str
    device_token: str | None
    paper_sealed: bytes | None
    candidate_id: int
    room_id: int
    session_id: int
    duration_s: int
    sealed_key: bytes | None


@dataclass(frozen=True)
class Saved:
    reply: dict  # the acknowledgement for the exam client
    progress: dict | None  # the seat's progress for the proctors (None: nothing changed)
    room_id: int


class NotPlain(ExamError):
    """The answer needs the full path (see the module's docstring). Raised before anything is written, like
    every refusal, so the batch it was in goes on without it; never shown to anyone."""

    def __init__(self):
        super().__init__("not_plain", "")


def committer() -> GroupCommit:
    app = current_app._get_current_object()
    found = app.extensions.get(COMMITTER)
    if found is None:
        found = app.extensions[COMMITTER] = GroupCommit(db.engine, app)
    return found


def save(attempt_id: int | None, device: str | None, item_id: int, response, seq: int, now: datetime) -> Saved | None:
    """Store one answer change durably; ``None`` when it is not the plain case (use the full path)."""
    if not attempt_id:
        raise service.session_ended()
    try:
        return committer().run(lambda connection: _save(connection, attempt_id, device, item_id, response, seq, now))
    except NotPlain:
        return None


def clock_of(attempt_id: int | None, device: str | None, now: datetime) -> ClockState:
    """The attempt's own clock, read in two prepared statements: every exam client asks for it every 30 s, a
    whole centre's worth of reads. Refused like any event if the login was undone or moved away."""
    connection = db.session.connection()
    try:
        return _clock(connection, attempt_id, _attempt_row(connection, attempt_id, device), now)
    finally:
        db.session.rollback()  # a read: nothing to keep


def _attempt_row(connection, attempt_id: int | None, device: str | None) -> _Row:
    """The attempt the browser holds; refused if the proctor undid the login or it moved away."""
    found = _ATTEMPT.rows(connection, {"attempt_id": attempt_id or 0})
    if not found or found[0][1] != device:
        raise service.session_ended()
    return _Row(*found[0])


def _clock(connection, attempt_id: int, row: _Row, now: datetime) -> ClockState:
    ticks = _TICKS.rows(connection, {"room_id": row.room_id, "attempt_id": attempt_id})
    return clock_state(timedelta(seconds=row.duration_s), [service.tick(*t) for t in ticks], now)


def announce(saved: Saved) -> None:
    """The room's consoles learn the seat's progress (after the commit, never before)."""
    if saved.progress is not None:
        socketio.emit("seat_progress", saved.progress, to=room_channel(saved.room_id), namespace=PROCTOR_NS)


def flag(attempt_id: int | None, device: str | None, item_id: int, flagged: bool, now: datetime) -> list[int] | None:
    """Mark an item for review or unmark it, durably, in the answers' group commit; returns the attempt's marks,
    or ``None`` when it is not the plain case (use the full path, :func:`server.exam.service.set_flag`)."""
    if not attempt_id:
        raise service.session_ended()
    try:
        return committer().run(lambda connection: _flag(connection, attempt_id, device, item_id, flagged, now))
    except NotPlain:
        return None


def _plain(connection, attempt_id: int, device, item_id: int, now: datetime) -> tuple[_Row, Sheet, object]:
    """The attempt, its opened paper and the item, if this is the plain case; else :class:`NotPlain`."""
    row = _attempt_row(connection, attempt_id, device)
    if row.status != "confirmed" or row.paper_sealed is None:
        raise NotPlain
    if not _clock(connection, attempt_id, row, now).running:
        raise NotPlain  # not started, paused or over: the full path refuses or submits
    sheet = _sheet(connection, attempt_id, row)
    item = sheet.items.get(item_id)
    if item is None:
        raise ExamError("not_in_paper", "该题不在您的试卷中。")
    return row, sheet, item


def _flag(connection, attempt_id: int, device, item_id: int, flagged: bool, now: datetime) -> list[int]:
    _plain(connection, attempt_id, device, item_id, now)
    [(flags,)] = _FLAGS.rows(connection, {"a": attempt_id})
    flags = service.marked(flags, item_id, flagged)
    _SET_FLAGS.rows(connection, {"a": attempt_id, "flags_now": flags})
    return flags


def _save(connection, attempt_id: int, device, item_id: int, response, seq: int, now: datetime) -> Saved:
    row, sheet, item = _plain(connection, attempt_id, device, item_id, now)
    try:
        normalized = ITEM_TYPES[item.type].normalize_response(item, response)
    except ItemError as exc:
        raise ExamError("invalid_response", exc.message) from exc
    # Checked; from here on only writes.
    params = {"attempt_id": attempt_id, "item_id": item_id, "response": normalized, "seq": seq, "saved_at": now}
    applied = bool(_upsert(connection).rows(connection, params))
    if applied:
        _LOG.rows(connection, params)
        [(answered,)] = _TOUCH.rows(connection, {"a": attempt_id, "at": now})
    else:  # a replayed or older change: the newer answer stays
        [(seq,)] = _CURRENT_SEQ.rows(connection, {"a": attempt_id, "i": item_id})
        [(answered,)] = _ANSWERED.rows(connection, {"a": attempt_id})
    reply = {"ok": True, "item_id": item_id, "seq": seq, "applied": applied, "answered": answered}
    reply["total"] = sheet.total
    progress = None
    if applied:
        progress = {
            "candidate_id": row.candidate_id,
            "answered": answered,
            "total": sheet.total,
            "last_seen_at": iso(now),
        }
    return Saved(reply, progress, row.room_id)


_UPSERTS: dict = {}


def _upsert(connection) -> Prepared:
    """Insert or replace the answer unless a newer change is stored; returns a row only if it wrote."""
    dialect = connection.dialect.name
    if dialect not in _UPSERTS:
        _UPSERTS[dialect] = Prepared(_build_upsert(dialect))
    return _UPSERTS[dialect]


def _build_upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Answer.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.attempt_id, table.c.item_id],
        set_={
            "response": statement.excluded.response,
            "seq": statement.excluded.seq,
            "saved_at": statement.excluded.saved_at,
        },
        where=table.c.seq < statement.excluded.seq,
    ).returning(table.c.seq)


def _sheet(connection, attempt_id: int, row) -> Sheet:
    sheet = kept_sheet(attempt_id, row.paper_sealed)
    if sheet is not None:
        return sheet
    paper = open_sealed(row.session_id, row.sealed_key, attempt_id, row.candidate_id, row.paper_sealed)
    ids = paper_item_ids(paper)
    try:
        items = load_items(connection, ids)
    except ExamError as exc:  # a tampered item, a locked bank: the full path refuses with the reason
        raise NotPlain from exc
    sheet = keep_sheet(attempt_id, row.paper_sealed, ids, items)
    if sheet is None:  # an item of the paper is gone from the bank: the full path says so
        raise NotPlain
    return sheet
