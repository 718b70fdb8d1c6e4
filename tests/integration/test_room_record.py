"""The printable room record (考场情况记录表): the sitting's facts, absentees, incidents, violations and time
changes, as an HTML print view and a PDF whose text is checked and whose first page is looked at."""

from io import BytesIO

import pypdfium2
from pdfminer.high_level import extract_text

from server.proctor import record
from tests.helpers import ProctorActions, make_account, make_room
from tests.integration.test_proctor_actions import started


def busy_sitting(proctor, candidate, make_candidate, app, clock) -> int:
    """A sitting with one of everything the record must show; returns the room id."""
    candidate_id = started(candidate, proctor)
    room_id = proctor.room_id()
    clock.advance(minutes=5)
    assert proctor.emit("pause_room", {"room_id": room_id, "reason": "停电"})["ok"]
    clock.advance(minutes=8)
    assert proctor.emit("resume_room", {"room_id": room_id})["ok"]
    assert proctor.emit("extend", {"room_id": room_id, "minutes": 8, "reason": "停电 8 分钟补时"})["ok"]
    assert proctor.emit("warn", {"candidate_id": candidate_id, "what": "与邻座交谈 <b>"})["ok"]
    incident = {"room_id": room_id, "what": "全场停电 8 分钟", "decision": "恢复供电后全场补时 8 分钟"}
    assert proctor.emit("record_incident", incident)["ok"]
    clock.advance(minutes=20)
    absent_id = proctor.seat(app.site.tickets[2])["candidate_id"]
    assert proctor.emit("mark_absent", {"candidate_id": absent_id})["ok"]
    return room_id


def test_the_print_view_shows_the_whole_sitting_and_two_signature_lines(proctor, candidate, make_candidate, app, clock):
    room_id = busy_sitting(proctor, candidate, make_candidate, app, clock)
    page = proctor.http.get(f"/proctor/rooms/{room_id}/record")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for expected in [
        "考场情况记录表",
        "考试进行中（本表为中途打印，结束后请重新打印）",
        "第01考场",
        "09:00:00",  # the start, in the site's time (Asia/Shanghai)
        "应考 <b>30</b> 人",
        "实考 <b>1</b> 人",
        "缺考 <b>29</b> 人",
        app.site.tickets[2],
        "09:33:00 由王建国记为缺考",
        "全场停电 8 分钟",
        "恢复供电后全场补时 8 分钟",
        "与邻座交谈 &lt;b&gt;",  # what a proctor typed is shown, never interpreted
        "全场暂停计时：停电（王建国）",
        "全场延长 8 分钟：停电 8 分钟补时（王建国）",
        "监考员（一）签名",
        "监考员（二）签名",
    ]:
        assert expected in html, expected
    assert "<b>" not in html.split("与邻座交谈")[1][:20]


def test_the_pdf_holds_the_same_record_and_looks_like_a_form(proctor, candidate, make_candidate, app, clock, artifacts):
    room_id = busy_sitting(proctor, candidate, make_candidate, app, clock)
    response = proctor.http.get(f"/proctor/rooms/{room_id}/record.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    text = extract_text(BytesIO(body)).replace(" ", "")
    for expected in [
        "考场情况记录表",
        "第01考场",
        "一、缺考考生",
        app.site.tickets[2],
        "全场停电8分钟",
        "与邻座交谈<b>",
        "警告",
        "全场延长8分钟",
        "监考员（一）签名",
        "监考员（二）签名",
    ]:
        assert expected in text, expected
    pdf = pypdfium2.PdfDocument(body)
    first = pdf[0].render(scale=1.5).to_pil()
    first.save(artifacts / "proctor-7-room-record-pdf.png")
    inked = sum(first.convert("L").histogram()[:128])  # dark pixels
    assert inked > 5000  # text and ruled tables, not an empty page or a page of boxes
    assert len(pdf) >= 2  # 29 absentees do not fit on one page: the tables continue with their header


def test_without_an_installed_font_the_pdf_uses_the_viewers_song_typeface(
    proctor, candidate, make_candidate, app, clock
):
    room_id = busy_sitting(proctor, candidate, make_candidate, app, clock)
    with app.app_context():
        from server.exam.models import Room
        from server.extensions import db
        from server.timeutil import now

        body = record.pdf(record.build(db.session, db.session.get(Room, room_id), now()), fonts=())
    assert b"STSong-Light" in body
    assert "全场停电8分钟" in extract_text(BytesIO(body)).replace(" ", "")


def test_only_the_rooms_staff_may_read_the_record_and_a_refusal_is_a_page_not_a_trace(proctor, app):
    room_id = proctor.room_id()
    anonymous = app.test_client().get(f"/proctor/rooms/{room_id}/record")
    assert anonymous.status_code == 403
    assert "请先以监考员、主考或督导员身份登录监考台。" in anonymous.get_data(as_text=True)
    assert app.test_client().get(f"/proctor/rooms/{room_id}/record.pdf").status_code == 403
    make_room(app, "第二考场", "proctor9", "proctor9-password", ["2026990001"])
    other = ProctorActions(app, "proctor9", "proctor9-password")
    refused = other.http.get(f"/proctor/rooms/{room_id}/record.pdf")
    assert refused.status_code == 403 and "您没有管理该考场的权限。" in refused.get_data(as_text=True)
    make_account(app, "dudao", "supervisor", "supervisor-password")
    supervisor = ProctorActions(app, "dudao", "supervisor-password")
    assert supervisor.http.get(f"/proctor/rooms/{room_id}/record").status_code == 200
    assert proctor.http.get("/proctor/rooms/999/record").status_code == 403
