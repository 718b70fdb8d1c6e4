"""The ``/proctor`` Socket.IO namespace: the proctor console's live connection."""

from __future__ import annotations

from typing import Annotated, Literal

from flask_socketio import ConnectionRefusedError, join_room, leave_room
from pydantic import Field, StringConstraints

from server.db import write_transaction
from server.exam import control, discipline
from server.exam import service as exam
from server.extensions import db
from server.live import (
    announce_finished,
    announce_to_room,
    end_candidate_session,
    notify_seat,
    push_room_states,
    push_state,
    room_channel,
    send_seat,
)
from server.proctor import service
from server.proctor.service import staff
from server.sockets import JikaoNamespace, Payload, handles
from server.timeutil import now


class RoomIn(Payload):
    room_id: int = Field(ge=1, le=2**31)


class CandidateIn(Payload):
    candidate_id: int = Field(ge=1, le=2**31)


Reason = Annotated[str, StringConstraints(max_length=200)]


class RoomActionIn(Payload):
    room_id: int = Field(ge=1, le=2**31)
    reason: Reason = ""


class DecisionIn(Payload):
    room_id: int = Field(ge=1, le=2**31)
    decision: Literal["continue", "end", "reschedule"]
    reason: Reason = ""


class CandidateActionIn(Payload):
    candidate_id: int = Field(ge=1, le=2**31)
    reason: Reason = ""


class ExtendIn(Payload):
    room_id: int | None = Field(default=None, ge=1, le=2**31)
    candidate_id: int | None = Field(default=None, ge=1, le=2**31)
    minutes: int = Field(ge=1, le=control.MAX_EXTENSION_MIN)
    reason: Reason


Text = Annotated[str, StringConstraints(max_length=500)]


class ViolationIn(Payload):
    candidate_id: int = Field(ge=1, le=2**31)
    what: Text


class IncidentIn(Payload):
    room_id: int = Field(ge=1, le=2**31)
    candidate_id: int | None = Field(default=None, ge=1, le=2**31)
    what: Text
    decision: Text


class AnnounceIn(Payload):
    room_id: int = Field(ge=1, le=2**31)
    text: Annotated[str, StringConstraints(min_length=1, max_length=500)]


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
        seat = service.seat_view(db.session, candidate, now())
        send_seat(candidate.room_id, seat)  # to every console of the room, and in the reply to this one
        # The paper is the candidate's now: render it while the room waits for the start, not at the signal
        # when every screen of the centre asks at once (a tenth of the server's time in a 5,000-candidate storm).
        exam.render_papers(db.session, [attempt])
        return {"ok": True, "seat": seat}

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
        push_room_states(room)  # and the room to its console
        return {"ok": True}

    # ---- interventions: the room's clock, one candidate's clock, submissions, announcements ----
    def _room_action(self, room_id: int, action, *args, **options):
        account = staff()
        with write_transaction(db.session):
            room = service.require_room(db.session, account, room_id, act=True)
            result = action(db.session, room, *args, account.id, now(), **options)
        push_room_states(room)  # and the room to its console
        return room, result

    def _candidate_action(self, candidate_id: int, action, *args):
        account = staff()
        with write_transaction(db.session):
            candidate = service.require_candidate(db.session, account, candidate_id)
            result = action(db.session, candidate.attempt, *args, account.id, now())
        if candidate.attempt is not None:
            push_state(candidate.attempt)
        notify_seat(candidate)
        return candidate, result

    @handles(RoomActionIn)
    def on_pause_room(self, data: RoomActionIn):
        """Stop the room's clock in an emergency (with a reason); every candidate's screen shows the pause."""
        self._room_action(data.room_id, control.pause_room, data.reason)
        return {"ok": True}

    @handles(RoomActionIn)
    def on_resume_room(self, data: RoomActionIn):
        """Restart the room's clock; the paused span is added to everyone's end time."""
        self._room_action(data.room_id, control.resume_room, data.reason, chief=staff().role == "chief")
        return {"ok": True}

    @handles(DecisionIn)
    def on_chief_decision(self, data: DecisionIn):
        """The chief examiner decides for a paused room (after an outage of more than 30 minutes): continue
        with the time made up, end the sitting (answers so far scored), or stop it for a rescheduled sitting
        (answers kept, not scored). Acks ``{ok, ended}``: how many candidates' exams it ended."""
        if staff().role != "chief":
            raise service.AccessDenied("只有主考可以作出此决定。")
        _, ended = self._room_action(data.room_id, control.chief_decision, data.decision, data.reason)
        return {"ok": True, "ended": ended}

    @handles(CandidateActionIn)
    def on_pause_candidate(self, data: CandidateActionIn):
        """Stop one candidate's clock (with a reason), e.g. while their computer is mended."""
        self._candidate_action(data.candidate_id, control.pause_candidate, data.reason)
        return {"ok": True}

    @handles(CandidateActionIn)
    def on_resume_candidate(self, data: CandidateActionIn):
        """Restart one candidate's clock."""
        self._candidate_action(data.candidate_id, control.resume_candidate, data.reason)
        return {"ok": True}

    @handles(ExtendIn)
    def on_extend(self, data: ExtendIn):
        """Extend the time of the room (``room_id``) or of one candidate (``candidate_id``), with a reason."""
        if (data.room_id is None) == (data.candidate_id is None):
            raise exam.ExamError("invalid_payload", "请指定考场或考生之一。")
        if data.room_id is not None:
            self._room_action(data.room_id, control.extend_room, data.minutes, data.reason)
        else:
            self._candidate_action(data.candidate_id, control.extend_candidate, data.minutes, data.reason)
        return {"ok": True}

    @handles(CandidateIn)
    def on_make_up(self, data: CandidateIn):
        """Give a moved candidate the time their failed computer cost, as the console offers it."""
        _, seconds = self._candidate_action(data.candidate_id, control.make_up)
        return {"ok": True, "seconds": seconds}

    @handles(CandidateActionIn)
    def on_force_submit(self, data: CandidateActionIn):
        """End one candidate's exam now (with a reason); the answers so far are scored."""
        candidate, _ = self._candidate_action(data.candidate_id, control.force_submit, data.reason)
        announce_finished(candidate.attempt)
        return {"ok": True}

    @handles(AnnounceIn)
    def on_announce(self, data: AnnounceIn):
        """Broadcast a message to every candidate of the room."""
        account = staff()
        with write_transaction(db.session):
            room = service.require_room(db.session, account, data.room_id, act=True)
            notice = control.announce(db.session, room, data.text, account.id, now())
        announce_to_room(room, notice)
        return {"ok": True}

    @handles(CandidateIn)
    def on_mark_absent(self, data: CandidateIn):
        """Record 缺考 for a candidate who never logged in, once the late-entry cutoff has passed."""
        account = staff()
        with write_transaction(db.session):
            candidate = service.require_candidate(db.session, account, data.candidate_id)
            control.mark_absent(db.session, candidate, account.id, now())
        notify_seat(candidate)
        return {"ok": True}

    @handles(CandidateActionIn)
    def on_allow_move(self, data: CandidateActionIn):
        """换机: end the candidate's session on this computer; their next login on another one continues it."""
        candidate, _ = self._candidate_action(data.candidate_id, control.allow_move, data.reason)
        end_candidate_session(
            candidate.attempt.id, "moved", "监考员已为您办理换机：请到新的考试机上输入准考证号继续考试。"
        )
        return {"ok": True}

    # ---- discipline and the room record ----
    def _discipline(self, candidate_id: int, action, what: str):
        account = staff()
        with write_transaction(db.session):
            candidate = service.require_candidate(db.session, account, candidate_id)
            result = action(db.session, candidate, what, account.id, now())
        return candidate, result

    @handles(ViolationIn)
    def on_warn(self, data: ViolationIn):
        """Record a warning (what the candidate did); acks ``{ok, warnings}``; from the second, removal is offered."""
        candidate, count = self._discipline(data.candidate_id, discipline.warn, data.what)
        notify_seat(candidate)
        return {"ok": True, "warnings": count, "may_remove": count >= discipline.WARNINGS_BEFORE_REMOVAL}

    @handles(ViolationIn)
    def on_remove(self, data: ViolationIn):
        """Remove the candidate (取消考试资格): the exam ends now, the score is void, the screen says so."""
        candidate, attempt = self._discipline(data.candidate_id, discipline.remove, data.what)
        end_candidate_session(attempt.id, "removed", "您已被取消本科目考试资格，请按监考员指示离开考场。")
        notify_seat(candidate)
        return {"ok": True}

    @handles(ViolationIn)
    def on_void_score(self, data: ViolationIn):
        """Record that the candidate's score of this sitting is void (成绩无效)."""
        candidate, _ = self._discipline(data.candidate_id, discipline.void_score, data.what)
        notify_seat(candidate)
        return {"ok": True}

    @handles(IncidentIn)
    def on_record_incident(self, data: IncidentIn):
        """Add a line to the room record (考场情况记录表), about the room or one of its candidates."""
        account = staff()
        with write_transaction(db.session):
            room = service.require_room(db.session, account, data.room_id, act=True)
            candidate = None
            if data.candidate_id is not None:
                candidate = service.require_candidate(db.session, account, data.candidate_id)
                if candidate.room_id != room.id:
                    raise exam.ExamError("unknown_candidate", "该考生不在本考场。")
            discipline.record_incident(db.session, room, data.what, data.decision, candidate, account.id, now())
        return {"ok": True}
