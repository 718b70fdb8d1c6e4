"""Pushing changes to the screens: each candidate's state, and seat updates to the room's proctors.

Called only after the unit of work has committed, so a screen never shows what is not stored.
"""

from __future__ import annotations

from server.db import MEMO
from server.exam import service
from server.exam.feed import PROCTOR_NS, room_channel
from server.exam.models import Attempt, Candidate
from server.extensions import db, socketio
from server.timeutil import now

CANDIDATE_NS = "/candidate"


def attempt_channel(attempt_id: int) -> str:
    return f"attempt:{attempt_id}"


def push_state(attempt: Attempt, to: str | None = None) -> None:
    """Send the candidate's whole state to their screen (or to one socket)."""
    state = service.candidate_state(db.session, attempt, now())
    socketio.emit("state", state, to=to or attempt_channel(attempt.id), namespace=CANDIDATE_NS)


def push_to_candidate(attempt_id: int, event: str, data: dict) -> None:
    socketio.emit(event, data, to=attempt_channel(attempt_id), namespace=CANDIDATE_NS)


def end_candidate_session(attempt_id: int, code: str, message: str) -> None:
    """Tell the attempt's screens it is over, and unsubscribe them: nothing more reaches them."""
    push_to_candidate(attempt_id, "session_ended", {"code": code, "message": message})
    socketio.close_room(attempt_channel(attempt_id), namespace=CANDIDATE_NS)


def announce_finished(attempt: Attempt) -> None:
    """An attempt was just submitted: the candidate's screen and the proctors learn it at once."""
    push_state(attempt)
    notify_seat(attempt.candidate)


def notify_seat(candidate: Candidate) -> None:
    """Tell the proctors watching the candidate's room how the seat stands now."""
    from server.proctor.service import seat_view

    send_seat(candidate.room_id, seat_view(db.session, candidate, now()))


def send_seat(room_id: int, view: dict) -> None:
    """A seat view already built (from what was just committed) to the room's proctors."""
    socketio.emit("seat_update", view, to=room_channel(room_id), namespace=PROCTOR_NS)


def candidates_channel(room_id: int) -> str:
    """Every exam client of the room (for announcements)."""
    return f"room-candidates:{room_id}"


def push_room_states(room, notify: bool = True) -> None:
    """The room's clock changed (or the room started): every candidate's screen gets its state again, and the
    room's proctors the room (``notify``). Read for the whole room at once, once for both: at the start signal
    every room of the centre does this in the same moment."""
    from server.proctor.service import room_view

    attempts = service.room_attempts(db.session, room.id)
    service.read_ahead(db.session, attempts)
    service.render_papers(db.session, attempts)
    try:
        at = now()
        states = [(attempt.id, service.candidate_state(db.session, attempt, at)) for attempt in attempts]
        view = room_view(db.session, room, at) if notify else None
    finally:
        db.session.info.pop(MEMO, None)  # read for these states only
    for attempt_id, state in states:
        socketio.emit("state", state, to=attempt_channel(attempt_id), namespace=CANDIDATE_NS)
    if view is not None:
        socketio.emit("room_update", view, to=room_channel(room.id), namespace=PROCTOR_NS)


def announce_to_room(room, notice: dict) -> None:
    socketio.emit("notice", notice, to=candidates_channel(room.id), namespace=CANDIDATE_NS)
