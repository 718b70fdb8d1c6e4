"""The ``/candidate`` Socket.IO namespace: the exam client's live connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from flask import current_app, request, session
from flask_socketio import ConnectionRefusedError, join_room
from pydantic import Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from server.db import on_gevent, write_transaction
from server.errors import ExamError
from server.exam import answers, outage, service
from server.exam.models import Attempt, Candidate, Room
from server.extensions import db, socketio
from server.live import (
    CANDIDATE_NS,
    announce_finished,
    attempt_channel,
    candidates_channel,
    notify_room,
    notify_seat,
    push_room_states,
    push_state,
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
    notify_room(room)
    push_room_states(room)


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


# Sockets accepted whose welcome has not run yet (serving on gevent: one process, one event loop). Read and
# changed only under the write lock, so that a welcome and its socket's disconnect agree on which came first.
_AWAITING: set[str] = set()


def welcome(sid: str, login: tuple[int, str], queued: bool = False) -> None:
    """What a connection of the exam client gets once it is accepted: it counts as present (the proctors see
    it), a room paused for its network resumes, and the screen gets its whole state.

    Serving on gevent this runs after the connection was accepted, not inside the accepting: after a
    restart every screen of the centre reconnects at once, and each one waiting for all this before its
    connection is even acknowledged would time out and try again (socket.io-client allows 20 s), piling
    retries on the queue. A socket closed in the meantime gets nothing and counts for nothing."""
    try:
        with attempt_work(login) as attempt:
            if queued:
                if sid not in _AWAITING:
                    return  # closed before its turn: nothing to count, nobody to tell
                _AWAITING.discard(sid)
            service.connected(db.session, attempt, now())
            back = outage.room_back(db.session, attempt.candidate.room, now())  # its network is back
    except ExamError as exc:  # the login ended in between (moved, undone): this screen learns it
        socketio.emit("session_ended", {"code": exc.code, "message": exc.message}, to=sid, namespace=CANDIDATE_NS)
        return
    if back:
        room_clock_changed(attempt.candidate.room)
    push_state(attempt, to=sid)
    notify_seat(attempt.candidate)


def _welcome_later(app, sid: str, login: tuple[int, str]) -> None:
    with app.app_context():
        welcome(sid, login, queued=True)


class CandidateNamespace(JikaoNamespace):
    def on_connect(self, auth=None):
        """Exam client connects with its login cookie: accepted (or refused) at once, then ``state``."""
        try:
            attempt = current_attempt()  # only who it is: the rest is the welcome's
        except ExamError as exc:
            raise ConnectionRefusedError(exc.message, exc.as_dict()) from exc
        join_room(attempt_channel(attempt.id))
        join_room(candidates_channel(attempt.candidate.room_id))
        login = (attempt.id, session.get("device"))
        db.session.rollback()  # the read is over; the welcome reads afresh under the write lock
        if on_gevent():
            _AWAITING.add(request.sid)
            socketio.start_background_task(_welcome_later, current_app._get_current_object(), request.sid, login)
        else:  # threads (the Flask test client): in order, before the connection is acknowledged
            welcome(request.sid, login)

    def on_disconnect(self, reason=None):
        """Socket closed (tab closed, network lost): the attempt stays as it is; the proctors see it."""
        try:
            with write_transaction(db.session):
                if request.sid in _AWAITING:  # closed before its welcome: it never counted as present
                    _AWAITING.discard(request.sid)
                    return
                attempt = current_attempt()
                service.disconnected(db.session, attempt, now())
                dropped = outage.room_dropped(db.session, attempt.candidate.room, now())  # all went silent
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
        attempt = current_attempt()
        clock = service.attempt_clock(db.session, attempt, now())
        return {"ok": True, "clock": service.clock_view(clock, now())}

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
        send_seat(attempt.candidate, seat)
        return reply

    @handles(FlagIn)
    def on_flag(self, data: FlagIn):
        """Client marks or unmarks an item for review; acks ``{ok, flags}``."""
        with attempt_work() as attempt:
            flags = service.set_flag(db.session, attempt, data.item_id, data.flagged, now())
        return {"ok": True, "flags": flags}

    @handles(SubmitIn)
    def on_submit(self, data: SubmitIn):
        """Client confirms "结束考试"; acks ``{ok, state}`` and the attempt is closed for good."""
        if not data.confirm:
            raise ExamError("not_confirmed", "请确认交卷。")
        with attempt_work() as attempt:
            service.submit(db.session, attempt, now(), reason="candidate")
        notify_seat(attempt.candidate)
        return {"ok": True, "state": service.candidate_state(db.session, attempt, now())}
