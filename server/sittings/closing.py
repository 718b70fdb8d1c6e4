"""Closing a sitting (issue 8): each room closed when its time is over (封场), the results (成绩汇总表) and
their publication (成绩公布).

- A room closes once every exam in it is over (each candidate's own clock, extensions included) or, for a
  room never started, once the sitting's whole time has passed. Closing submits what the clock already
  ended (as the sweeper would have, had the server been up), records everyone who never sat as absent,
  and keeps the room record as it stands at that moment: the one the proctors sign.
- Results list every seated candidate with a status: 已交卷 with score and 合格/不合格, 缺考, 成绩无效 (with
  the violation register's reason), 另行安排考试, or 考试未结束 while their room is open.
- Publication is one recorded step (who, when), allowed once every room is closed. Before it no candidate
  and no proctor can see a score (SPEC.md "Scores"); a sitting whose policy shows the score at submission
  has, by that policy, published each score as it is made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from item_bank import PASS_MARK
from server import audit
from server.errors import ExamError
from server.exam import feed
from server.exam.models import Candidate, ExamSession, Room, RoomClosing, Violation
from server.exam.service import attempt_clock, room_clock, submit
from server.proctor import record
from server.timeutil import iso, local

PASSED, FAILED = "合格", "不合格"


@dataclass(frozen=True)
class Closed:
    room: str
    closed: bool
    why: str  # what was done, or why the room is not closed yet


def seated(session, exam: ExamSession) -> list[Candidate]:
    """Every seated candidate of the sitting, room by room, seat by seat (the order of every list printed)."""
    query = (
        select(Candidate)
        .join(Room, Candidate.room_id == Room.id)
        .where(Candidate.session_id == exam.id)
        .order_by(Room.number, Room.id, Candidate.seat_no)
    )
    return list(session.scalars(query))


def closing_of(session, room: Room) -> RoomClosing | None:
    return session.get(RoomClosing, room.id)


def _still_open(session, room: Room, now: datetime) -> str | None:
    """Why the room cannot close yet, or None."""
    exam = room.session
    clock = room_clock(session, room, now)
    if clock.started_at is None:
        end = exam.scheduled_start + timedelta(seconds=exam.duration_s)
        if now < end:
            return f"尚未开考，且本场考试时间（至 {local(end):%H:%M}）未过"
        return None
    answering = [
        c.name
        for c in room.candidates
        if c.attempt is not None and c.attempt.status == "confirmed" and not attempt_clock(session, c.attempt, now).over
    ]
    if answering:
        return f"尚有 {len(answering)} 名考生在考试中（{'、'.join(answering[:3])}{'等' if len(answering) > 3 else ''}）"
    entry_ends = clock.started_at + timedelta(seconds=exam.late_entry_s)
    waiting = [
        c
        for c in room.candidates
        if c.absent_at is None and (c.attempt is None or c.attempt.status == "awaiting_confirmation")
    ]
    if not clock.over and now < entry_ends and waiting:
        return f"开考 {exam.late_entry_s // 60} 分钟内迟到的考生仍可入场，{local(entry_ends):%H:%M} 后才能封场"
    return None


def close_room(session, room: Room, actor: str, actor_id: int | None, now: datetime) -> Closed:
    """Close one room whose time is over (see the module); refused, saying why, while anyone is still in it."""
    if closing_of(session, room) is not None:
        return Closed(room.name, True, "已封场")
    why = _still_open(session, room, now)
    if why:
        return Closed(room.name, False, why)
    ended = absent = 0
    for candidate in room.candidates:
        attempt = candidate.attempt
        if attempt is not None and attempt.status == "confirmed":
            submit(session, attempt, now, reason="time_up")
            ended += 1
        elif (attempt is None or attempt.status == "awaiting_confirmation") and candidate.absent_at is None:
            candidate.absent_at = now
            candidate.absent_by = actor_id
            feed.about(session, candidate, "absent", "封场时记为缺考（未参加考试）", now)
            absent += 1
    session.flush()
    kept = record.build(session, room, now)
    session.add(RoomClosing(room_id=room.id, closed_at=now, closed_by=actor, record=kept))
    audit.record(session, now, actor, "room.close", f"room:{room.id}", ended=ended, absent=absent)
    return Closed(room.name, True, f"已封场：收卷 {ended} 人，记缺考 {absent} 人")


def close_sitting(session, exam: ExamSession, actor: str, actor_id: int | None, now: datetime) -> list[Closed]:
    """Close every room of the sitting that may close; the others say why not."""
    if not exam.rooms:
        raise ExamError("no_rooms", "本场次没有考场。")
    return [close_room(session, room, actor, actor_id, now) for room in exam.rooms]


@dataclass(frozen=True)
class Result:
    ticket: str
    name: str
    id_number: str
    room: str
    seat_no: int
    score: float | None  # None when there is none to count (absent, void, rescheduled, not over)
    verdict: str  # 合格 / 不合格 / ""
    status: str
    reason: str


def _reasons(session, candidate_ids: list[int]) -> dict[int, str]:
    """Why a score is void: the violation register's lines for the candidate."""
    reasons: dict[int, list[str]] = {}
    rows = session.scalars(
        select(Violation)
        .where(Violation.candidate_id.in_(candidate_ids), Violation.kind.in_(("removal", "void_score")))
        .order_by(Violation.at)
    )
    for v in rows:
        reasons.setdefault(v.candidate_id, []).append(f"{v.what}（{v.decision}）")
    return {k: "；".join(v) for k, v in reasons.items()}


def results(session, exam: ExamSession, candidates: list[Candidate] | None = None) -> list[Result]:
    """The 成绩汇总表: every seated candidate (or those given), room by room, seat by seat."""
    candidates = seated(session, exam) if candidates is None else candidates
    void = _reasons(session, [c.id for c in candidates])
    out = []
    for c in candidates:
        attempt = c.attempt
        score, verdict, reason = None, "", ""
        if attempt is None or attempt.status == "awaiting_confirmation":
            status = "缺考" if c.absent_at is not None or attempt is None else "未参加考试"
            reason = "未入场" if attempt is None else "登录后未经核验入场"
            if c.absent_at is None and closing_of(session, c.room) is None:
                status, reason = "考试未结束", "考场尚未封场"
        elif attempt.status != "submitted":
            status, reason = "考试未结束", "考场尚未封场"
        elif attempt.score_void:
            status, reason = "成绩无效", void.get(c.id, "违纪")
        elif attempt.submit_reason == "rescheduled":
            status, reason = "另行安排考试", "考试中止，本场不评分"
        else:
            status, score = "已交卷", attempt.score
            verdict = PASSED if score is not None and score >= PASS_MARK else FAILED
        out.append(Result(c.ticket, c.name, c.id_number, c.room.name, c.seat_no, score, verdict, status, reason))
    return out


HEADER = ["准考证号", "姓名", "证件号码", "考场", "座号", "成绩", "是否合格", "状态", "说明"]


def _row(r: Result) -> list:
    return [r.ticket, r.name, r.id_number, r.room, r.seat_no, "" if r.score is None else r.score, r.verdict, r.status,
            r.reason]  # fmt: skip


def publication_line(exam: ExamSession) -> str:
    if exam.published_at is None:
        return "成绩尚未公布（公布前不得向考生或监考员泄露）"
    return f"成绩已于 {local(exam.published_at):%Y-%m-%d %H:%M} 公布（{exam.published_by}）"


def results_csv(exam: ExamSession, rows: list[Result]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel on a Chinese Windows opens it right."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(_row(r) for r in rows)
    return out.getvalue().encode("utf-8-sig")


def results_xlsx(exam: ExamSession, rows: list[Result], printed: datetime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "成绩汇总表"
    sheet.append([f"{exam.name} 成绩汇总表"])
    sheet.append([f"{exam.occupation_name} {exam.level_name} {exam.subject}　满分 100 分，{PASS_MARK} 分合格"])
    sheet.append([publication_line(exam) + f"；导出时间 {local(printed):%Y-%m-%d %H:%M}"])
    sheet.append(HEADER)
    for r in rows:
        sheet.append(_row(r))
    sheet["A1"].font = Font(size=14, bold=True)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=5):
        for cell in (row[0], row[2]):  # ticket and ID numbers stay text, never 2.0E+17
            cell.number_format = "@"
    for column, width in zip("ABCDEFGHI", (16, 10, 21, 12, 6, 8, 9, 13, 40), strict=True):
        sheet.column_dimensions[column].width = width
        sheet[f"{column}4"].alignment = Alignment(horizontal="center")
    sheet.freeze_panes = "A5"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def publish(session, exam: ExamSession, actor: str, who: str, now: datetime) -> None:
    """Publish the sitting's results: once every room is closed; recorded with who (``who``: as people read
    it, ``actor``: for the ledger) and when."""
    if exam.published_at is not None:
        raise ExamError("already_published", f"{publication_line(exam)}。")
    if not exam.rooms:
        raise ExamError("no_rooms", "本场次没有考场，没有成绩可公布。")
    open_rooms = [room.name for room in exam.rooms if closing_of(session, room) is None]
    if open_rooms:
        raise ExamError("rooms_open", f"尚有考场未封场（{'、'.join(open_rooms)}），不能公布成绩。")
    exam.published_at, exam.published_by = now, who[:64]
    audit.record(session, now, actor, "results.publish", f"session:{exam.id}")


def as_json(rows: list[Result]) -> list[dict]:
    return [asdict(r) for r in rows]


def summary(session, exam: ExamSession, now: datetime) -> dict:
    """The closing screen's view: each room's state, the counts, and the publication."""
    rows = results(session, exam)
    rooms = []
    for room in exam.rooms:
        closing = closing_of(session, room)
        rooms.append(
            {
                "id": room.id,
                "name": room.name,
                "closed_at": iso(closing.closed_at) if closing else None,
                "why_open": None if closing else _still_open(session, room, now),
            }
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "rooms": rooms,
        "counts": counts,
        "passed": sum(1 for r in rows if r.verdict == PASSED),
        "published_at": iso(exam.published_at),
        "published_by": exam.published_by,
        "publication": publication_line(exam),
    }
