"""The bank admin's HTTP API: only bank admins, content with keys for them, candidates' view without."""

import io
import json

import pytest
from openpyxl import Workbook

from item_bank.imports import TEMPLATE_HEADERS, TEMPLATE_ROWS
from tests.helpers import csrf_token


def logged_in(app, username):
    http = app.test_client()
    response = http.post(
        "/api/auth/login",
        json={"username": username, "password": app.site.logins[username]},
        headers={"X-CSRFToken": csrf_token(http)},
    )
    assert response.status_code == 200
    return http


@pytest.fixture
def admin(app):
    return logged_in(app, "tiku")


def post(http, path, body=None):
    return http.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(http)})


def item_id(admin, code):
    return next(i["id"] for i in admin.get(f"/api/bank/items?q={code}").get_json()["items"] if i["code"] == code)


@pytest.mark.parametrize("who", ["proctor1", "chief", None])
def test_only_bank_admins_reach_the_bank(app, who):
    http = logged_in(app, who) if who else app.test_client()
    for path in ["/api/bank/items", "/api/bank/items/1", "/api/bank/coverage"]:
        response = http.get(path)
        assert response.status_code == 403, path
        assert response.get_json()["error"]["message"] == "只有题库管理员可以使用题库管理功能。"
    assert post(http, "/api/bank/items/1/retire", {"reason": "x"}).status_code == 403


def test_browse_and_filter(admin):
    body = admin.get("/api/bank/items").get_json()
    assert body["total"] == 130
    assert body["banks"] == [{"occupation": "6-28-01-14", "level": 4, "level_name": "四级/中级工"}]
    singles = admin.get("/api/bank/items?type=multiple&difficulty=3").get_json()["items"]
    assert singles and all(i["type"] == "multiple" and i["difficulty"] == 3 for i in singles)
    by_point = admin.get("/api/bank/items?knowledge_point=B-02").get_json()["items"]
    assert by_point and all(i["knowledge_point"].startswith("B-02") for i in by_point)
    found = admin.get("/api/bank/items?q=SV30").get_json()["items"]
    assert found and all("SV30" in i["stem"] or "SV30" in i["code"] for i in found[:1])


def test_an_item_shows_its_key_to_the_admin_and_the_candidate_view_carries_none(admin):
    body = admin.get(f"/api/bank/items/{item_id(admin, 'WS4-001')}").get_json()
    assert body["item"]["key"] == ["A"] and body["item"]["explanation"]
    assert set(body["candidate_view"]) == {"id", "type", "stem", "options"}
    assert all(set(o) == {"id", "text"} for o in body["candidate_view"]["options"])


def test_edit_review_and_activate_through_the_api(admin):
    target = item_id(admin, "WS4-002")
    refused = post(admin, f"/api/bank/items/{target}/edit", {"stem": "新题干（　）。"})
    assert refused.status_code == 400 and refused.get_json()["error"]["message"] == "请写明修改原因。"
    broken = post(admin, f"/api/bank/items/{target}/edit", {"key": ["Z"], "reason": "试"})
    assert broken.get_json()["error"]["message"] == "答案：答案 Z 不在选项中"
    edited = post(admin, f"/api/bank/items/{target}/edit", {"stem": "新题干（　）。", "reason": "措辞"}).get_json()
    assert (edited["version"], edited["item"]["status"]) == (2, "draft")
    assert post(admin, f"/api/bank/items/{target}/activate").status_code == 400  # review comes first
    assert post(admin, f"/api/bank/items/{target}/review").get_json()["item"]["status"] == "reviewed"
    assert post(admin, f"/api/bank/items/{target}/activate").get_json()["item"]["status"] == "active"
    history = admin.get(f"/api/bank/items/{target}/history").get_json()
    assert history["versions"] == 2 and any(line.startswith("+题干：新题干") for line in history["changes"][0]["diff"])


def test_coverage_against_the_600_item_rule(admin):
    body = admin.get("/api/bank/coverage?occupation=6-28-01-14&level=4").get_json()
    assert (body["total"], body["required"], body["meets_rule"]) == (130, 600, False)
    assert sum(row["total"] for row in body["rows"]) == 130
    assert len(body["rows"]) == 8
    assert [t for t, _ in body["types"]] == ["single", "multiple", "true_false"]  # in the paper's order


def upload(admin, rows, name="题库.xlsx", **form):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return admin.post(
        "/api/bank/import",
        data={"file": (buffer, name), **form},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": csrf_token(admin)},
    ).get_json()


def test_an_upload_with_errors_names_them_and_imports_nothing(admin):
    bad = [TEMPLATE_HEADERS, *[[*r] for r in TEMPLATE_ROWS]]
    bad[1][TEMPLATE_HEADERS.index("难度")] = 9
    reply = upload(admin, bad)
    assert reply["ok"] is False and reply["imported"] == 0
    assert reply["problems"] == ["题库.xlsx 第2行 难度：难度必须是 1 到 5 的整数"]
    fresh = [[*r] for r in TEMPLATE_ROWS]
    for n, row in enumerate(fresh):
        row[TEMPLATE_HEADERS.index("题干")] = f"上传的新题{n}（　）。"
    assert upload(admin, [TEMPLATE_HEADERS, *fresh], dry_run="1")["imported"] == 0
    assert upload(admin, [TEMPLATE_HEADERS, *fresh])["imported"] == 3
    assert admin.get("/api/bank/items?status=draft").get_json()["total"] == 3


def test_the_preview_page_is_the_exam_clients_own(admin):
    with admin.get("/exam/preview.html") as page:
        assert 'src="/exam/preview.js"' in page.get_data(as_text=True)
    with admin.get("/exam/preview.js") as script:
        assert 'import { PaperView } from "./paper.js"' in script.get_data(as_text=True)
    assert json.loads(admin.get("/api/bank/status").get_data())["open"] is True


def test_a_picture_reaches_only_a_candidate_whose_room_has_started_and_bank_admins(
    app, admin, tmp_path, make_candidate, proctor
):
    import base64

    from item_bank.imports import read_json
    from server.bank.service import import_checked
    from server.db import write_transaction
    from server.extensions import db
    from tests.helpers import tiny_png

    picture = tiny_png(4, 3)
    items = [
        {
            "code": "PIC-1",
            "type": "true_false",
            "knowledge_point": "A-01-001",
            "difficulty": 1,
            "stem": "图中的阀门处于关闭状态。",
            "key": True,
            "images": [{"name": "valve.png", "alt": "阀门照片", "data": base64.b64encode(picture).decode()}],
        }
    ]
    document = {
        "format": "jikao-items/1",
        "occupation": {"code": "6-28-01-14", "name": "污水处理工"},
        "level": 4,
        "items": items,
    }
    result = read_json("pic.json", json.dumps(document, ensure_ascii=False).encode())
    with app.app_context(), write_transaction(db.session):  # (a CLI call here would rebind the test sockets)
        assert import_checked(db.session, result, status="active")
    picture_id = item_id(admin, "PIC-1")
    assert logged_in(app, "tiku").get(f"/api/bank/items/{picture_id}/images/0").data == picture
    assert logged_in(app, "proctor1").get(f"/api/bank/items/{picture_id}/images/0").status_code == 403

    # A candidate gets the picture only for an item of their own paper, and only once the room has started.
    candidate = make_candidate(app.site.tickets[0]).login()
    assert candidate.http.get(f"/api/candidate/items/{picture_id}/images/0").status_code == 403  # not started
    outsider = app.test_client()
    assert outsider.get(f"/api/candidate/items/{picture_id}/images/0").status_code == 403
    candidate.connect()
    proctor.confirm(candidate.ticket)
    proctor.start()
    own = {item["id"] for item in candidate.paper_items()}
    other = next(i for i in own)
    with candidate.http.get(f"/api/candidate/items/{other}/images/5") as missing:
        assert missing.status_code == 404
    if picture_id not in own:
        with candidate.http.get(f"/api/candidate/items/{picture_id}/images/0") as foreign:
            assert foreign.status_code == 404
            assert foreign.get_json()["error"]["message"] == "该题不在您的试卷中。"


def test_a_long_list_opens_only_the_page_it_shows_but_counts_everything(admin, monkeypatch):
    from server.bank import service, views

    opened = []
    real_open = service.open_item
    monkeypatch.setattr(views, "PAGE", 10)
    monkeypatch.setattr(views, "open_item", lambda row: opened.append(row.id) or real_open(row))
    body = admin.get("/api/bank/items").get_json()
    assert (len(body["items"]), body["total"]) == (10, 130)
    assert len(opened) == 10  # the other 120 sealed items stay sealed
    searched = admin.get("/api/bank/items?q=SV30").get_json()
    assert 1 <= searched["total"] < 130  # a search opens every item, to look in stems and options
