"""Rooms, proctors and the chief examiner, the room arrangement (考场编排) and the printouts (issue 8), by the
API behind the admin screens; the arranged candidates log in with the tickets they are given."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from io import BytesIO

import pypdfium2
import zxingcpp
from pdfminer.high_level import extract_text

from server.audit import AuditEntry
from server.auth.models import Account
from server.exam.models import Candidate, ExamSession, Room
from server.extensions import db
from tests.helpers import CandidateActions, ProctorActions, Staff, make_account, resident_id, stored
from tests.integration.test_sittings import NEW, jikao, registration_csv

UNITS = ["市排水公司"] * 9 + ["县水务局"] * 8 + ["开发区污水厂"] * 7 + ["城投水务"] * 6 + [""] * 4


def people(units: list[str]) -> list[tuple[str, str, str]]:
    return [(f"考生{n:02d}", resident_id(f"11010519900101{n:03d}"), unit) for n, unit in enumerate(units, 1)]


def account_id(app, username: str) -> int:
    return stored(app, Account, username=username)[0].id


def new_sitting(admin: Staff, units: list[str] = UNITS) -> int:
    sitting = admin.post("/api/admin/sittings", NEW).get_json()["sitting"]
    imported = admin.upload(
        f"/api/admin/sittings/{sitting['id']}/registrations", "名单.csv", registration_csv(people(units))
    )
    assert imported.get_json()["imported"] == len(units), imported.get_json()
    return sitting["id"]


def add_room(admin: Staff, sitting: int, name: str, rows: int = 5, cols: int = 6, proctors=(), **extra):
    return admin.post(
        f"/api/admin/sittings/{sitting}/rooms",
        {"name": name, "rows": rows, "cols": cols, "location": "实训楼三层", "proctors": list(proctors), **extra},
    )


def neighbours_of_one_unit(room: dict) -> list[tuple[str, str]]:
    """Pairs of one work unit on seats that touch (side, front, back or corner), as a proctor would see them."""
    seats = {(p["row"], p["col"]): p for p in room["seated"]}
    pairs = []
    for (row, col), person in seats.items():
        for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
            other = seats.get((row + dr, col + dc))
            if other and person["work_unit"] and other["work_unit"] == person["work_unit"]:
                pairs.append((person["name"], other["name"]))
    return pairs


def test_rooms_get_two_proctors_and_the_sitting_a_chief_and_what_is_missing_is_said(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin)
    for name in ("proctor3", "proctor4"):
        make_account(app, name, "proctor", f"{name}-password")
    p1, p2, p3, p4 = (account_id(app, u) for u in ("proctor1", "proctor2", "proctor3", "proctor4"))
    made = add_room(admin, sitting, "第01考场", proctors=[p1, p2])
    assert made.status_code == 201, made.get_json()
    setup = made.get_json()["setup"]
    [room] = setup["rooms"]
    assert (room["number"], room["rows"], room["cols"], room["location"]) == (1, 5, 6, "实训楼三层")
    assert [(p["name"], p["position"]) for p in room["proctors"]] == [("王建国", "主监考"), ("李秀兰", "副监考")]
    assert setup["warnings"] == ["尚未指定本场次的主考。"]

    refusals = [
        ({"proctors": [p1]}, "王建国已在本场次的第01考场监考。"),
        ({"proctors": [p3, p3]}, "主监考和副监考不能是同一人。"),
        ({"proctors": [account_id(app, "chief")]}, f"账号 {account_id(app, 'chief')} 不是可用的监考员账号。"),
        ({"rows": 0}, "考场座位的排数应为 1 到 20。"),
        ({"name": "第01考场"}, "本场次已有名为“第01考场”的考场。"),
    ]
    for change, message in refusals:
        body = {"name": "第02考场", "rows": 5, "cols": 6, "location": "", "proctors": [p3, p4], **change}
        refused = admin.post(f"/api/admin/sittings/{sitting}/rooms", body)
        assert refused.status_code == 400 and refused.get_json()["error"]["message"] == message, change
    assert len(stored(app, Room, session_id=sitting)) == 1

    second = add_room(admin, sitting, "第02考场", rows=6, cols=7, proctors=[p3]).get_json()["setup"]
    assert second["rooms"][1]["number"] == 2
    assert "第02考场只安排了 1 名监考员，应为两名（主监考、副监考）。" in second["warnings"]
    chief = account_id(app, "chief")
    done = admin.post(f"/api/admin/sittings/{sitting}/site", {"site": "市职业技能鉴定中心考点", "chief_id": chief})
    staffed = admin.post(
        f"/api/admin/sittings/{sitting}/rooms/{second['rooms'][1]['id']}",
        {"name": "第02考场", "rows": 6, "cols": 7, "location": "实训楼四层", "proctors": [p3, p4]},
    )
    assert done.status_code == 200 and staffed.status_code == 200, staffed.get_json()
    setup = staffed.get_json()["setup"]
    assert setup["warnings"] == [] and setup["site"] == "市职业技能鉴定中心考点" and setup["chief_id"] == chief
    wrong_chief = admin.post(f"/api/admin/sittings/{sitting}/site", {"site": "x", "chief_id": p1})
    assert wrong_chief.get_json()["error"]["message"] == f"账号 {p1} 不是可用的主考账号。"
    actions = [e.action for e in stored(app, AuditEntry) if e.action.startswith(("room.", "sitting.site"))]
    assert actions == ["room.add", "room.add", "sitting.site", "room.change"]


def test_the_automatic_arrangement_spreads_colleagues_apart_and_fills_rooms_to_30(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin)
    add_room(admin, sitting, "第01考场")
    add_room(admin, sitting, "第02考场", rows=4, cols=5)
    reply = admin.post(f"/api/admin/sittings/{sitting}/arrange", {})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    setup = body["setup"]
    assert body["seated"] == len(UNITS) and setup["unseated"] == []
    first, second = setup["rooms"]
    assert len(first["seated"]) == 30 and len(second["seated"]) == len(UNITS) - 30
    for room in (first, second):
        assert neighbours_of_one_unit(room) == [], room["name"]
    assert body["neighbours"] == 0 and setup["neighbours"] == 0
    # Every colleague group is spread over both rooms, not kept together.
    in_second = Counter(p["work_unit"] for p in second["seated"])
    assert len([u for u in in_second if u]) >= 2
    # Ticket numbers: year, site code, sitting, room, seat (docs/sittings.md).
    for number, room in enumerate((first, second), start=1):
        for person in room["seated"]:
            assert person["ticket"] == f"202601{sitting:03d}{number:02d}{person['seat_no']:02d}"
    assert len({p["ticket"] for r in (first, second) for p in r["seated"]}) == len(UNITS)
    [entry] = stored(app, AuditEntry, action="arrangement.auto")
    assert entry.detail == {"seated": len(UNITS), "neighbours": 0}


def test_when_one_unit_fills_half_a_room_everyone_is_still_seated_and_the_touching_pairs_are_counted(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, ["市排水公司"] * 15 + ["县水务局"] * 5)
    add_room(admin, sitting, "第01考场", rows=4, cols=5)
    body = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()
    [room] = body["setup"]["rooms"]
    assert len(room["seated"]) == 20
    assert body["neighbours"] == len(neighbours_of_one_unit(room)) > 0


def test_too_few_seats_is_refused_with_the_shortfall_and_nobody_is_seated(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin)
    add_room(admin, sitting, "第01考场", rows=5, cols=8)  # 40 computers, but at most 30 candidates
    refused = admin.post(f"/api/admin/sittings/{sitting}/arrange", {})
    assert refused.status_code == 400
    message = refused.get_json()["error"]["message"]
    assert message == f"座位不足：待编排 {len(UNITS)} 人，考场空余座位共 30 个（每考场至多 30 人）。请增加考场。"
    assert stored(app, Candidate, session_id=sitting) == []
    # The admin may knowingly fill the whole grid: seated, with the rule's warning on the screen.
    filled = admin.post(f"/api/admin/sittings/{sitting}/arrange", {"fill": 40}).get_json()["setup"]
    assert "第01考场安排了 34 名考生，超过每考场 30 人的规定。" in filled["warnings"]


def test_by_hand_a_person_takes_a_seat_or_changes_places_and_gets_the_seats_ticket(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, ["甲厂", "乙厂", "丙厂"])
    room_id = add_room(admin, sitting, "第01考场", rows=2, cols=3).get_json()["setup"]["rooms"][0]["id"]
    setup = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()["setup"]
    seated = {p["name"]: p for p in setup["rooms"][0]["seated"]}
    a, b = seated["考生01"], seated["考生02"]
    swap = admin.post(
        f"/api/admin/sittings/{sitting}/seats",
        {"registrant_id": a["registrant_id"], "room_id": room_id, "seat_no": b["seat_no"]},
    )
    assert swap.status_code == 200, swap.get_json()
    after = {p["name"]: p for p in swap.get_json()["setup"]["rooms"][0]["seated"]}
    assert (after["考生01"]["seat_no"], after["考生02"]["seat_no"]) == (b["seat_no"], a["seat_no"])
    assert after["考生01"]["ticket"] == b["ticket"] and after["考生02"]["ticket"] == a["ticket"]
    assert {t["name"] for t in swap.get_json()["new_tickets"]} == {"考生01", "考生02"}
    to_free = admin.post(
        f"/api/admin/sittings/{sitting}/seats", {"registrant_id": a["registrant_id"], "room_id": room_id, "seat_no": 6}
    ).get_json()["setup"]
    moved = {p["name"]: p for p in to_free["rooms"][0]["seated"]}["考生01"]
    assert (moved["row"], moved["col"], moved["ticket"][-2:]) == (2, 3, "06")
    outside = admin.post(
        f"/api/admin/sittings/{sitting}/seats", {"registrant_id": a["registrant_id"], "room_id": room_id, "seat_no": 7}
    )
    assert outside.get_json()["error"]["message"] == "第01考场的座位号应为 1 到 6。"
    cleared = admin.post(f"/api/admin/sittings/{sitting}/seats/clear", {"registrant_id": a["registrant_id"]})
    assert [p["name"] for p in cleared.get_json()["setup"]["unseated"]] == ["考生01"]
    everyone = admin.post(f"/api/admin/sittings/{sitting}/seats/clear", {}).get_json()
    assert everyone["removed"] == 2 and len(everyone["setup"]["unseated"]) == 3


def test_the_arranged_candidates_log_in_with_their_tickets_and_then_the_arrangement_is_fixed(app, clock):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, ["甲厂", "乙厂", "丙厂"])
    room_id = add_room(admin, sitting, "第01考场", rows=1, cols=3).get_json()["setup"]["rooms"][0]["id"]
    setup = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()["setup"]
    person = setup["rooms"][0]["seated"][0]
    start = stored(app, ExamSession, id=sitting)[0].scheduled_start
    clock.now = start - timedelta(minutes=20)
    candidate = CandidateActions(app, person["ticket"])
    assert candidate.lookup().get_json()["candidate"]["name"] == person["name"]
    candidate.login()
    locked = admin.post(f"/api/admin/sittings/{sitting}/seats/clear", {})
    assert locked.status_code == 400
    assert locked.get_json()["error"]["message"] == "本场次已有 1 名考生登录，考场和座位不能再改动。"
    moved = admin.post(
        f"/api/admin/sittings/{sitting}/seats",
        {"registrant_id": person["registrant_id"], "room_id": room_id, "seat_no": 3},
    )
    assert moved.get_json()["error"]["code"] == "sitting_under_way"
    assert admin.get(f"/api/admin/sittings/{sitting}/setup").get_json()["setup"]["locked"] == 1


def test_the_arrangement_is_for_exam_admins_only(app):
    sitting = stored(app, ExamSession)[0].id
    proctor = Staff(app, "proctor1")
    for path in ("arrange", "seats/clear", "rooms"):
        assert proctor.post(f"/api/admin/sittings/{sitting}/{path}", {}).status_code == 403
    assert proctor.get(f"/api/admin/sittings/{sitting}/tickets.pdf").status_code == 403
    assert Staff(app, "kaowu").get("/api/admin/sittings/999/setup").status_code == 404


def pdf_text(body: bytes) -> str:
    return re.sub(r"\s+", "", extract_text(BytesIO(body)))


def test_admission_tickets_door_lists_and_seat_labels_print_what_the_candidates_need(app, artifacts):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, UNITS[:12])
    admin.post(f"/api/admin/sittings/{sitting}/site", {"site": "市职业技能鉴定中心考点", "chief_id": None})
    setup = add_room(admin, sitting, "第01考场", rows=3, cols=4).get_json()["setup"]
    room_id = setup["rooms"][0]["id"]
    seated = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()["setup"]["rooms"][0]["seated"]

    response = admin.get(f"/api/admin/sittings/{sitting}/tickets.pdf?room={room_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    text = pdf_text(body)
    for expected in [
        "准考证",
        "考生须知",
        "市职业技能鉴定中心考点",
        "第01考场（实训楼三层）",
        "污水处理工",
        "四级/中级工",
    ]:
        assert expected in text, expected
    assert "2026年12月05日09:00—10:30" in text  # the sitting's time on the site's clock
    assert "开考前20分钟进入考场" in text.replace(" ", "")
    for person in seated:
        assert person["name"] in text and person["ticket"] in text
    pdf = pypdfium2.PdfDocument(body)
    assert len(pdf) == 6  # two tickets to a page
    page = pdf[0].render(scale=2).to_pil()
    page.save(artifacts / "admin-7-admission-tickets.png")
    scanned = sorted(code.text for code in zxingcpp.read_barcodes(page))
    assert scanned == sorted(p["ticket"] for p in seated[:2])  # each ticket's QR code reads as its number
    inked = sum(page.convert("L").histogram()[:128])
    assert inked > 20000  # text, tables and QR codes, not an empty page or a page of boxes

    one = seated[3]
    single = admin.get(f"/api/admin/sittings/{sitting}/tickets.pdf?candidate={one['candidate_id']}").get_data()
    assert len(pypdfium2.PdfDocument(single)) == 1 and one["name"] in pdf_text(single)

    door = admin.get(f"/api/admin/sittings/{sitting}/door-lists.pdf").get_data()
    door_text = pdf_text(door)
    assert "第01考场" in door_text and "共12人" in door_text
    assert all(p["name"] in door_text and p["ticket"] in door_text for p in seated)
    pypdfium2.PdfDocument(door)[0].render(scale=1.5).to_pil().save(artifacts / "admin-8-door-list.png")

    labels = admin.get(f"/api/admin/sittings/{sitting}/seat-labels.pdf?room={room_id}").get_data()
    label_pdf = pypdfium2.PdfDocument(labels)
    assert len(label_pdf) == 2  # ten labels to a page
    label_text = pdf_text(labels)
    assert all(p["name"] in label_text and f"准考证号{p['ticket']}" in label_text for p in seated)
    label_pdf[0].render(scale=1.5).to_pil().save(artifacts / "admin-9-seat-labels.png")


def test_the_cli_adds_rooms_arranges_and_prints(app, tmp_path):
    admin = Staff(app, "kaowu")
    sitting = str(new_sitting(admin, UNITS[::3]))
    make_account(app, "proctor3", "proctor", "proctor3-password")
    site = jikao(app, "sitting", "site", sitting, "--site", "市职业技能鉴定中心考点", "--chief", "chief")
    assert site.exit_code == 0, site.output
    room = jikao(
        app, "sitting", "room", sitting, "--name", "第01考场", "--rows", "3", "--cols", "4",
        "--proctor", "proctor1", "--proctor", "proctor3",
    )  # fmt: skip
    assert room.exit_code == 0 and "已添加考场 1：第01考场，3 排 × 4 列" in room.output, room.output
    wrong = jikao(
        app, "sitting", "room", sitting, "--name", "第02考场", "--rows", "3", "--cols", "4", "--proctor", "chief"
    )
    assert wrong.exit_code == 1 and "没有用户名为 chief 的监考员账号。" in wrong.output
    arranged = jikao(app, "sitting", "arrange", sitting)
    assert arranged.exit_code == 0, arranged.output
    assert "已编排 12 名考生，用了 1 个考场；同单位相邻 0 对。" in arranged.output
    again = jikao(app, "sitting", "arrange", sitting)
    assert again.exit_code == 1 and "没有待编排的考生" in again.output
    out = tmp_path / "准考证.pdf"
    printed = jikao(app, "sitting", "print", sitting, "tickets", "--out", str(out))
    assert printed.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
    assert len(pypdfium2.PdfDocument(out.read_bytes())) == 6 and "考生须知" in pdf_text(out.read_bytes())
    no_room = jikao(app, "sitting", "print", sitting, "door-lists", "--room", "99", "--out", str(out))
    assert no_room.exit_code == 1 and f"场次 {sitting} 没有编号为 99 的考场。" in no_room.output


def test_a_room_given_another_grid_keeps_everyone_in_place_with_the_new_seat_numbers_and_tickets(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, ["甲厂", "乙厂", "丙厂", "丁厂"])
    room = add_room(admin, sitting, "第01考场", rows=2, cols=3).get_json()["setup"]["rooms"][0]
    before = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()["setup"]["rooms"][0]["seated"]
    changed = admin.post(
        f"/api/admin/sittings/{sitting}/rooms/{room['id']}",
        {"name": "第01考场", "rows": 2, "cols": 4, "location": "", "proctors": []},
    )
    assert changed.status_code == 200, changed.get_json()
    after = {p["name"]: p for p in changed.get_json()["setup"]["rooms"][0]["seated"]}
    for person in before:
        moved = after[person["name"]]
        assert (moved["row"], moved["col"]) == (person["row"], person["col"])
        assert moved["seat_no"] == (person["row"] - 1) * 4 + person["col"]
        assert moved["ticket"] == f"202601{sitting:03d}01{moved['seat_no']:02d}"
    with app.app_context():  # the papers were drawn for the old seats
        assert db.session.get(ExamSession, sitting).assembly_report is None


def test_a_login_the_proctor_undid_still_fixes_the_arrangement(app, clock):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, ["甲厂", "乙厂"])
    add_room(admin, sitting, "第01考场", rows=1, cols=2, proctors=[account_id(app, "proctor1")])
    person = admin.post(f"/api/admin/sittings/{sitting}/arrange", {}).get_json()["setup"]["rooms"][0]["seated"][0]
    clock.now = stored(app, ExamSession, id=sitting)[0].scheduled_start - timedelta(minutes=20)
    CandidateActions(app, person["ticket"]).login()
    proctor = ProctorActions(app, "proctor1", app.site.logins["proctor1"])
    [candidate] = stored(app, Candidate, ticket=person["ticket"])
    rejected = proctor.emit("reject_identity", {"candidate_id": candidate.id})
    assert rejected["ok"], rejected
    refused = admin.post(f"/api/admin/sittings/{sitting}/seats/clear", {})
    assert refused.get_json()["error"]["message"] == (
        "本场次的考试已经开始（考场已有登录或开考记录），考场和座位不能再改动。"
    )


def test_printouts_take_any_text_and_long_door_lists_go_on_to_the_next_page(app):
    admin = Staff(app, "kaowu")
    sitting = new_sitting(admin, [f"单位{n}" for n in range(60)])
    admin.post(f"/api/admin/sittings/{sitting}/site", {"site": "考点<A&B>", "chief_id": None})
    add_room(admin, sitting, "第01考场<大>", rows=9, cols=11, location="实训楼<B座>")
    admin.post(f"/api/admin/sittings/{sitting}/arrange", {"fill": 99})
    tickets = admin.get(f"/api/admin/sittings/{sitting}/tickets.pdf?candidate=0")
    assert tickets.status_code == 400
    first = admin.get(f"/api/admin/sittings/{sitting}/setup").get_json()["setup"]["rooms"][0]["seated"][0]
    one = admin.get(f"/api/admin/sittings/{sitting}/tickets.pdf?candidate={first['candidate_id']}")
    assert one.status_code == 200 and "第01考场<大>（实训楼<B座>）" in pdf_text(one.get_data())
    door = admin.get(f"/api/admin/sittings/{sitting}/door-lists.pdf").get_data()
    assert len(pypdfium2.PdfDocument(door)) == 2
    text = pdf_text(door)
    assert "考点：考点<A&B>" in text and "共60人" in text
    assert all(f"考生{n:02d}" in text for n in range(1, 61))
    oversized = add_room(admin, sitting, "第02考场", rows=10, cols=10)
    assert oversized.get_json()["error"]["message"] == "一个考场至多 99 个座位。"
