"""The room record (考场情况记录表) the two proctors sign at the end of a sitting: the sitting's facts, the
absentees, the incidents, the violation register and the time changes, printable as HTML and as a PDF.

Everything here reads what is already stored (feed, registers, clocks); nothing is written. Times are the
site's local time, as the proctors' watches show it.
"""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import select

from server.auth.models import Account
from server.exam import service as exam
from server.exam.models import Candidate, Incident, Room, RoomEvent, RoomProctor, Violation
from server.exam.service import staff_name
from server.pdf import cjk_font
from server.timeutil import local

TITLE = "考场情况记录表"
# Feed lines that belong in the record's "考试过程" section: what changed the room's time or papers.
PROCESS_KINDS = ("start", "pause", "resume", "extend", "end", "force_submit", "move", "paper", "reject", "announce")
SUBMIT_REASONS = {"candidate": "考生交卷", "time_up": "时间到自动交卷", "proctor": "监考员收卷", "removed": "移出考场"}


def _time(dt: datetime | None) -> str:
    return local(dt).strftime("%H:%M:%S") if dt else ""


def _seat(candidate: Candidate | None) -> str:
    return f"{candidate.seat_no:02d}" if candidate else ""


def build(session, room: Room, now: datetime) -> dict:
    """Everything the printed record shows, as plain strings."""
    sitting = room.session
    clock = exam.room_clock(session, room, now)
    candidates = list(room.candidates)
    attempts = [c.attempt for c in candidates if c.attempt is not None]
    submitted = [a for a in attempts if a.status == "submitted"]
    absent = [c for c in candidates if c.attempt is None]
    proctors = session.scalars(
        select(Account)
        .join(RoomProctor, RoomProctor.account_id == Account.id)
        .where(RoomProctor.room_id == room.id)
        .order_by(Account.id)
    ).all()
    if clock.started_at is None:
        status = "尚未开考"
    elif clock.over and len(submitted) == len(attempts):
        status = "考试已结束"
    else:
        status = "考试进行中（本表为中途打印，结束后请重新打印）"
    by_id = {c.id: c for c in candidates}

    violations = session.scalars(select(Violation).where(Violation.room_id == room.id).order_by(Violation.at)).all()
    incidents = session.scalars(select(Incident).where(Incident.room_id == room.id).order_by(Incident.at)).all()
    process = session.scalars(
        select(RoomEvent).where(RoomEvent.room_id == room.id, RoomEvent.kind.in_(PROCESS_KINDS)).order_by(RoomEvent.id)
    ).all()
    return {
        "title": TITLE,
        "status": status,
        "printed_at": local(now).strftime("%Y-%m-%d %H:%M"),
        "facts": [
            ("考试场次", sitting.name),
            ("职业（工种）", sitting.occupation_name),
            ("等级", sitting.level_name),
            ("科目", sitting.subject),
            ("考场", room.name),
            ("考试日期", local(sitting.scheduled_start).strftime("%Y-%m-%d")),
            ("计划开考", _time(sitting.scheduled_start)),
            ("考试时长", f"{sitting.duration_s // 60} 分钟"),
            ("实际开考", _time(clock.started_at) or "—"),
            ("结束时间", _time(clock.deadline) or "—"),
            ("监考人员", "、".join(p.display_name for p in proctors) or "—"),
        ],
        "counts": [
            ("应考", len(candidates)),
            ("实考", len(attempts)),
            ("缺考", len(absent)),
            ("已交卷", len(submitted)),
            ("违纪登记", len({v.candidate_id for v in violations})),
            ("成绩无效", sum(1 for a in attempts if a.score_void)),
        ],
        "absentees": [
            {
                "seat": _seat(c),
                "ticket": c.ticket,
                "name": c.name,
                "note": f"{_time(c.absent_at)} 由{staff_name(session, c.absent_by)}记为缺考" if c.absent_at else "未到",
            }
            for c in absent
        ],
        "incidents": [
            {
                "time": _time(i.at),
                "seat": _seat(by_id.get(i.candidate_id)),
                "what": i.what,
                "decision": i.decision,
                "by": staff_name(session, i.actor_id),
            }
            for i in incidents
        ],
        "violations": [
            {
                "time": _time(v.at),
                "seat": _seat(by_id[v.candidate_id]),
                "ticket": by_id[v.candidate_id].ticket,
                "name": by_id[v.candidate_id].name,
                "what": v.what,
                "decision": v.decision,
                "by": staff_name(session, v.actor_id),
            }
            for v in violations
        ],
        "process": [{"time": _time(e.at), "text": e.text} for e in process],
        "signatures": ("监考员（一）签名", "监考员（二）签名"),
    }


# --- PDF ------------------------------------------------------------------------------------------------


def pdf(record: dict, fonts: tuple[str, ...] | None = None) -> bytes:
    """The record as an A4 PDF, ready to print and sign. ``fonts``: TrueType files to try (default:
    :func:`server.pdf.font_candidates`)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = cjk_font(fonts)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=1)
    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ]
    )

    def cell(text) -> Paragraph:
        escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, body)

    def table(header: list[str], rows: list[list], widths: list[float], empty: str):
        if not rows:
            return Paragraph(empty, body)
        data = [[cell(h) for h in header]] + [[cell(v) for v in row] for row in rows]
        return Table(data, colWidths=[w * mm for w in widths], style=grid, repeatRows=1)

    facts = [[cell(k), cell(v)] for k, v in record["facts"]]
    counts = "　".join(f"{k} {v} 人" for k, v in record["counts"])
    story = [
        Paragraph(record["title"], title),
        Paragraph(record["status"], ParagraphStyle("status", parent=body, alignment=1)),
        Spacer(0, 4 * mm),
        Table(
            facts,
            colWidths=[32 * mm, 138 * mm],
            style=TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]),
        ),
        Spacer(0, 2 * mm),
        Paragraph(counts, body),
        Paragraph("一、缺考考生", head),
        table(
            ["座号", "准考证号", "姓名", "说明"],
            [[a["seat"], a["ticket"], a["name"], a["note"]] for a in record["absentees"]],
            [14, 40, 30, 86],
            "无。",
        ),
        Paragraph("二、考场情况", head),
        table(
            ["时间", "座号", "情况", "处理结果", "记录人"],
            [[i["time"], i["seat"], i["what"], i["decision"], i["by"]] for i in record["incidents"]],
            [18, 12, 66, 52, 22],
            "无。",
        ),
        Paragraph("三、违纪违规考生登记", head),
        table(
            ["时间", "座号", "准考证号", "姓名", "违纪情况", "处理决定", "记录人"],
            [
                [v["time"], v["seat"], v["ticket"], v["name"], v["what"], v["decision"], v["by"]]
                for v in record["violations"]
            ],
            [16, 11, 28, 16, 45, 36, 18],
            "无。",
        ),
        Paragraph("四、考试过程（开考、暂停、延时、换机、换卷、收卷、通知）", head),
        table(["时间", "记录"], [[p["time"], p["text"]] for p in record["process"]], [18, 152], "无。"),
        Spacer(0, 12 * mm),
        Table(
            [[cell(f"{s}：________________"), cell("")] for s in record["signatures"]]
            + [[cell("日期：______年____月____日"), cell(f"打印时间：{record['printed_at']}")]],
            colWidths=[95 * mm, 75 * mm],
            style=TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("BOTTOMPADDING", (0, 0), (-1, -1), 10)]),
        ),
    ]
    out = io.BytesIO()

    def page_number(canvas, doc):
        canvas.setFont(font, 9)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{record['title']}　第 {doc.page} 页")

    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=record["title"],
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    ).build(story, onFirstPage=page_number, onLaterPages=page_number)
    return out.getvalue()
