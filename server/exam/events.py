"""The ``/candidate`` Socket.IO namespace: the exam client's live connection."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import Field, StringConstraints
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from server.db import Prepared, UnitBatch, on_gevent, write_transaction
from server.errors import ExamError
from server.exam import answers, outage, service
from server.exam.models import Attempt, Candidate, Room
from server.extensions import db, socketio
from server.live import (
    CANDIDATE_NS,
    announce_finished,
    attempt_channel,
    candidates_channel,
    notify_seat,
    push_room_states,
    send_seat,
)
from server.proctor.service import seat_view
from server.sockets import JikaoNamespace, Payload, handles
from server.timeutil import now

OptionId = Annotated[str, StringConstraints(min_length=1, max_length=8)]
Response = OptionId | Annotated[list[OptionId], Field(max_length=8)] | bool | None


class AnswerIn(Payload):
    item_id: int = Field(ge=1, le=2**31)
    response: Response
    seq: int = Field(ge=1, le=2**53)


class FlagIn(Payload):
    item_id: int = Field(ge=1, le=2**31)
    flagged: bool


class SubmitIn(Payload):
    confirm: bool


class FocusIn(Payload):
    lost: bool


def room_clock_changed(room) -> None:
    """The room's clock was paused or resumed by the system: the console and every screen learn it."""
    push_room_states(room)  # and the room to its console


def current_attempt(login: tuple[int, str] | None = None) -> Attempt:
    """The attempt this browser holds (``login``: its attempt id and device, else the socket's session);
    refused if the proctor undid the login or it moved away."""
    attempt_id, device = login or (session.get("attempt_id"), session.get("device"))
    attempt = db.session.scalar(
        select(Attempt)
        .where(Attempt.id == (attempt_id or 0))
        .options(joinedload(Attempt.candidate).joinedload(Candidate.room).joinedload(Room.session))
    )
    if attempt is None or attempt.device_token != device:
        raise service.session_ended()
    return attempt


@contextmanager
def attempt_work(login: tuple[int, str] | None = None) -> Iterator[Attempt]:
    """One candidate event's unit of work: the attempt read under the write lock. If its time has run out,
    it is submitted first and that is committed (and everyone told) before the event's own unit of work
    begins, so the event's checks see it."""
    with write_transaction(db.session):
        attempt = current_attempt(login)
        if not service.close_if_time_up(db.session, attempt, now()):
            yield attempt
            return
    announce_finished(attempt)
    with write_transaction(db.session):
        yield current_attempt(login)


# Sockets accepted whose welcome has not run yet, in the order they came, with their logins (serving on
# gevent: one process, one event loop). Read and changed only under the write lock, so that a welcome and its
# socket's disconnect agree on which came first.
_AWAITING: dict[str, tuple[int, str]] = {}
_welcoming: list = []  # the greenlet welcoming them, while there is one
WELCOME_BATCH = 32  # screens welcomed in one unit of work: a few milliseconds each


def welcome(batch: list[tuple[str, tuple[int, str]]], queued: bool = False) -> None:
    """What connections of the exam client get once accepted (``batch``: each socket's id and login): each
    counts as present (the proctors see it), a room paused for its network resumes, and each screen gets its
    whole state.

    Serving on gevent this runs after the connections were accepted, not inside the accepting, and for many
    at once: after a restart every screen of the centre reconnects together, and each one waiting for all
    this before its connection is even acknowledged would time out and try again (socket.io-client allows
    20 s), piling retries on the queue. So the accepted sockets queue up, and are welcomed in batches, each
    one unit of work that reads in a handful of queries what one screen at a time would read in dozens. A
    socket closed before its turn gets nothing and counts for nothing."""
    ended: list[tuple[str, ExamError]] = []
    welcomed: list[tuple[str, int, dict, int, dict]] = []  # sid, attempt, state, room, seat
    finished: list[int] = []  # attempts whose time ran out meanwhile: every screen of theirs learns it
    with write_transaction(db.session):
        if queued:
            batch = [(sid, login) for sid, login in batch if _AWAITING.pop(sid, None) is not None]
        attempts = _attempts_of({attempt_id for _, (attempt_id, _) in batch})
        service.read_ahead(db.session, list(attempts.values()))
        service.render_papers(db.session, list(attempts.values()))
        worker = current_app.config["WORKER"]
        held = service.presence_ahead(db.session, worker, list(attempts))
        mine = []
        for sid, (attempt_id, device) in batch:
            attempt = attempts.get(attempt_id)
            if attempt is None or attempt.device_token != device:  # the proctor undid the login, or it moved
                ended.append((sid, service.session_ended()))
                continue
            if service.close_if_time_up(db.session, attempt, now()):
                finished.append(attempt.id)
            service.connected(db.session, attempt, now(), worker, held)
            mine.append((sid, attempt))
        rooms = {attempt.candidate.room_id: attempt.candidate.room for _, attempt in mine}
        back = [room for room in rooms.values() if outage.room_back(db.session, room, now())]  # network back
        if back:  # the clock events just written: read again
            db.session.flush()
            service.read_ahead(db.session, [attempt for _, attempt in mine])
        for sid, attempt in mine:  # built here, sent once committed: a screen never shows what is not stored
            candidate = attempt.candidate
            state = service.candidate_state(db.session, attempt, now())
            welcomed.append((sid, attempt.id, state, candidate.room_id, seat_view(db.session, candidate, now())))
    for sid, error in ended:
        socketio.emit("session_ended", {"code": error.code, "message": error.message}, to=sid, namespace=CANDIDATE_NS)
    for room in back:
        room_clock_changed(room)
    for sid, attempt_id, state, room_id, seat in welcomed:
        to = attempt_channel(attempt_id) if attempt_id in finished else sid
        socketio.emit("state", state, to=to, namespace=CANDIDATE_NS)
        send_seat(room_id, seat)


def _attempts_of(ids: set[int]) -> dict[int, Attempt]:
    return {attempt.id: attempt for attempt in service.load_attempts(db.session, Attempt.id.in_(ids))}


def _welcome_queued(app) -> None:
    """Welcome the queued sockets, a batch at a time, until none is left."""
    try:
        with app.app_context():
            while _AWAITING:
                batch = list(_AWAITING.items())[:WELCOME_BATCH]
                try:
                    welcome(batch, queued=True)
                except Exception:  # the store failed: these sockets are closed, their screens reconnect by
                    app.logger.exception("welcome of %d exam screens failed", len(batch))  # themselves
                    for sid, _ in batch:
                        _AWAITING.pop(sid, None)
                        socketio.server.disconnect(sid, namespace=CANDIDATE_NS)
    finally:
        _welcoming.clear()


_LOGIN = Prepared(
    select(Attempt.device_token, Candidate.room_id)
    .join(Candidate, Attempt.candidate_id == Candidate.id)
    .where(Attempt.id == bindparam("attempt_id"))
)


def _login_of(login: tuple[int, str]) -> int:
    """The room of the attempt a connecting browser holds; refused if the proctor undid the login or it moved
    away. Only who it is, in one light read: in a storm, every screen of the centre asks at once."""
    attempt_id, device = login
    rows = _LOGIN.rows(db.session.connection(), {"attempt_id": attempt_id or 0})
    if not rows or rows[0][0] != device:
        raise service.session_ended()
    return rows[0][1]


@dataclass(frozen=True)
class Submitted:
    attempt_id: int
    room_id: int
    state: dict
    seat: dict
    time_was_up: bool  # the system submitted it first, as the time had run out


def _submission(login: tuple[int, str], at, work_session) -> Submitted:
    """A candidate's submission, in a batch of them (at the end of a sitting a whole centre submits within
    seconds): checked, scored, recorded, and the screen's state and the seat view built from what is stored."""
    attempt = work_session.get(Attempt, login[0] or 0)  # read ahead with the batch's others: no query
    if attempt is None or attempt.device_token != login[1]:
        raise service.session_ended()  # the proctor undid the login, or it moved away
    time_was_up = service.close_if_time_up(work_session, attempt, at)
    if not time_was_up:
        service.submit(work_session, attempt, at, reason="candidate")
    state = service.candidate_state(work_session, attempt, at)
    seat = seat_view(work_session, attempt.candidate, at)
    return Submitted(attempt.id, attempt.candidate.room_id, state, seat, time_was_up)


def _submissions_ahead(work_session, logins: list[tuple[int, str]]) -> None:
    """What a batch of submissions reads, at once: the attempts with their answers, the rooms' clocks, the
    warnings for the seat views."""
    attempts = service.load_attempts(work_session, Attempt.id.in_({attempt_id or 0 for attempt_id, _ in logins}))
    service.read_ahead(work_session, attempts)


_SUBMISSIONS = UnitBatch(lambda: db.session, ahead=_submissions_ahead)


class CandidateNamespace(JikaoNamespace):
    def on_connect(self, auth=None):
        """Exam client connects with its login cookie: accepted (or refused) at once, then ``state``."""
        login = (session.get("attempt_id"), session.get("device"))
        try:
            room_id = _login_of(login)
        except ExamError as exc:
            raise ConnectionRefusedError(exc.message, exc.as_dict()) from exc
        finally:
            db.session.rollback()  # the read is over; the welcome reads afresh under the write lock
        join_room(attempt_channel(login[0]))
        join_room(candidates_channel(room_id))
        if not on_gevent():  # threads (the Flask test client): in order, before the connection is acknowledged
            welcome([(request.sid, login)])
            return
        _AWAITING[request.sid] = login
        if not _welcoming:
            _welcoming.append(socketio.start_background_task(_welcome_queued, current_app._get_current_object()))

    def on_disconnect(self, reason=None):
        """Socket closed (tab closed, network lost): the attempt stays as it is; the proctors see it."""
        try:
            with write_transaction(db.session):
                if _AWAITING.pop(request.sid, None) is not None:  # closed before its welcome: never present
                    return
                attempt = current_attempt()
                worker = current_app.config["WORKER"]
                service.disconnected(db.session, attempt, now(), worker)
                dropped = outage.room_dropped(db.session, attempt.candidate.room, now(), worker)  # all went silent
        except ExamError:
            return  # a login the proctor undid, or a browser that lost its ticket: nothing to show
        notify_seat(attempt.candidate)
        if dropped:
            room_clock_changed(attempt.candidate.room)

    @handles(FocusIn)
    def on_focus(self, data: FocusIn):
        """Client reports the exam window lost (or got back) the focus; acks ``{ok, recorded}``."""
        with attempt_work() as attempt:
            recorded = service.focus_changed(db.session, attempt, data.lost, now())
        if recorded:
            notify_seat(attempt.candidate)
        return {"ok": True, "recorded": recorded}

    @handles()
    def on_get_state(self):
        """Client asks for its whole state again; acks ``{ok, state}``."""
        with attempt_work() as attempt:
            pass
        return {"ok": True, "state": service.candidate_state(db.session, attempt, now())}

    @handles()
    def on_sync_clock(self):
        """Client re-syncs its countdown; acks ``{ok, clock}`` from the server's clock."""
        at = now()
        clock = answers.clock_of(session.get("attempt_id"), session.get("device"), at)
        return {"ok": True, "clock": service.clock_view(clock, at)}

    @handles(AnswerIn)
    def on_answer(self, data: AnswerIn):
        """Client changes an answer; acked ``{ok, item_id, seq, answered, total}`` once durably stored."""
        at = now()  # when it arrived: an answer made while the clock ran is accepted
        plain = answers.save(
            session.get("attempt_id"), session.get("device"), data.item_id, data.response, data.seq, at
        )
        if plain is not None:  # the plain case, group-committed
            answers.announce(plain)
            return plain.reply
        with attempt_work() as attempt:  # time just ran out, a pause, …: every rule, every refusal
            saved = service.save_answer(db.session, attempt, data.item_id, data.response, data.seq, at)
            # Built before the commit from what is being committed, and sent only once it is.
            seat = seat_view(db.session, attempt.candidate, at)
            reply = {
                "ok": True,
                "item_id": saved.item_id,
                "seq": saved.seq,
                "applied": saved.applied,
                "answered": seat["answered"],
                "total": seat["total"],
            }
        send_seat(attempt.candidate.room_id, seat)
        return reply

    @handles(FlagIn)
    def on_flag(self, data: FlagIn):
        """Client marks or unmarks an item for review; acks ``{ok, flags}`` once durably stored."""
        at = now()
        flags = answers.flag(session.get("attempt_id"), session.get("device"), data.item_id, data.flagged, at)
        if flags is not None:  # the plain case, group-committed with the answers
            return {"ok": True, "flags": flags}
        with attempt_work() as attempt:
            flags = service.set_flag(db.session, attempt, data.item_id, data.flagged, at)
        return {"ok": True, "flags": flags}

    @handles(SubmitIn)
    def on_submit(self, data: SubmitIn):
        """Client confirms "结束考试"; acks ``{ok, state}`` and the attempt is closed for good."""
        if not data.confirm:
            raise ExamError("not_confirmed", "请确认交卷。")
        login = (session.get("attempt_id"), session.get("device"))
        done = _SUBMISSIONS.run(functools.partial(_submission, login, now()), key=login)
        send_seat(done.room_id, done.seat)
        if done.time_was_up:  # the time ran out before: submitted by the system, and every screen learns it
            socketio.emit("state", done.state, to=attempt_channel(done.attempt_id), namespace=CANDIDATE_NS)
            raise ExamError("submitted", "您已交卷。")
        return {"ok": True, "state": done.state}
