"""The proctor's printable room record (考场情况记录表): an HTML print view and the same record as a PDF.

Opened in a new tab from the console with the staff session cookie; the proctors of the room, the chief
examiner and the supervisor may read it (reading changes nothing).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from server.errors import ExamError
from server.exam.models import RoomClosing
from server.extensions import db, run_blocking
from server.pdf import font_candidates
from server.proctor import record
from server.proctor.service import require_room, staff
from server.timeutil import now

bp = Blueprint("proctor_web", __name__, template_folder="templates")


def _room(room_id: int):
    return require_room(db.session, staff(), room_id)


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return render_template("refused.html", message=exc.message), 403 if exc.code == "forbidden" else 400


def _record(room) -> dict:
    """The record as kept when the room was closed (the one to sign), else as it stands now."""
    closing = db.session.get(RoomClosing, room.id)
    return closing.record if closing is not None else record.build(db.session, room, now())


@bp.get("/proctor/rooms/<int:room_id>/record")
def record_page(room_id: int):
    """The room record as a page to print (the browser's own print dialog)."""
    room = _room(room_id)
    return render_template("room_record.html", room=room, record=_record(room))


@bp.get("/proctor/rooms/<int:room_id>/record.pdf")
def record_pdf(room_id: int):
    """The room record as an A4 PDF."""
    room = _room(room_id)
    # Drawing the PDF takes tens of milliseconds of CPU (the first time, with the font, a few hundred):
    # off the event loop, so that no exam client waits for it.
    body = run_blocking(record.pdf, _record(room), font_candidates())
    filename = f"room-record-{room.id}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"},
    )
