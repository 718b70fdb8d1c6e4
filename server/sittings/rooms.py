"""The rooms of a sitting (考场): a grid of computers, two proctors each, and the sitting's site and chief
examiner (issue 8, SPEC.md "People and roles").

A room takes at most :data:`ROOM_LIMIT` candidates by the rules; a larger grid is allowed (a lab may have
more computers than candidates) but the arrangement fills only that many seats unless told otherwise, and
every screen warns of a room seating more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from server import audit
from server.auth.models import Account
from server.errors import ExamError
from server.exam.models import Attempt, Candidate, ExamSession, Room, RoomEvent, RoomProctor

ROOM_LIMIT = 30  # candidates per room (SPEC.md: two proctors per room of at most 30 seats)
PROCTORS = ("主监考", "副监考")  # the two positions, in the order they are given
GRID = (1, 20)  # rows and columns each
MAX_SEATS = 99


@dataclass(frozen=True)
class RoomPlan:
    name: str
    rows: int
    cols: int
    location: str = ""
    proctors: tuple[int, ...] = ()  # account ids: 主监考, then 副监考


def _check_plan(plan: RoomPlan) -> None:
    if not plan.name.strip() or len(plan.name) > 64:
        raise ExamError("invalid_room", "考场名称不能为空，且不超过 64 个字。")
    for words, value in (("排数", plan.rows), ("列数", plan.cols)):
        if not isinstance(value, int) or isinstance(value, bool) or not GRID[0] <= value <= GRID[1]:
            raise ExamError("invalid_room", f"考场座位的{words}应为 {GRID[0]} 到 {GRID[1]}。")
    if plan.rows * plan.cols > MAX_SEATS:  # the seat is two digits of the ticket number
        raise ExamError("invalid_room", f"一个考场至多 {MAX_SEATS} 个座位。")
    if len(plan.location) > 128:
        raise ExamError("invalid_room", "考场位置不超过 128 个字。")


def check_open(session, exam: ExamSession) -> None:
    """Rooms and seats may change until the sitting is under way: the first candidate logs in (even one whose
    login the proctor then undid: the room's feed names them), or a room starts."""
    logged_in = session.scalar(select(func.count(Attempt.id)).join(Candidate).where(Candidate.session_id == exam.id))
    if logged_in:
        raise ExamError("sitting_under_way", f"本场次已有 {logged_in} 名考生登录，考场和座位不能再改动。")
    room_ids = select(Room.id).where(Room.session_id == exam.id)
    started = session.scalar(select(func.count(Room.id)).where(Room.id.in_(room_ids), Room.started_at.is_not(None)))
    happened = session.scalar(select(func.count(RoomEvent.id)).where(RoomEvent.room_id.in_(room_ids)))
    if started or happened:
        raise ExamError("sitting_under_way", "本场次的考试已经开始（考场已有登录或开考记录），考场和座位不能再改动。")


def _proctors(session, exam: ExamSession, room: Room | None, ids: tuple[int, ...]) -> list[Account]:
    """The accounts to proctor the room, checked: proctors, at most two, different, and not already in
    another room of the sitting (nobody watches two rooms at once)."""
    if len(ids) > len(PROCTORS):
        raise ExamError("invalid_proctors", "每个考场安排两名监考员（主监考、副监考）。")
    if len(set(ids)) != len(ids):
        raise ExamError("invalid_proctors", "主监考和副监考不能是同一人。")
    accounts = []
    for account_id in ids:
        account = session.get(Account, account_id)
        if account is None or account.role != "proctor" or not account.active:
            raise ExamError("invalid_proctors", f"账号 {account_id} 不是可用的监考员账号。")
        elsewhere = session.scalar(
            select(Room.name)
            .join(RoomProctor, RoomProctor.room_id == Room.id)
            .where(
                Room.session_id == exam.id, RoomProctor.account_id == account_id, Room.id != (room.id if room else 0)
            )
        )
        if elsewhere:
            raise ExamError("invalid_proctors", f"{account.display_name}已在本场次的{elsewhere}监考。")
        accounts.append(account)
    return accounts


def _set_proctors(session, room: Room, accounts: list[Account]) -> None:
    session.execute(delete(RoomProctor).where(RoomProctor.room_id == room.id))
    for position, account in zip(PROCTORS, accounts, strict=False):
        session.add(RoomProctor(room_id=room.id, account_id=account.id, position=position))


def add_room(session, exam: ExamSession, plan: RoomPlan, actor: str, now: datetime) -> Room:
    _check_plan(plan)
    check_open(session, exam)
    if session.scalar(select(Room.id).where(Room.session_id == exam.id, Room.name == plan.name.strip())):
        raise ExamError("invalid_room", f"本场次已有名为“{plan.name.strip()}”的考场。")
    accounts = _proctors(session, exam, None, plan.proctors)
    numbers = session.scalars(select(Room.number).where(Room.session_id == exam.id)).all()
    number = max([n for n in numbers if n] + [len(numbers)], default=0) + 1
    if number > 99:
        raise ExamError("invalid_room", "一个场次至多 99 个考场。")
    room = Room(
        session_id=exam.id,
        name=plan.name.strip(),
        number=number,
        location=plan.location.strip(),
        rows=plan.rows,
        cols=plan.cols,
    )
    session.add(room)
    session.flush()
    _set_proctors(session, room, accounts)
    audit.record(
        session, now, actor, "room.add", f"room:{room.id}", name=room.name, grid=[room.rows, room.cols],
        proctors=[a.username for a in accounts],
    )  # fmt: skip
    return room


def change_room(session, room: Room, plan: RoomPlan, actor: str, now: datetime) -> Room:
    """Rename, move, regrid or re-staff a room; its grid may not lose a seat someone is given."""
    exam = room.session
    _check_plan(plan)
    check_open(session, exam)
    same_name = select(Room.id).where(Room.session_id == exam.id, Room.name == plan.name.strip(), Room.id != room.id)
    if session.scalar(same_name):
        raise ExamError("invalid_room", f"本场次已有名为“{plan.name.strip()}”的考场。")
    outside = [c for c in room.candidates if c.seat_row > plan.rows or c.seat_col > plan.cols]
    if outside:
        raise ExamError(
            "seats_taken",
            f"{outside[0].seat_row} 排 {outside[0].seat_col} 列已安排考生{outside[0].name}，不能去掉这些座位。",
        )
    accounts = _proctors(session, exam, room, plan.proctors)
    regrid = (plan.rows, plan.cols) != (room.rows, room.cols)
    room.name, room.location, room.rows, room.cols = plan.name.strip(), plan.location.strip(), plan.rows, plan.cols
    if regrid:  # seat numbers run row by row: everyone keeps their place, with its new number and ticket
        from server.sittings import arrangement

        arrangement.renumber(session, exam, room)
    _set_proctors(session, room, accounts)
    audit.record(
        session, now, actor, "room.change", f"room:{room.id}", name=room.name, grid=[room.rows, room.cols],
        proctors=[a.username for a in accounts],
    )  # fmt: skip
    return room


def remove_room(session, room: Room, actor: str, now: datetime) -> None:
    check_open(session, room.session)
    if room.candidates:
        raise ExamError("seats_taken", f"{room.name}已安排 {len(room.candidates)} 名考生，请先把他们移出再删除考场。")
    session.execute(delete(RoomProctor).where(RoomProctor.room_id == room.id))
    audit.record(session, now, actor, "room.remove", f"room:{room.id}", name=room.name)
    session.delete(room)


def set_site(session, exam: ExamSession, site: str, chief_id: int | None, actor: str, now: datetime) -> None:
    """The sitting's site (考点, printed on tickets and lists) and its chief examiner (主考)."""
    site = site.strip()
    if len(site) > 128:
        raise ExamError("invalid_site", "考点名称不超过 128 个字。")
    if chief_id is not None:
        chief = session.get(Account, chief_id)
        if chief is None or chief.role != "chief" or not chief.active:
            raise ExamError("invalid_chief", f"账号 {chief_id} 不是可用的主考账号。")
    exam.site, exam.chief_id = site, chief_id
    audit.record(session, now, actor, "sitting.site", f"session:{exam.id}", site=site, chief=chief_id)


def staff(session) -> dict[str, list[Account]]:
    """The accounts the admin may assign: proctors and chief examiners."""
    query = select(Account).where(Account.active.is_(True), Account.role.in_(("proctor", "chief")))
    found: dict[str, list[Account]] = {"proctor": [], "chief": []}
    for account in session.scalars(query.order_by(Account.display_name, Account.id)):
        found[account.role].append(account)
    return found


def room_proctors(session, room: Room) -> list[tuple[str, Account]]:
    """The room's proctors, 主监考 first: (position, account)."""
    rows = session.execute(
        select(RoomProctor.position, Account).join(Account).where(RoomProctor.room_id == room.id)
    ).all()
    order = {position: n for n, position in enumerate(PROCTORS)}
    return sorted(((position, account) for position, account in rows), key=lambda r: order.get(r[0], 9))


def warnings(session, exam: ExamSession) -> list[str]:
    """What is not yet as the rules want it: rooms over 30, rooms without two proctors, no chief examiner."""
    found = []
    if not exam.rooms:
        found.append("尚未设置考场。")
    for room in exam.rooms:
        seated = len(room.candidates)
        if seated > ROOM_LIMIT:
            found.append(f"{room.name}安排了 {seated} 名考生，超过每考场 {ROOM_LIMIT} 人的规定。")
        proctors = len(room_proctors(session, room))
        if proctors < len(PROCTORS):
            found.append(f"{room.name}只安排了 {proctors} 名监考员，应为两名（主监考、副监考）。")
    if exam.chief_id is None:
        found.append("尚未指定本场次的主考。")
    return found
