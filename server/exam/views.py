"""HTTP endpoints of the candidate's login: look up a ticket, then bind it to this computer."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, jsonify, request, session
from sqlalchemy import select

from server.auth.views import STAFF_KEYS
from server.db import write_transaction
from server.errors import ExamError
from server.exam import service
from server.exam.models import Candidate
from server.extensions import db
from server.live import notify_seat
from server.timeutil import now

bp = Blueprint("candidate_api", __name__, url_prefix="/api/candidate")

STATUS = {
    "unknown_ticket": 404,
    "already_submitted": 409,
    "active_elsewhere": 409,
    "session_ended": 403,
    "not_in_paper": 404,
    "unknown_image": 404,
    "not_started": 403,
    "time_up": 403,
    "submitted": 403,
    "paused": 403,
    "too_many_queries": 429,
}


def _ticket() -> str:
    data = request.get_json(silent=True)
    ticket = data.get("ticket") if isinstance(data, dict) else None
    if not isinstance(ticket, str) or not ticket.strip() or len(ticket) > 32:
        raise ExamError("invalid_ticket", "请输入准考证号。")
    return ticket.strip()


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return jsonify(ok=False, error=exc.as_dict()), STATUS.get(exc.code, 400)


@bp.get("/items/<int:item_id>/images/<int:index>")
def item_image(item_id: int, index: int):
    """A picture of an item in this candidate's paper, only while they may answer."""
    from server.bank.service import load_items
    from server.bank.views import image_response
    from server.exam.models import Attempt

    attempt = db.session.get(Attempt, session.get("attempt_id") or 0)
    if attempt is None or attempt.device_token != session.get("device"):
        raise ExamError("session_ended", "本机的考试登录已失效。")
    service.require_answering(db.session, attempt, now())
    if item_id not in service.paper_item_ids_of(attempt):
        raise ExamError("not_in_paper", "该题不在您的试卷中。")
    return image_response(load_items(db.session, [item_id])[item_id], index)


@bp.post("/lookup")
def lookup():
    """Show the candidate who holds a ticket, for the candidate to check before logging in."""
    candidate = service.find_candidate(db.session, _ticket())
    service.check_can_log_in(db.session, candidate, session.get("device"), now())
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


# Wrong ticket/ID pairs per client address in the last ten minutes: guessing ID numbers is slow.
QUERY_WINDOW = timedelta(minutes=10)
QUERY_MISSES = 10


def _misses() -> dict[str, list]:
    """This server process's record of wrong pairs, by client address (a restart forgets it)."""
    from flask import current_app

    return current_app.extensions.setdefault("jikao.result_misses", {})


def _too_many_misses(address: str, at) -> bool:
    misses = _misses()
    recent = [t for t in misses.get(address, []) if at - t < QUERY_WINDOW]
    if recent:
        misses[address] = recent
    else:
        misses.pop(address, None)
    return len(recent) >= QUERY_MISSES


@bp.post("/result")
def result():
    """成绩查询: a candidate's result by ticket and ID number once the sitting's results are published (or
    shown at submission by its policy); before, only that they are not (SPEC.md "Scores"), without saying
    whether the ID number was right. A wrong pair is refused with one message, whichever is wrong, and an
    address that keeps guessing is made to wait."""
    from server.sittings import closing

    at = now()
    address = request.remote_addr or ""
    if _too_many_misses(address, at):
        raise ExamError("too_many_queries", "查询次数过多，请 10 分钟后再试。")
    data = request.get_json(silent=True)
    number = data.get("id_number") if isinstance(data, dict) else None
    ticket = _ticket()
    if not isinstance(number, str) or not number.strip():
        raise ExamError("invalid_id_number", "请输入证件号码。")
    candidate = db.session.scalar(select(Candidate).where(Candidate.ticket == ticket))
    if candidate is not None and not candidate.session.scores_public:
        exam = candidate.session
        return jsonify(ok=True, published=False, sitting=exam.name, message="成绩尚未公布，请在公布后查询。")
    if candidate is None or candidate.id_number.upper() != number.strip().upper():
        _misses().setdefault(address, []).append(at)
        raise ExamError("no_such_result", "准考证号与证件号码不符，请核对后重新输入。")
    [row] = closing.results(db.session, candidate.session, [candidate])
    return jsonify(
        ok=True,
        published=True,
        sitting=candidate.session.name,
        name=row.name,
        score=row.score,
        verdict=row.verdict,
        status=row.status,
        reason=row.reason if row.status != "已交卷" else "",
    )
