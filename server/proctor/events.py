"""The ``/proctor`` Socket.IO namespace: the proctor console's live connection."""

from __future__ import annotations

from flask_socketio import ConnectionRefusedError, join_room, leave_room
from pydantic import Field

from server.auth.models import Account
from server.auth.views import current_account
from server.db import write_transaction
from server.exam import service as exam
from server.extensions import db
from server.live import end_candidate_session, notify_room, notify_seat, push_state, room_channel
from server.proctor import service
from server.sockets import JikaoNamespace, Payload, handles
from server.timeutil import now

STAFF_ROLES = ("proctor", "chief", "supervisor")


class RoomIn(Payload):
    room_id: int = Field(ge=1, le=2**31)


class CandidateIn(Payload):
    candidate_id: int = Field(ge=1, le=2**31)


def staff() -> Account:
    account = current_account()
    if account is None or account.role not in STAFF_ROLES:
        raise exam.ExamError("forbidden", "请先以监考员身份登录。")
    return account


def logged_in(candidate):
    if candidate.attempt is None:
        raise exam.ExamError("not_awaiting", "该考生尚未登录。")
    return candidate.attempt


class ProctorNamespace(JikaoNamespace):
    def on_connect(self, auth=None):
        """Console connects with the staff login cookie; anyone else is refused."""
        try:
            staff()
        except exam.ExamError as exc:
            raise ConnectionRefusedError(exc.message, exc.as_dict()) from exc

    @handles()
    def on_list_rooms(self):
        """Console asks which rooms it may watch; acks ``{ok, rooms}``."""
        rooms = service.rooms_for(db.session, staff())
        return {"ok": True, "rooms": [{"id": r.id, "name": r.name, "session": r.session.name} for r in rooms]}

    @handles(RoomIn)
    def on_watch_room(self, data: RoomIn):
        """Console watches a room; acks ``{ok, room}`` and then receives its seat and room updates."""
        account = staff()
        room = service.require_room(db.session, account, data.room_id)
        for other in service.rooms_for(db.session, account):
            leave_room(room_channel(other.id))
        join_room(room_channel(room.id))
        return {"ok": True, "room": service.room_view(db.session, room, now())}

    @handles(CandidateIn)
    def on_confirm_identity(self, data: CandidateIn):
        """Proctor confirms the person at the seat is the ticket holder; the candidate then waits for the start."""
        account = staff()
        with write_transaction(db.session):
            candidate = service.require_candidate(db.session, account, data.candidate_id)
            attempt = logged_in(candidate)
            exam.confirm_identity(db.session, attempt, account.id, now())
        push_state(attempt)
        notify_seat(candidate)
        return {"ok": True, "seat": service.seat_view(db.session, candidate, now())}

    @handles(CandidateIn)
    def on_reject_identity(self, data: CandidateIn):
        """Proctor refuses the login (wrong person, or must log in again); the candidate's screen returns to login."""
        account = staff()
        with write_transaction(db.session):
            candidate = service.require_candidate(db.session, account, data.candidate_id)
            attempt = logged_in(candidate)
            attempt_id = attempt.id
            exam.reject_identity(db.session, attempt, account.id, now())
        end_candidate_session(
            attempt_id, "rejected", "监考员未确认您的身份，请举手示意监考员，或重新输入准考证号登录。"
        )
        notify_seat(candidate)
        return {"ok": True, "seat": service.seat_view(db.session, candidate, now())}

    @handles(RoomIn)
    def on_start_room(self, data: RoomIn):
        """Proctor gives the room's single start signal (统一开考); every confirmed candidate gets the paper."""
        account = staff()
        with write_transaction(db.session):
            room = service.require_room(db.session, account, data.room_id, act=True)
            exam.start_room(db.session, room, account.id, now())
        for candidate in room.candidates:
            if candidate.attempt is not None:
                push_state(candidate.attempt)
        notify_room(room)
        return {"ok": True}
