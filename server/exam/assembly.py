"""Papers for a sitting (组卷): drawn a whole room at a time ahead of the start, backup papers (备用卷), and
replacing a candidate's paper by a backup, as when an item of it is declared leaked (泄密) during the sitting.

Every paper is stored sealed with the sitting's key (see :mod:`server.exam.sealing`) and handed to a seat
when the proctor confirms the candidate there. Seats of a room are drawn together, neighbours avoiding each
other's items as far as the bank allows, and the overlap achieved is reported. A seat without a prepared
paper (a sitting nobody assembled ahead, or a paper made void) gets one drawn at confirmation instead.

Never commits: the caller's unit of work does.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from item_bank.blueprint import (
    Blueprint,
    BlueprintError,
    Cell,
    PoolItem,
    assemble,
    assemble_room,
    bank_version,
    check_feasible,
    item_ids,
    parse_blueprint,
    pool_item,
    seat_seed,
    spareless,
)
from item_bank.crypto import seal, unseal
from item_bank.paper import paper_item_ids
from server import audit
from server.bank.models import Item
from server.bank.service import active_pool
from server.errors import ExamError
from server.exam import feed
from server.exam.models import Attempt, Candidate, ExamSession, PreparedPaper, Room
from server.exam.sealing import seal_paper, session_key
from server.timeutil import iso

SEAT, BACKUP, REPLACED = "seat", "backup", "replaced"
LEAKED_REASON = "含有已泄密或已停用的试题"


@dataclass
class SittingPool:
    blueprint: Blueprint
    pool: list[PoolItem]
    candidates: dict[Cell, list[PoolItem]]
    version: str  # bank_version of the pool


@dataclass
class Replacement:
    attempt: Attempt
    backup: str  # the backup paper's label
    kept: int  # answers to items the new paper has as well
    dropped: int  # answers to items it has not (they stay in the answer log)


def seat_label(room_id: int, seat_no: int) -> str:
    return f"r{room_id}s{seat_no:02d}"


def backup_label(number: int) -> str:
    return f"B{number:02d}"


MAX_BACKUPS = 500


def default_backups(seats: int) -> int:
    """One backup paper for every ten seats, never fewer than three, and never more than may be asked for."""
    return min(MAX_BACKUPS, max(3, math.ceil(seats / 10)))


def sitting_pool(session, exam: ExamSession, refused: str = "无法组卷") -> SittingPool:
    """The sitting's blueprint and the usable items it draws from (opened: shuffling needs the options)."""
    if exam.blueprint is None:
        raise ExamError("no_blueprint", "本场次尚未指定组卷蓝图，请联系考务管理员。")
    blueprint = parse_blueprint(exam.blueprint.data)
    opened = active_pool(session, exam.occupation_code, exam.level)
    pool = [pool_item(item_id, item) for item_id, item in opened.items()]
    try:
        candidates = check_feasible(blueprint, pool)
    except BlueprintError as exc:
        raise ExamError("paper_unavailable", f"{refused}：{'；'.join(exc.problems)}。请联系题库管理员。") from exc
    return SittingPool(blueprint, pool, candidates, bank_version(pool))


# ---- sealing papers that belong to no attempt yet ----
def _associated(exam: ExamSession, kind: str, label: str) -> str:
    return f"jikao-prepared:{exam.id}:{kind}:{label}"


def _seal(exam: ExamSession, kind: str, label: str, paper: dict) -> bytes:
    return seal(session_key(exam), _associated(exam, kind, label), json.dumps(paper).encode("utf-8"))


def open_prepared(exam: ExamSession, row: PreparedPaper) -> dict:
    return json.loads(unseal(session_key(exam), _associated(exam, row.kind, row.label), row.sealed))


# ---- ahead of the start ----
def handed_out(session, exam: ExamSession) -> int:
    """How many candidates of the sitting hold a paper (confirmed, taking or done with the exam)."""
    return (
        session.scalar(
            select(func.count(Attempt.id))
            .join(Candidate)
            .where(Candidate.session_id == exam.id, Attempt.status != "awaiting_confirmation")
        )
        or 0
    )


def discard_prepared(session, exam: ExamSession) -> None:
    """Forget the sitting's seat and backup papers (the replaced ones stay: they are the record)."""
    session.execute(delete(PreparedPaper).where(PreparedPaper.session_id == exam.id, PreparedPaper.kind != REPLACED))


def prepare(session, exam: ExamSession, actor: str, now: datetime, backups: int | None = None) -> dict:
    """Draw every seat's paper, room by room, and the backup papers; report the overlap achieved.

    Allowed until the first candidate of the sitting is confirmed (and so holds a paper); doing it again
    before then draws everything anew from the bank as it is now."""
    # Deleting first takes the database's write lock: no confirmation (in this process or another) can
    # slip in between the check below and the new papers. A refusal rolls the deletion back.
    discard_prepared(session, exam)
    holding = handed_out(session, exam)
    if holding:
        raise ExamError("papers_handed_out", f"本场次已有 {holding} 名考生确认入场并领取试卷，不能重新组卷。")
    seats = session.scalar(select(func.count(Candidate.id)).where(Candidate.session_id == exam.id)) or 0
    backups = default_backups(seats) if backups is None else backups
    if not 0 <= backups <= MAX_BACKUPS:
        raise ExamError("invalid_backups", f"备用卷份数应在 0 到 {MAX_BACKUPS} 之间。")
    drawn = sitting_pool(session, exam)
    rooms = []
    for room in session.scalars(select(Room).where(Room.session_id == exam.id).order_by(Room.id)):
        by_label = {seat_label(room.id, c.seat_no): c for c in room.candidates}
        if not by_label:
            continue
        result = assemble_room(
            drawn.blueprint, drawn.pool, {label: (c.seat_row, c.seat_col) for label, c in by_label.items()}, exam.seed
        )
        for label, paper in result.papers.items():
            paper["bank_version"] = drawn.version
            session.add(
                PreparedPaper(
                    session_id=exam.id,
                    kind=SEAT,
                    label=label,
                    room_id=room.id,
                    seat_no=by_label[label].seat_no,
                    sealed=_seal(exam, SEAT, label, paper),
                    created_at=now,
                )
            )
        shares = list(result.overlap.values())
        rooms.append(
            {
                "room_id": room.id,
                "name": room.name,
                "seats": len(by_label),
                "neighbour_pairs": len(shares),
                "overlap_mean": sum(shares) / len(shares) if shares else 0.0,
                "overlap_worst": max(shares, default=0.0),
            }
        )
    avoid: dict[int, int] = {}
    for number in range(1, backups + 1):
        _add_backup(session, exam, drawn, number, avoid, now)
    report = {
        "prepared_at": iso(now),
        "by": actor,
        "blueprint_version": drawn.blueprint.version,
        "bank_version": drawn.version,
        "pool_size": len(drawn.pool),
        "papers": sum(r["seats"] for r in rooms),
        "backups": backups,
        "rooms": rooms,
        "warnings": spareless(drawn.candidates),
    }
    exam.assembly_report = report
    audit.record(
        session,
        now,
        actor,
        "papers.prepare",
        f"session:{exam.id}",
        papers=report["papers"],
        backups=backups,
        bank_version=drawn.version,
        overlap_worst=max((r["overlap_worst"] for r in rooms), default=0.0),
    )
    return report


def _backup_paper(exam: ExamSession, drawn: SittingPool, number: int, avoid: dict[int, int]) -> dict:
    """The backup paper of that number: drawn like a seat's, keeping clear of the items in ``avoid`` (the
    backups drawn before it), which it then joins."""
    label = backup_label(number)
    paper = assemble(drawn.blueprint, drawn.candidates, seat_seed(exam.seed, label), avoid)
    paper["bank_version"] = drawn.version
    paper["backup"] = label
    for item_id in item_ids(paper):
        avoid[item_id] = avoid.get(item_id, 0) + 1
    return paper


def _add_backup(
    session, exam: ExamSession, drawn: SittingPool, number: int, avoid: dict[int, int], now: datetime
) -> PreparedPaper:
    label = backup_label(number)
    paper = _backup_paper(exam, drawn, number, avoid)
    row = PreparedPaper(
        session_id=exam.id, kind=BACKUP, label=label, sealed=_seal(exam, BACKUP, label, paper), created_at=now
    )
    session.add(row)
    return row


def verify(session, exam: ExamSession) -> list[str]:
    """Draw the prepared seat and backup papers again from the recorded seed and compare them bit for bit (an
    audit). Returns the labels whose stored paper differs; refused if the bank has changed since assembly."""
    report = exam.assembly_report
    if not report:
        raise ExamError("not_prepared", "本场次尚未提前组卷。")
    drawn = sitting_pool(session, exam)
    if drawn.version != report["bank_version"]:
        raise ExamError(
            "bank_changed",
            f"组卷后题库已变化（组卷时 {report['bank_version']}，现在 {drawn.version}），无法按原样重新生成。",
        )
    differing = []
    for room in session.scalars(select(Room).where(Room.session_id == exam.id).order_by(Room.id)):
        rows = {
            row.label: row
            for row in session.scalars(
                select(PreparedPaper).where(PreparedPaper.room_id == room.id, PreparedPaper.kind == SEAT)
            )
        }
        seats = {seat_label(room.id, c.seat_no): (c.seat_row, c.seat_col) for c in room.candidates}
        if not seats:
            continue
        again = assemble_room(drawn.blueprint, drawn.pool, seats, exam.seed)
        for label, paper in again.papers.items():
            paper["bank_version"] = drawn.version
            if label not in rows or open_prepared(exam, rows[label]) != paper:
                differing.append(label)
    backups = {
        row.label: row
        for row in session.scalars(
            select(PreparedPaper).where(PreparedPaper.session_id == exam.id, PreparedPaper.kind == BACKUP)
        )
    }
    avoid: dict[int, int] = {}
    for number in range(1, report["backups"] + 1):  # drawn in order, each keeping clear of the ones before
        label = backup_label(number)
        paper = _backup_paper(exam, drawn, number, avoid)
        if label not in backups or open_prepared(exam, backups[label]) != paper:
            differing.append(label)
    return differing


# ---- handing out at confirmation ----
def unusable_items(session, ids) -> set[int]:
    """Of these items, those no paper may hold any more: leaked, or no longer active."""
    ids = list(ids)
    if not ids:
        return set()
    return set(
        session.scalars(select(Item.id).where(Item.id.in_(ids), (Item.leaked.is_(True)) | (Item.status != "active")))
    )


def paper_for_seat(session, attempt: Attempt, now: datetime) -> dict:
    """The seat's prepared paper if it is still good, else one drawn now."""
    candidate = attempt.candidate
    exam = candidate.session
    row = session.scalar(
        select(PreparedPaper).where(
            PreparedPaper.session_id == exam.id,
            PreparedPaper.kind == SEAT,
            PreparedPaper.room_id == candidate.room_id,
            PreparedPaper.seat_no == candidate.seat_no,
            PreparedPaper.attempt_id.is_(None),
            PreparedPaper.void_reason.is_(None),
        )
    )
    if row is not None:
        paper = open_prepared(exam, row)
        if not unusable_items(session, item_ids(paper)):
            row.attempt_id = attempt.id
            row.assigned_at = now
            return paper
        row.void_reason = LEAKED_REASON
    return draw_seat_paper(session, candidate)


def draw_seat_paper(session, candidate: Candidate) -> dict:
    """The seat's paper drawn now, avoiding the items its confirmed neighbours hold. Reproducible: the seed
    derives from the sitting's seed and the seat, and the paper records the blueprint version and a digest
    of the pool it was drawn from."""
    exam = candidate.session
    drawn = sitting_pool(session, exam, "无法为该考生组卷")
    avoid: dict[int, int] = {}
    for other in candidate.room.candidates:
        near = abs(other.seat_row - candidate.seat_row) + abs(other.seat_col - candidate.seat_col) == 1
        if near and other.attempt is not None and other.attempt.paper:
            for item_id in paper_item_ids(other.attempt.paper):
                avoid[item_id] = avoid.get(item_id, 0) + 1
    label = seat_label(candidate.room_id, candidate.seat_no)
    paper = assemble(drawn.blueprint, drawn.candidates, seat_seed(exam.seed, label), avoid)
    paper["bank_version"] = drawn.version
    paper["seat"] = label
    return paper


# ---- replacing a paper during the sitting ----
def replace_paper(session, attempt: Attempt, actor: str, reason: str, now: datetime) -> Replacement:
    """Give the candidate the next good backup paper (drawing a further one if none is left). Answers to
    items the new paper has too are kept; the others leave the answers (the answer log keeps them)."""
    if attempt.status == "submitted":
        raise ExamError("submitted", "该考生已交卷，不能更换试卷。")
    old = attempt.paper
    if not old:
        raise ExamError("no_paper", "该考生尚未领取试卷。")
    exam = attempt.candidate.session
    backup, paper = _next_backup(session, exam, now)
    backup.attempt_id = attempt.id
    backup.assigned_at = now
    session.add(
        PreparedPaper(
            session_id=exam.id,
            kind=REPLACED,
            label=f"a{attempt.id}p{attempt.paper_no}",
            room_id=attempt.candidate.room_id,
            seat_no=attempt.candidate.seat_no,
            sealed=_seal(exam, REPLACED, f"a{attempt.id}p{attempt.paper_no}", old),
            attempt_id=attempt.id,
            assigned_at=attempt.paper_replaced_at or attempt.confirmed_at,
            void_reason=reason,
            created_at=now,
        )
    )
    seal_paper(attempt, paper)
    attempt.paper_no += 1
    attempt.paper_replaced_at = now
    keep = set(paper_item_ids(paper))
    dropped = [a for a in attempt.answers if a.item_id not in keep]
    for answer in dropped:
        session.delete(answer)
    attempt.flags = [f for f in attempt.flags if f in keep]
    kept = len(attempt.answers) - len(dropped)
    session.flush()
    session.expire(attempt, ["answers"])
    audit.record(
        session,
        now,
        actor,
        "paper.replace",
        f"attempt:{attempt.id}",
        backup=backup.label,
        paper_no=attempt.paper_no,
        reason=reason,
        kept=kept,
        dropped=len(dropped),
    )
    feed.about(session, attempt.candidate, "paper", f"{reason}，已更换为备用卷 {backup.label}", now)
    return Replacement(attempt, backup.label, kept, len(dropped))


def _next_backup(session, exam: ExamSession, now: datetime) -> tuple[PreparedPaper, dict]:
    """The first backup paper not handed out and still good (bad ones are made void on the way)."""
    rows = session.scalars(
        select(PreparedPaper)
        .where(
            PreparedPaper.session_id == exam.id,
            PreparedPaper.kind == BACKUP,
            PreparedPaper.attempt_id.is_(None),
            PreparedPaper.void_reason.is_(None),
        )
        .order_by(PreparedPaper.label)
    )
    for row in rows:
        paper = open_prepared(exam, row)
        if not unusable_items(session, item_ids(paper)):
            return row, paper
        row.void_reason = LEAKED_REASON
    # Every backup is used or void: draw the next one the same way.
    count = session.scalar(
        select(func.count(PreparedPaper.id)).where(PreparedPaper.session_id == exam.id, PreparedPaper.kind == BACKUP)
    )
    row = _add_backup(session, exam, sitting_pool(session, exam), count + 1, {}, now)
    return row, open_prepared(exam, row)


def replace_leaked(session, now: datetime) -> list[Replacement]:
    """Every candidate still taking the exam whose paper holds a leaked item gets a backup paper, and prepared
    papers holding one are made void. Run by the sweeper whenever the number of leaked items grows."""
    leaked = set(session.scalars(select(Item.id).where(Item.leaked.is_(True))))
    if not leaked:
        return []
    for row in session.scalars(
        select(PreparedPaper).where(
            PreparedPaper.kind != REPLACED, PreparedPaper.attempt_id.is_(None), PreparedPaper.void_reason.is_(None)
        )
    ):
        exam = session.get(ExamSession, row.session_id)
        if item_ids(open_prepared(exam, row)) & leaked:
            row.void_reason = LEAKED_REASON
    replaced = []
    for attempt in session.scalars(select(Attempt).where(Attempt.status == "confirmed")):
        found = set(paper_item_ids(attempt.paper)) & leaked
        if not found:
            continue
        codes = "、".join(sorted(session.scalars(select(Item.code).where(Item.id.in_(found)))))
        try:  # refused before it changes anything but voiding bad backups, so the others' replacements stand
            replaced.append(replace_paper(session, attempt, "system", f"试卷含泄密试题 {codes}", now))
        except ExamError as exc:
            audit.record(session, now, "system", "paper.replace_failed", f"attempt:{attempt.id}", reason=exc.message)
            feed.about(
                session,
                attempt.candidate,
                "paper",
                f"试卷含泄密试题 {codes}，但没有可用的备用卷（{exc.message}）。请报告主考和考务管理员处理",
                now,
            )
    return replaced
