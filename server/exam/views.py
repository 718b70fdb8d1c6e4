"""HTTP endpoints of the candidate's login: look up a ticket, then bind it to this computer."""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request, session

from server.auth.views import STAFF_KEYS
from server.db import write_transaction
from server.errors import ExamError
from server.exam import service
from server.exam.models import Candidate
from server.extensions import db
from server.live import notify_seat
from server.timeutil import now

bp = Blueprint("candidate_api", __name__, url_prefix="/api/candidate")

STATUS = {"unknown_ticket": 404, "already_submitted": 409, "active_elsewhere": 409}


def _ticket() -> str:
    data = request.get_json(silent=True)
    ticket = data.get("ticket") if isinstance(data, dict) else None
    if not isinstance(ticket, str) or not ticket.strip() or len(ticket) > 32:
        raise ExamError("invalid_ticket", "请输入准考证号。")
    return ticket.strip()


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return jsonify(ok=False, error=exc.as_dict()), STATUS.get(exc.code, 400)


@bp.post("/lookup")
def lookup():
    """Show the candidate who holds a ticket, for the candidate to check before logging in."""
    candidate = service.find_candidate(db.session, _ticket())
    service.check_can_log_in(candidate, session.get("device"))
    return jsonify(ok=True, candidate=service.candidate_profile(candidate))


@bp.post("/login")
def login():
    """Bind the ticket to this computer; the candidate then waits for the proctor's confirmation."""
    ticket = _ticket()
    device = session.get("device") or secrets.token_urlsafe(24)
    with write_transaction(db.session):
        candidate = service.find_candidate(db.session, ticket)
        attempt = service.log_in(db.session, candidate, device, now())
        db.session.flush()
        attempt_id, candidate_id = attempt.id, candidate.id
    session.permanent = True
    for key in STAFF_KEYS:  # a candidate's computer must not keep a proctor's powers
        session.pop(key, None)
    session.update(device=device, attempt_id=attempt_id, candidate_id=candidate_id)
    notify_seat(db.session.get(Candidate, candidate_id))
    return jsonify(ok=True)
