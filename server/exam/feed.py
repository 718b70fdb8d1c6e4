"""A room's live event feed (监考事件): every line is stored in the caller's unit of work and reaches the
room's proctor consoles only once that unit has committed, so a console never shows what was not kept.

Lines are plain Chinese text for the proctor ("05号 王丽 断开连接"), with a ``kind`` for programs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.exam.models import Candidate, RoomEvent
from server.extensions import socketio
from server.timeutil import iso

PENDING = "jikao.feed"
PROCTOR_NS = "/proctor"
RECENT = 200  # lines a console gets when it starts watching a room


def room_channel(room_id: int) -> str:
    return f"room:{room_id}"


def who(candidate: Candidate) -> str:
    return f"{candidate.seat_no:02d}号 {candidate.name}"


def record(session, room_id: int, kind: str, text: str, now: datetime, candidate: Candidate | None = None) -> None:
    """Add a line to the room's feed (published after the commit)."""
    row = RoomEvent(room_id=room_id, candidate_id=candidate.id if candidate else None, at=now, kind=kind, text=text)
    session.add(row)
    session.info.setdefault(PENDING, []).append(view(row))


def about(session, candidate: Candidate, kind: str, text: str, now: datetime) -> None:
    """A line about one candidate: "<seat>号 <name> <text>"."""
    record(session, candidate.room_id, kind, f"{who(candidate)} {text}", now, candidate)


def view(row: RoomEvent) -> dict:
    return {
        "room_id": row.room_id,
        "candidate_id": row.candidate_id,
        "at": iso(row.at),
        "kind": row.kind,
        "text": row.text,
    }


def recent(session, room_id: int, limit: int = RECENT) -> list[dict]:
    """The room's latest lines, oldest first."""
    rows = session.scalars(
        select(RoomEvent).where(RoomEvent.room_id == room_id).order_by(RoomEvent.id.desc()).limit(limit)
    ).all()
    return [view(row) for row in reversed(rows)]


@event.listens_for(Session, "after_commit")
def _publish(session) -> None:
    for line in session.info.pop(PENDING, ()):
        socketio.emit("feed", line, to=room_channel(line["room_id"]), namespace=PROCTOR_NS)


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(PENDING, None)
