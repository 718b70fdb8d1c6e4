"""The exam admin's HTTP API for a sitting's rooms, staff and room arrangement (考场编排), and its printouts
(admission tickets, door lists, seat labels). Exam admins only; every change is one unit of work."""

from __future__ import annotations

import io

from flask import Blueprint, jsonify, request, send_file
from sqlalchemy import func, select

from server.auth.views import role_required
from server.bank import keys
from server.db import write_transaction
from server.errors import ExamError
from server.exam.models import Attempt, Candidate, ExamSession, Room
from server.extensions import db, run_blocking
from server.pdf import font_candidates
from server.sittings import archive, arrangement, closing, printouts, rooms, service
from server.sittings.models import Registrant
from server.timeutil import now
from server.web import int_of, json_body, text_of

bp = Blueprint("sittings_api", __name__, url_prefix="/api/admin/sittings/<int:session_id>")
STATUS = {
    "forbidden": 403,
    "unknown_session": 404,
    "unknown_room": 404,
    "unknown_registrant": 404,
    "bank_locked": 409,
}

exam_admin = role_required("exam_admin", "只有考务管理员可以安排考场和考生。")


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return jsonify(ok=False, error=exc.as_dict()), STATUS.get(exc.code, 400)


def _sitting(session_id: int) -> ExamSession:
    return service.sitting(db.session, session_id)


def _room(exam: ExamSession, room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None or room.session_id != exam.id:
        raise ExamError("unknown_room", "本场次没有这个考场。")
    return room


def _plan(body: dict) -> rooms.RoomPlan:
    proctors = body.get("proctors", [])
    if not isinstance(proctors, list) or not _account_ids(proctors):
        raise ExamError("invalid_payload", "proctors 应为监考员账号编号的列表。")
    return rooms.RoomPlan(
        name=text_of(body, "name"),
        rows=body.get("rows"),  # checked, in words, with the rest of the plan
        cols=body.get("cols"),
        location=text_of(body, "location"),
        proctors=tuple(proctors),
    )


def _optional_body() -> dict:
    """A JSON object, or nothing at all (then empty)."""
    return json_body() if request.get_data() else {}


def _account_ids(values) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in values)


def _actor(account) -> str:
    return f"account:{account.id}"


def setup_view(exam: ExamSession) -> dict:
    """Everything the arrangement screen shows: site and chief, rooms with their proctors and seats, who is
    not yet seated, the warnings, and whether changes are still allowed."""
    units = dict(
        db.session.execute(select(Registrant.id, Registrant.work_unit).where(Registrant.session_id == exam.id)).all()
    )
    logged_in = db.session.scalar(select(func.count(Attempt.id)).join(Candidate).where(Candidate.session_id == exam.id))
    staff = rooms.staff(db.session)
    everyone = [c for room in exam.rooms for c in room.candidates]
    return {
        "id": exam.id,
        "name": exam.name,
        "site": exam.site,
        "chief_id": exam.chief_id,
        "staff": {
            role: [{"id": a.id, "name": a.display_name, "username": a.username} for a in accounts]
            for role, accounts in staff.items()
        },
        "room_limit": rooms.ROOM_LIMIT,
        "rooms": [
            {
                "id": room.id,
                "number": room.number,
                "name": room.name,
                "location": room.location,
                "rows": room.rows,
                "cols": room.cols,
                "proctors": [
                    {"id": a.id, "name": a.display_name, "position": position}
                    for position, a in rooms.room_proctors(db.session, room)
                ],
                "seated": [
                    {
                        "candidate_id": c.id,
                        "registrant_id": c.registrant_id,
                        "name": c.name,
                        "ticket": c.ticket,
                        "seat_no": c.seat_no,
                        "row": c.seat_row,
                        "col": c.seat_col,
                        "work_unit": units.get(c.registrant_id, ""),
                    }
                    for c in room.candidates
                ],
            }
            for room in exam.rooms
        ],
        "unseated": [
            {"registrant_id": r.id, "name": r.name, "id_number": r.id_number, "work_unit": r.work_unit}
            for r in arrangement.unseated(db.session, exam)
        ],
        "neighbours": arrangement.neighbour_pairs(everyone, units),
        "warnings": rooms.warnings(db.session, exam),
        "locked": logged_in,
    }


def _done(exam: ExamSession, **extra):
    db.session.expire_all()
    return jsonify(ok=True, setup=setup_view(_sitting(exam.id)), **extra)


@bp.get("/setup")
@exam_admin
def setup(account, session_id: int):
    return jsonify(ok=True, setup=setup_view(_sitting(session_id)))


@bp.post("/site")
@exam_admin
def set_site(account, session_id: int):
    """The sitting's site (考点) and chief examiner (主考)."""
    body = json_body()
    chief = body.get("chief_id")
    if chief is not None and not _account_ids([chief]):
        raise ExamError("invalid_payload", "chief_id 应为主考账号编号。")
    with write_transaction(db.session):
        exam = _sitting(session_id)
        rooms.set_site(db.session, exam, text_of(body, "site"), chief, _actor(account), now())
    return _done(exam)


@bp.post("/rooms")
@exam_admin
def add_room(account, session_id: int):
    plan = _plan(json_body())
    with write_transaction(db.session):
        exam = _sitting(session_id)
        rooms.add_room(db.session, exam, plan, _actor(account), now())
    return _done(exam), 201


@bp.post("/rooms/<int:room_id>")
@exam_admin
def change_room(account, session_id: int, room_id: int):
    plan = _plan(json_body())
    with write_transaction(db.session):
        exam = _sitting(session_id)
        rooms.change_room(db.session, _room(exam, room_id), plan, _actor(account), now())
    return _done(exam)


@bp.post("/rooms/<int:room_id>/remove")
@exam_admin
def remove_room(account, session_id: int, room_id: int):
    with write_transaction(db.session):
        exam = _sitting(session_id)
        rooms.remove_room(db.session, _room(exam, room_id), _actor(account), now())
    return _done(exam)


@bp.post("/arrange")
@exam_admin
def arrange(account, session_id: int):
    """Seat everyone not yet seated, spreading work units apart (at most 30 a room unless ``fill`` says)."""
    body = _optional_body()
    fill = int_of(body, "fill", 1, rooms.GRID[1] ** 2, rooms.ROOM_LIMIT)
    with write_transaction(db.session):
        exam = _sitting(session_id)
        result = arrangement.arrange(db.session, exam, _actor(account), now(), fill=fill)
    return _done(exam, seated=result.seated, neighbours=result.neighbours)


@bp.post("/seats")
@exam_admin
def place(account, session_id: int):
    """One person to a chosen seat by hand (changing places with whoever sits there)."""
    body = json_body()
    with write_transaction(db.session):
        exam = _sitting(session_id)
        changed = arrangement.place(
            db.session,
            exam,
            int_of(body, "registrant_id", 1, 2**31),
            int_of(body, "room_id", 1, 2**31),
            int_of(body, "seat_no", 1, rooms.GRID[1] ** 2),
            _actor(account),
            now(),
        )
        tickets = [{"name": c.name, "ticket": c.ticket} for c in changed]
    return _done(exam, new_tickets=tickets)


@bp.post("/seats/clear")
@exam_admin
def clear(account, session_id: int):
    """Take one person (``registrant_id``) or everyone from the registration list out of the arrangement."""
    body = _optional_body()
    who = body.get("registrant_id")
    if who is not None:
        who = int_of(body, "registrant_id", 1, 2**31)
    with write_transaction(db.session):
        exam = _sitting(session_id)
        removed = arrangement.unseat(db.session, exam, who, _actor(account), now())
    return _done(exam, removed=removed)


def _pdf(draw, exam: printouts.Sitting, what: list, name: str):
    """A printout drawn on a worker thread (hundreds of tickets take seconds of CPU; no exam client of another
    sitting waits for it), sent to open in the browser's viewer."""
    body = run_blocking(draw, exam, what, font_candidates())
    return send_file(io.BytesIO(body), mimetype="application/pdf", download_name=name)


def _printed_room(exam: ExamSession) -> Room | None:
    room_id = request.args.get("room", type=int)
    return _room(exam, room_id) if room_id is not None else None


@bp.get("/tickets.pdf")
@exam_admin
def tickets(account, session_id: int):
    """Admission tickets (准考证): one candidate's (``candidate``), a room's (``room``) or the sitting's."""
    exam = _sitting(session_id)
    people = printouts.seated(exam, _printed_room(exam))
    one = request.args.get("candidate", type=int)
    if one is not None:
        people = [p for p in people if p.candidate_id == one]
        if not people:
            raise ExamError("unknown_candidate", "本场次没有这名考生。")
    return _pdf(printouts.tickets_pdf, printouts.sitting(exam), people, "准考证.pdf")


@bp.get("/door-lists.pdf")
@exam_admin
def door_lists(account, session_id: int):
    """The room door lists (门贴): who sits where, one page a room."""
    exam = _sitting(session_id)
    room = _printed_room(exam)
    listed = printouts.door_lists(exam, [room] if room else list(exam.rooms))
    return _pdf(printouts.door_lists_pdf, printouts.sitting(exam), listed, "门贴.pdf")


@bp.get("/seat-labels.pdf")
@exam_admin
def seat_labels(account, session_id: int):
    """The seat labels (桌贴): one per seated candidate, to stick on the computer's desk."""
    exam = _sitting(session_id)
    people = printouts.seated(exam, _printed_room(exam))
    return _pdf(printouts.seat_labels_pdf, printouts.sitting(exam), people, "桌贴.pdf")


# ---- closing: rooms closed, results, publication, the archive ----


def _who(account) -> str:
    return f"{account.display_name}（{account.username}）"


@bp.get("/closing")
@exam_admin
def closing_view(account, session_id: int):
    """Each room open or closed (and why not yet), the results' counts, and the publication."""
    exam = _sitting(session_id)
    return jsonify(ok=True, closing=closing.summary(db.session, exam, now()))


@bp.post("/close")
@exam_admin
def close(account, session_id: int):
    """Close every room whose time is over: attempts ended, absentees recorded, the room record kept."""
    room_ids = [room.id for room in _sitting(session_id).rooms]
    if not room_ids:
        raise ExamError("no_rooms", "本场次没有考场。")
    done = []
    for room_id in room_ids:  # a room at a time: answers of other sittings never wait long for the write lock
        with write_transaction(db.session):
            room = db.session.get(Room, room_id)
            done.append(closing.close_room(db.session, room, _actor(account), account.id, now()))
    db.session.expire_all()
    exam = _sitting(session_id)
    return jsonify(
        ok=True,
        rooms=[{"room": c.room, "closed": c.closed, "why": c.why} for c in done],
        closing=closing.summary(db.session, exam, now()),
    )


@bp.get("/results.<any(xlsx, csv):kind>")
@exam_admin
def results(account, session_id: int, kind: str):
    """The 成绩汇总表 as Excel or CSV (the exam admin's, before and after publication)."""
    exam = _sitting(session_id)
    rows = closing.results(db.session, exam)
    if kind == "csv":
        body, mimetype = closing.results_csv(exam, rows), "text/csv"
    else:
        body = closing.results_xlsx(exam, rows, now())
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=f"成绩汇总表.{kind}")


@bp.post("/publish")
@exam_admin
def publish(account, session_id: int):
    """成绩公布: once every room is closed; who and when are recorded."""
    with write_transaction(db.session):
        exam = _sitting(session_id)
        closing.publish(db.session, exam, _actor(account), _who(account), now())
    db.session.expire_all()
    return jsonify(ok=True, closing=closing.summary(db.session, _sitting(session_id), now()))


@bp.get("/archive.zip")
@exam_admin
def archive_zip(account, session_id: int):
    """The signed archive of the sitting (5-year retention): JSON and PDF in one ZIP."""
    if not keys.is_open():
        raise ExamError("bank_locked", "题库未打开（需两位保密员在服务器启动时输入口令），不能打开试卷归档。")
    at = now()
    with write_transaction(db.session):
        exam = _sitting(session_id)
        archive.signing_key(db.session, exam, _actor(account), at)
    exam = _sitting(session_id)
    files = archive.gather(db.session, exam, _actor(account), at)
    body = run_blocking(archive.pack, files, archive.signer(db.session), font_candidates())
    with write_transaction(db.session):
        archive.record_made(db.session, _sitting(session_id), body, _actor(account), at)
    return send_file(
        io.BytesIO(body), mimetype="application/zip", as_attachment=True, download_name=f"场次{session_id}归档.zip"
    )
