"""The room arrangement (考场编排): every registrant of a sitting given a room, a seat and a ticket number.

Automatic: rooms are filled in order, seat by seat (row by row), at most :data:`ROOM_LIMIT` to a room. For
each seat the person is taken from the work unit with the most people still unseated among those with no
one on a neighbouring seat (left, right, in front, behind, diagonal); only when every unit left has someone
next to the seat is a neighbour from one's own unit unavoidable. So colleagues, who know each other, are
spread apart within a room and across the rooms. Within a unit the order is shuffled with the sitting's seed
(reproducible, but not the order of the list).

By hand: one person to a chosen seat; if it is taken, the two change places.

Ticket numbers (准考证号), 13 digits: ``YYYY SS NNN RR TT`` — the year of the sitting, the site code
(``SITE_CODE``, two digits), the sitting's number (three digits), the room's number and the seat number
(two digits each), e.g. ``2026 01 007 03 25``. A ticket therefore names the seat; moving someone by hand
gives a new ticket (reprint theirs).

The arrangement may change until the first candidate of the sitting logs in; each change discards the
papers prepared ahead (they are drawn per seat), so that the sitting is shown as not yet prepared.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select

from server import audit
from server.errors import ExamError
from server.exam import assembly
from server.exam.models import Candidate, ExamSession, Room
from server.sittings.models import Registrant
from server.sittings.rooms import ROOM_LIMIT, check_open
from server.timeutil import local

NEAR = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


@dataclass
class Arranged:
    seated: int  # people given a seat by this run
    rooms: int  # rooms that have someone
    neighbours: int  # pairs of one work unit on neighbouring seats (0 unless unavoidable)


def ticket_number(exam: ExamSession, room: Room, seat_no: int) -> str:
    """``YYYY SS NNN RR TT`` (see the module): always 13 digits, so no two can be the same."""
    code = str(current_app.config["SITE_CODE"])
    if not code.isdigit() or len(code) > 2:
        raise ExamError("invalid_site_code", f"考点代码应为两位数字（JIKAO_SITE_CODE），现为“{code}”。")
    if exam.id > 999:
        raise ExamError("too_many_sittings", "场次编号已超过 999，准考证号容纳不下：请在新的数据目录中设立场次。")
    return f"{local(exam.scheduled_start):%Y}{code:0>2}{exam.id:03d}{room.number:02d}{seat_no:02d}"


def numbered(session, exam: ExamSession, room: Room) -> Room:
    """A room made before rooms had numbers (the demo's, or from an older version) gets the next one."""
    if room.number is None:
        taken = [r.number for r in exam.rooms if r.number is not None]
        room.number = max(taken, default=0) + 1
        session.flush()
    return room


def _free_tickets(session, candidates: list[Candidate]) -> None:
    """Give up the candidates' tickets (unique) before they take each other's: a placeholder each, flushed."""
    for candidate in candidates:
        candidate.ticket = f"~{candidate.id}"
    session.flush()


def renumber(session, exam: ExamSession, room: Room) -> None:
    """After the room's grid changed: every seated candidate keeps row and column, with the seat number (and,
    for the arranged, the ticket) of that place in the new grid; the papers prepared for the old numbers are
    discarded."""
    arranged = [c for c in room.candidates if c.registrant_id is not None]
    _free_tickets(session, arranged)
    for candidate in room.candidates:
        candidate.seat_no = (candidate.seat_row - 1) * room.cols + candidate.seat_col
    for candidate in arranged:
        candidate.ticket = ticket_number(exam, numbered(session, exam, room), candidate.seat_no)
    _changed(session, exam)


def seat_of(room: Room, seat_no: int) -> tuple[int, int]:
    return (seat_no - 1) // room.cols + 1, (seat_no - 1) % room.cols + 1


def _seat(exam: ExamSession, room: Room, registrant: Registrant, seat_no: int) -> Candidate:
    row, col = seat_of(room, seat_no)
    return Candidate(
        session_id=exam.id,
        room=room,
        registrant_id=registrant.id,
        ticket=ticket_number(exam, room, seat_no),
        name=registrant.name,
        id_number=registrant.id_number,
        seat_no=seat_no,
        seat_row=row,
        seat_col=col,
    )


def unseated(session, exam: ExamSession) -> list[Registrant]:
    seated = select(Candidate.registrant_id).where(Candidate.registrant_id.is_not(None))
    query = select(Registrant).where(Registrant.session_id == exam.id, Registrant.id.not_in(seated))
    return list(session.scalars(query.order_by(Registrant.id)))


def _changed(session, exam: ExamSession) -> None:
    """The papers prepared ahead were drawn for the old seats: gone, and the sitting shows as not prepared."""
    assembly.discard_prepared(session, exam)
    exam.assembly_report = None


def neighbour_pairs(candidates: list[Candidate], unit_of: dict[int, str]) -> int:
    """Pairs of people of one work unit (not blank) on neighbouring seats of one room."""
    by_seat = {(c.room_id, c.seat_row, c.seat_col): unit_of.get(c.registrant_id, "") for c in candidates}
    pairs = 0
    for (room, row, col), unit in by_seat.items():
        if unit:
            pairs += sum(by_seat.get((room, row + dr, col + dc)) == unit for dr, dc in NEAR)
    return pairs // 2


def arrange(session, exam: ExamSession, actor: str, now: datetime, fill: int = ROOM_LIMIT) -> Arranged:
    """Seat everyone registered and not yet seated, in the free seats, spreading work units apart. All or
    nobody: refused (naming the shortfall) when the rooms lack seats."""
    check_open(session, exam)
    people = unseated(session, exam)
    if not people:
        raise ExamError("nobody_to_seat", "没有待编排的考生：请先导入报名名单。")
    rooms = [numbered(session, exam, room) for room in exam.rooms]
    if not rooms:
        raise ExamError("no_rooms", "请先设置考场。")
    free = []
    for room in rooms:
        taken = {c.seat_no for c in room.candidates}
        room_free = [n for n in range(1, room.rows * room.cols + 1) if n not in taken]
        free.append((room, room_free[: max(0, fill - len(taken))]))
    seats = sum(len(f) for _, f in free)
    if seats < len(people):
        raise ExamError(
            "too_few_seats",
            f"座位不足：待编排 {len(people)} 人，考场空余座位共 {seats} 个（每考场至多 {fill} 人）。请增加考场。",
        )
    shuffle = random.Random(exam.seed)
    units: dict[str, list[Registrant]] = defaultdict(list)
    for person in people:
        units[person.work_unit.strip()].append(person)
    for members in units.values():
        shuffle.shuffle(members)
    unit_at: dict[tuple[int, int, int], str] = {}
    for room in rooms:
        for c in room.candidates:
            registrant = session.get(Registrant, c.registrant_id) if c.registrant_id else None
            unit_at[(room.id, c.seat_row, c.seat_col)] = registrant.work_unit.strip() if registrant else ""
    placed = []
    for room, room_free in free:
        for seat_no in room_free:
            if not any(units.values()):
                break
            row, col = seat_of(room, seat_no)
            near = {unit_at.get((room.id, row + dr, col + dc)) for dr, dc in NEAR}
            left = [unit for unit, members in units.items() if members]
            # Largest unit first (ties by name), preferring one with nobody next to this seat; a blank work
            # unit is nobody's colleague.
            best = min(left, key=lambda unit: (bool(unit) and unit in near, -len(units[unit]), unit))
            person = units[best].pop()
            unit_at[(room.id, row, col)] = best
            candidate = _seat(exam, room, person, seat_no)
            session.add(candidate)
            placed.append(candidate)
    session.flush()
    everyone = [c for room in rooms for c in room.candidates]
    unit_of = {
        r.id: r.work_unit.strip() for r in session.scalars(select(Registrant).where(Registrant.session_id == exam.id))
    }
    result = Arranged(len(placed), sum(1 for r in rooms if r.candidates), neighbour_pairs(everyone, unit_of))
    _changed(session, exam)
    audit.record(
        session, now, actor, "arrangement.auto", f"session:{exam.id}", seated=result.seated,
        neighbours=result.neighbours,
    )  # fmt: skip
    return result


def place(session, exam: ExamSession, registrant_id: int, room_id: int, seat_no: int, actor: str, now: datetime):
    """One person to a chosen seat, by hand; the one sitting there (if anyone) takes theirs, or leaves the
    arrangement if they had none. Returns the candidates whose tickets changed."""
    check_open(session, exam)
    registrant = session.get(Registrant, registrant_id)
    room = session.get(Room, room_id)
    if registrant is None or registrant.session_id != exam.id:
        raise ExamError("unknown_registrant", "本场次没有这名考生。")
    if room is None or room.session_id != exam.id:
        raise ExamError("unknown_room", "本场次没有这个考场。")
    if not isinstance(seat_no, int) or not 1 <= seat_no <= room.rows * room.cols:
        raise ExamError("invalid_seat", f"{room.name}的座位号应为 1 到 {room.rows * room.cols}。")
    numbered(session, exam, room)
    mover = session.scalar(select(Candidate).where(Candidate.registrant_id == registrant.id))
    there = session.scalar(select(Candidate).where(Candidate.room_id == room.id, Candidate.seat_no == seat_no))
    if there is not None and there is mover:
        return []
    if there is not None and there.registrant_id is None:
        raise ExamError("invalid_seat", f"{room.name} {seat_no} 号座位已有考生{there.name}（不在报名名单中）。")
    changed = []
    if there is not None:
        if mover is None:  # the one sitting there gives the seat up
            session.delete(there)
            session.flush()
        else:
            old_room, old_seat = mover.room, mover.seat_no
            _free_tickets(session, [mover, there])
            _move(exam, there, old_room, old_seat)
            changed.append(there)
    if mover is None:
        mover = _seat(exam, room, registrant, seat_no)
        session.add(mover)
    else:
        _move(exam, mover, room, seat_no)
    changed.append(mover)
    session.flush()
    _changed(session, exam)
    audit.record(
        session, now, actor, "arrangement.place", f"session:{exam.id}", registrant=registrant.id, room=room.id,
        seat=seat_no,
    )  # fmt: skip
    return changed


def _move(exam: ExamSession, candidate: Candidate, room: Room, seat_no: int) -> None:
    candidate.room = room
    candidate.seat_no = seat_no
    candidate.seat_row, candidate.seat_col = seat_of(room, seat_no)
    candidate.ticket = ticket_number(exam, room, seat_no)


def unseat(session, exam: ExamSession, registrant_id: int | None, actor: str, now: datetime) -> int:
    """Take one person (or, with ``None``, everyone from the registration list) out of the arrangement."""
    check_open(session, exam)
    query = delete(Candidate).where(Candidate.session_id == exam.id, Candidate.registrant_id.is_not(None))
    if registrant_id is not None:
        query = query.where(Candidate.registrant_id == registrant_id)
    removed = session.execute(query).rowcount
    session.expire_all()
    _changed(session, exam)
    audit.record(
        session, now, actor, "arrangement.clear", f"session:{exam.id}", registrant=registrant_id, removed=removed
    )
    return removed
