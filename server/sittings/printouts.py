"""What the test centre prints for a sitting: admission tickets (准考证, two to an A4 page, with the
candidate instructions and a QR code of the ticket number), the room door lists (门贴) and the seat labels
(桌贴). Everything is read from what is stored; nothing is written.

The QR code is drawn with reportlab's own widget; it holds the ticket number alone, so any scanner at the
door shows it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from xml.sax.saxutils import escape

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle
from sqlalchemy import select

from server.exam.models import Candidate, ExamSession, Room
from server.exam.service import minutes_text
from server.extensions import db
from server.pdf import cjk_font
from server.sittings.models import Registrant
from server.timeutil import local

WIDTH, HEIGHT = A4
MARGIN = 15 * mm


def instructions(exam: ExamSession) -> list[str]:
    """考生须知, from the paperless exam room rules (000 无纸化考试考场规则) with this sitting's own times."""
    return [
        f"凭本准考证和有效身份证件于开考前 {minutes_text(exam.entry_before_s)}进入考场，对号入座，"
        "将准考证、身份证件放在考试机前以备查对。",
        f"开考 {minutes_text(exam.late_entry_s)}后不得入场；开考 {minutes_text(exam.submit_after_s)}后方可交卷离场。",
        "严禁携带手机等电子产品及资料进入座位，须关机后存放在指定位置，否则按违纪处理。",
        "登录后核对屏幕上显示的姓名，与本人不符的立即告知监考员。",
        "圆形选择框为单选题，方形选择框为多选题。请留意屏幕上的剩余考试时间。",
        "完成全部试题后方可点击“结束考试”，确认交卷后不能再次进入考试。",
        "考试中如遇异常，请举手告知监考员，安静坐在座位上等候，耽误的时间按规定补足。",
    ]


def exam_time(exam: ExamSession) -> str:
    start = local(exam.scheduled_start)
    end = local(exam.scheduled_start + timedelta(seconds=exam.duration_s))
    return f"{start:%Y年%m月%d日} {start:%H:%M}—{end:%H:%M}"


@dataclass(frozen=True)
class Sitting:
    """The sitting as printed (plain text, so that drawing needs no database and may run on a worker thread)."""

    name: str
    occupation: str
    level: str
    subject: str
    time: str
    site: str
    instructions: list[str]


@dataclass(frozen=True)
class Person:
    name: str
    ticket: str
    id_type: str
    id_number: str
    seat_no: int
    room: str
    location: str
    candidate_id: int


@dataclass(frozen=True)
class DoorList:
    room: str
    location: str
    people: list[Person]


def sitting(exam: ExamSession) -> Sitting:
    return Sitting(
        exam.name, exam.occupation_name, exam.level_name, exam.subject, exam_time(exam), exam.site,
        instructions(exam),
    )  # fmt: skip


def seated(exam: ExamSession, room: Room | None = None) -> list[Person]:
    """The seated candidates of the sitting (or of one room), room by room, seat by seat."""
    query = (
        select(Candidate, Room, Registrant.id_type)
        .join(Room, Candidate.room_id == Room.id)
        .outerjoin(Registrant, Candidate.registrant_id == Registrant.id)
        .where(Candidate.session_id == exam.id)
    )
    if room is not None:
        query = query.where(Candidate.room_id == room.id)
    rows = db.session.execute(query.order_by(Room.number, Room.id, Candidate.seat_no))
    return [
        Person(c.name, c.ticket, id_type or "居民身份证", c.id_number, c.seat_no, r.name, r.location, c.id)
        for c, r, id_type in rows
    ]


def door_lists(exam: ExamSession, rooms: list[Room]) -> list[DoorList]:
    return [DoorList(room.name, room.location, seated(exam, room)) for room in rooms]


def _text(value) -> str:
    """Text typed by people (names, places), safe inside reportlab's paragraph markup."""
    return escape(str(value))


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=12),
        "title": ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1),
        "big": ParagraphStyle("big", parent=body, fontSize=28, leading=34, alignment=1),
    }


def _qr(text: str, size: float) -> Drawing:
    widget = QrCodeWidget(text, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _ticket(canvas: Canvas, exam: Sitting, candidate: Person, top: float, styles: dict, font: str) -> None:
    """One admission ticket in the half page below ``top``."""
    width = WIDTH - 2 * MARGIN
    title = Paragraph("职业技能等级认定　理论知识考试<br/>准　考　证", styles["title"])
    title.wrapOn(canvas, width - 40 * mm, 60 * mm)
    title.drawOn(canvas, MARGIN, top - 16 * mm)
    qr_size = 28 * mm
    renderPDF.draw(_qr(candidate.ticket, qr_size), canvas, WIDTH - MARGIN - qr_size, top - qr_size - 2 * mm)
    canvas.setFont(font, 7)
    canvas.drawCentredString(WIDTH - MARGIN - qr_size / 2, top - qr_size - 5 * mm, candidate.ticket)
    where = f"{candidate.room}（{candidate.location}）" if candidate.location else candidate.room
    rows = [
        ("姓　　名", candidate.name, "准考证号", candidate.ticket),
        ("证件类型", candidate.id_type, "证件号码", candidate.id_number),
        ("职业（工种）", exam.occupation, "等　　级", exam.level),
        ("考试科目", exam.subject, "考试时间", exam.time),
        ("考　　点", exam.site or "—", "考　　场", where),
        ("座　　号", f"{candidate.seat_no}", "场　　次", exam.name),
    ]
    cell = styles["body"]
    data = [[Paragraph(_text(v), cell) for v in row] for row in rows]
    table = Table(data, colWidths=[24 * mm, 50 * mm, 22 * mm, width - 96 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    _, table_height = table.wrapOn(canvas, width, 100 * mm)
    table_top = top - 36 * mm
    table.drawOn(canvas, MARGIN, table_top - table_height)
    notes = "<br/>".join(f"{n}. {_text(text)}" for n, text in enumerate(exam.instructions, start=1))
    block = Paragraph(f"<b>考生须知</b><br/>{notes}", styles["small"])
    _, block_height = block.wrapOn(canvas, width, 80 * mm)
    block.drawOn(canvas, MARGIN, table_top - table_height - 4 * mm - block_height)


def tickets_pdf(exam: Sitting, candidates: list[Person], fonts: tuple[str, ...] | None = None) -> bytes:
    """The admission tickets, two to an A4 page with a cutting line between them."""
    font = cjk_font(fonts)
    styles = _styles(font)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"准考证 · {exam.name}")
    if not candidates:
        _nothing(canvas, font, "本场次尚无已编排座位的考生。")
    for number, candidate in enumerate(candidates):
        half = number % 2
        if number and not half:
            canvas.showPage()
        _ticket(canvas, exam, candidate, HEIGHT - MARGIN - half * HEIGHT / 2, styles, font)
        if not half:
            canvas.setDash(4, 3)
            canvas.setStrokeColor(colors.grey)
            canvas.line(MARGIN / 2, HEIGHT / 2, WIDTH - MARGIN / 2, HEIGHT / 2)
            canvas.setDash()
            canvas.setStrokeColor(colors.black)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _nothing(canvas: Canvas, font: str, text: str) -> None:
    canvas.setFont(font, 14)
    canvas.drawCentredString(WIDTH / 2, HEIGHT / 2, text)


def door_lists_pdf(exam: Sitting, rooms: list[DoorList], fonts: tuple[str, ...] | None = None) -> bytes:
    """A page a room, for its door (门贴): the room, the sitting, the time, and who sits where (a long list
    goes on over the next page, with its header)."""
    from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

    font = cjk_font(fonts)
    styles = _styles(font)
    story = []
    for room in rooms:
        people = [[c.seat_no, c.ticket, c.name] for c in room.people]
        half = (len(people) + 1) // 2
        rows = [["座号", "准考证号", "姓名", "座号", "准考证号", "姓名"]]
        for left, right in zip(people[:half], people[half:] + [["", "", ""]], strict=False):
            rows.append([*left, *right])
        table = Table(rows, colWidths=[14 * mm, 40 * mm, 36 * mm] * 2, rowHeights=8 * mm, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 11),
                    ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [
            Paragraph(_text(room.room), styles["big"]),
            Paragraph(_text(room.location), styles["title"]),
            Paragraph(f"{_text(exam.name)}<br/>{_text(exam.occupation)} {exam.level} {exam.subject}", styles["title"]),
            Paragraph(f"考试时间：{exam.time}　　考点：{_text(exam.site or '—')}", styles["body"]),
            Spacer(0, 4 * mm),
            table,
            Spacer(0, 3 * mm),
            Paragraph(f"共 {len(people)} 人", styles["body"]),
            PageBreak(),
        ]
    if not story:
        story = [Spacer(0, HEIGHT / 3), Paragraph("本场次尚未设置考场。", styles["title"])]
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, title=f"门贴 · {exam.name}", leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN,
    ).build(story[:-1] if rooms else story)  # fmt: skip
    return out.getvalue()


LABEL_COLS, LABEL_ROWS = 2, 5


def seat_labels_pdf(exam: Sitting, candidates: list[Person], fonts: tuple[str, ...] | None = None) -> bytes:
    """Seat labels (桌贴), ten to an A4 page: the seat number large, the room, the name and the ticket."""
    font = cjk_font(fonts)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle(f"桌贴 · {exam.name}")
    width = (WIDTH - 2 * MARGIN) / LABEL_COLS
    height = (HEIGHT - 2 * MARGIN) / LABEL_ROWS
    per_page = LABEL_COLS * LABEL_ROWS
    if not candidates:
        _nothing(canvas, font, "本场次尚无已编排座位的考生。")
    for number, candidate in enumerate(candidates):
        if number and not number % per_page:
            canvas.showPage()
        spot = number % per_page
        x = MARGIN + (spot % LABEL_COLS) * width
        y = HEIGHT - MARGIN - (spot // LABEL_COLS + 1) * height
        canvas.setDash(4, 3)
        canvas.rect(x + 2 * mm, y + 2 * mm, width - 4 * mm, height - 4 * mm)
        canvas.setDash()
        middle = x + width / 2
        canvas.setFont(font, 11)
        canvas.drawCentredString(middle, y + height - 10 * mm, candidate.room)
        canvas.setFont(font, 36)
        canvas.drawCentredString(middle, y + height - 25 * mm, f"{candidate.seat_no:02d}")
        canvas.setFont(font, 14)
        canvas.drawCentredString(middle, y + 13 * mm, candidate.name)
        canvas.setFont(font, 11)
        canvas.drawCentredString(middle, y + 7 * mm, f"准考证号 {candidate.ticket}")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def results_pdf(exam: Sitting, rows: list, publication: str, fonts: tuple[str, ...] | None = None) -> bytes:
    """The 成绩汇总表 as an A4 PDF (``rows``: :class:`server.sittings.closing.Result`)."""
    from reportlab.platypus import SimpleDocTemplate, Spacer

    font = cjk_font(fonts)
    styles = _styles(font)
    cell = styles["small"]
    header = ["准考证号", "姓名", "证件号码", "考场", "座号", "成绩", "是否合格", "状态", "说明"]
    data = [[Paragraph(h, cell) for h in header]] + [
        [
            Paragraph(_text(v), cell)
            for v in (
                r.ticket,
                r.name,
                r.id_number,
                r.room,
                r.seat_no,
                "" if r.score is None else r.score,
                r.verdict,
                r.status,
                r.reason,
            )  # fmt: skip
        ]
        for r in rows
    ]
    widths = [27, 14, 32, 16, 9, 11, 12, 16, 43]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story = [
        Paragraph(f"{_text(exam.name)}<br/>成绩汇总表", styles["title"]),
        Paragraph(
            _text(f"{exam.occupation} {exam.level} {exam.subject}　考试时间：{exam.time}　考点：{exam.site or '—'}"),
            cell,
        ),
        Paragraph(_text(publication), cell),
        Spacer(0, 3 * mm),
        table,
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, title=f"成绩汇总表 · {exam.name}", leftMargin=10 * mm, rightMargin=10 * mm,
        topMargin=12 * mm, bottomMargin=12 * mm,
    ).build(story)  # fmt: skip
    return out.getvalue()
