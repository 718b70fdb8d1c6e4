"""The encrypted bank: custody by two people, sealed items, refusals that say what is wrong."""

import base64
import json
import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.bank.models import Item
from server.cli import main
from server.extensions import db
from tests.helpers import ProctorActions, make_sitting, stored, tiny_png


def env_for(app, **override) -> dict:
    custodians = app.site.custodians
    return {"JIKAO_CUSTODIAN_A": custodians["custodian_a"], "JIKAO_CUSTODIAN_B": custodians["custodian_b"], **override}


def jikao(app, *args, env=None, input=None):
    return CliRunner().invoke(main, [*args, "--data", app.config["DATA_DIR"]], env=env or env_for(app), input=input)


def item_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Item.id)))


def bank_file(tmp_path: Path, items: list[dict], name="bank.json", code="9-99-99-99", level=3) -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {"format": "jikao-items/1", "occupation": {"code": code, "name": "测试工"}, "level": level, "items": items},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


MARKED_BLUEPRINT = {  # the four marker items, each in its own cell: every paper is the whole small bank
    "occupation_code": "9-99-99-99",
    "level": 3,
    "version": 1,
    "sections": [
        {"type": "single", "count": 2, "points": 25},
        {"type": "multiple", "count": 1, "points": 30},
        {"type": "true_false", "count": 1, "points": 20},
    ],
    "cells": [
        {"type": "single", "knowledge_point": "A-01", "difficulty": 2, "count": 1},
        {"type": "single", "knowledge_point": "A-01", "difficulty": 3, "count": 1},
        {"type": "multiple", "knowledge_point": "B-01", "difficulty": 3, "count": 1},
        {"type": "true_false", "knowledge_point": "B-01", "difficulty": 1, "count": 1},
    ],
}


def marker_items(markers: list[str]) -> list[dict]:
    m = iter(markers)
    return [
        {
            "code": "MK-1",
            "type": "single",
            "knowledge_point": "A-01-001",
            "difficulty": 2,
            "stem": f"题干{next(m)}（　）",
            "options": [{"id": x, "text": f"选项{next(m)}"} for x in "ABCD"],
            "key": ["C"],
            "explanation": f"解析{next(m)}",
        },
        {
            "code": "MK-2",
            "type": "single",
            "knowledge_point": "A-01-001",
            "difficulty": 3,
            "stem": f"题干{next(m)}（　）",
            "options": [{"id": x, "text": f"选项{next(m)}"} for x in "ABCD"],
            "key": ["A"],
            "explanation": f"解析{next(m)}",
        },
        {
            "code": "MK-3",
            "type": "multiple",
            "knowledge_point": "B-01-001",
            "difficulty": 3,
            "stem": f"题干{next(m)}（　）",
            "options": [{"id": x, "text": f"选项{next(m)}"} for x in "ABCD"],
            "key": ["A", "D"],
            "explanation": f"解析{next(m)}",
        },
        {
            "code": "MK-4",
            "type": "true_false",
            "knowledge_point": "B-01-001",
            "difficulty": 1,
            "stem": f"说法{next(m)}。",
            "key": False,
            "explanation": f"解析{next(m)}",
        },
    ]


def test_item_content_never_touches_disk_in_clear(app, tmp_path, make_candidate):
    markers = [f"MARK{uuid.uuid4().hex[:12]}" for _ in range(30)]
    items = marker_items(markers)
    picture = tiny_png(comment=markers[-1])  # a picture carrying a marker of its own
    items[0]["images"] = [
        {"name": "图1.png", "mime": "image/png", "alt": "示意图", "data": base64.b64encode(picture).decode()}
    ]
    result = jikao(app, "bank", "import", "--activate", str(bank_file(tmp_path, items)))
    assert result.exit_code == 0, result.output
    make_sitting(app, MARKED_BLUEPRINT, "209901010101", "mark-proctor", "mark-proctor-password")

    # A whole sitting over the marked items: confirmation, start, every item answered, submission.
    candidate = make_candidate("209901010101").login().connect()
    proctor = ProctorActions(app, "mark-proctor", "mark-proctor-password")
    assert proctor.confirm("209901010101")["ok"] and proctor.start()["ok"]
    items = candidate.paper_items()
    assert any(markers[0] in item["stem"] for item in items)  # the candidate does see the content
    pictured = next(item for item in items if item.get("images"))
    with candidate.http.get(f"/api/candidate/items/{pictured['id']}/images/0") as shown:
        assert shown.data == picture and shown.mimetype == "image/png"
    for seq, item in enumerate(items, start=1):
        response = True if item["type"] == "true_false" else item["options"][0]["id"]
        assert candidate.answer(item["id"], [response] if item["type"] == "multiple" else response, seq)["ok"]
    assert candidate.submit()["ok"]

    with app.app_context():
        db.engine.dispose()  # close connections: the WAL is checkpointed into the database file
    files = [p for p in Path(app.config["DATA_DIR"]).rglob("*") if p.is_file()]
    assert any(p.name == "jikao.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for marker in markers:
            assert marker.encode() not in content, f"{marker} in clear in {path.name}"


def test_a_file_with_any_problem_imports_nothing_and_names_each_problem(app, tmp_path):
    items = marker_items([f"x{n}" for n in range(30)])
    items[0]["key"] = ["E"]
    items[1]["stem"] = ""
    items[2]["key"] = ["A"]
    items[3]["difficulty"] = 9
    items.append(dict(items[0], key=["A"], code="MK-5"))  # the same stem again
    before = item_count(app)
    result = jikao(app, "bank", "import", str(bank_file(tmp_path, items, name="坏题.json")))
    assert result.exit_code == 1
    for line in [
        "坏题.json 第1题 答案：答案 E 不在选项中",
        "坏题.json 第2题 题干：题干不能为空",
        "坏题.json 第3题 答案：多选题至少需要两个正确选项",
        "坏题.json 第4题 难度：难度必须是 1 到 5 的整数",
        "坏题.json 第5题 题干：与本文件第1题重复",
        "发现 5 个问题，未导入任何试题。",
    ]:
        assert line in result.output
    assert item_count(app) == before


def test_a_stem_already_in_the_bank_is_reported(app):
    from server.demo.seed import ITEMS_FILE

    result = jikao(app, "bank", "import", str(ITEMS_FILE))
    assert result.exit_code == 1
    assert "items.json 第1题 题干：与题库中已有试题 WS4-001 重复" in result.output
    assert item_count(app) == 130


def test_dry_run_checks_and_imports_nothing(app, tmp_path):
    result = jikao(
        app, "bank", "import", "--dry-run", str(bank_file(tmp_path, marker_items([f"y{n}" for n in range(30)])))
    )
    assert result.exit_code == 0, result.output
    assert "检查通过：4 道试题可以导入（--dry-run，未导入）。" in result.output
    assert item_count(app) == 130


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00", json.dumps({"format": "other"}).encode()])
def test_an_unreadable_file_is_refused_by_name(app, tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    result = jikao(app, "bank", "import", str(path))
    assert result.exit_code == 1
    assert "broken.json" in result.output and "未导入任何试题" in result.output


def test_wrong_or_swapped_passphrases_are_refused(app):
    custodians = app.site.custodians
    wrong = jikao(app, "bank", "verify", env=env_for(app, JIKAO_CUSTODIAN_B="not-the-passphrase"))
    assert wrong.exit_code == 1 and "保密员B的口令不正确，题库未打开。" in wrong.output
    swapped = jikao(
        app,
        "bank",
        "verify",
        env={"JIKAO_CUSTODIAN_A": custodians["custodian_b"], "JIKAO_CUSTODIAN_B": custodians["custodian_a"]},
    )
    assert swapped.exit_code == 1 and "保密员A、保密员B的口令不正确" in swapped.output


def test_without_passphrases_and_without_a_terminal_the_command_says_what_it_needs(app):
    result = jikao(app, "bank", "verify", env={"JIKAO_CUSTODIAN_A": "", "JIKAO_CUSTODIAN_B": ""})
    assert result.exit_code == 1
    assert "JIKAO_CUSTODIAN_A / JIKAO_CUSTODIAN_B" in result.output


def test_a_flipped_bit_is_refused_naming_the_item_which_is_never_served(app):
    from server.bank.service import active_pool

    with app.app_context():
        row = db.session.scalar(select(Item).where(Item.code == "WS4-017"))
        row_id, occupation = row.id, row.occupation_code
        db.engine.dispose()
    with sqlite3.connect(Path(app.config["DATA_DIR"]) / "jikao.db") as raw:
        blob = bytearray(raw.execute("SELECT sealed FROM item WHERE id = ?", (row_id,)).fetchone()[0])
        blob[30] ^= 0x01
        raw.execute("UPDATE item SET sealed = ? WHERE id = ?", (bytes(blob), row_id))
    result = jikao(app, "bank", "verify")
    assert result.exit_code == 1
    assert "1 道试题密文校验失败，已停止使用：WS4-017" in result.output
    with app.app_context():
        assert row_id not in active_pool(db.session, occupation, 4)
        assert len(active_pool(db.session, occupation, 4)) == 129


def test_a_ciphertext_moved_to_another_item_is_refused(app):
    with app.app_context():
        first, second = db.session.scalars(select(Item).order_by(Item.id).limit(2)).all()
        first_id, second_id = first.id, second.id
        db.engine.dispose()
    with sqlite3.connect(Path(app.config["DATA_DIR"]) / "jikao.db") as raw:
        blob = raw.execute("SELECT sealed FROM item WHERE id = ?", (first_id,)).fetchone()[0]
        raw.execute("UPDATE item SET sealed = ? WHERE id = ?", (blob, second_id))
    result = jikao(app, "bank", "verify")
    assert result.exit_code == 1 and "WS4-002" in result.output


def test_a_custodian_changes_their_passphrase_alone(app):
    old = app.site.custodians["custodian_a"]
    result = jikao(
        app, "bank", "passwd", "custodian_a", env={}, input=f"{old}\n新的保密员A口令123\n新的保密员A口令123\n"
    )
    assert result.exit_code == 0, result.output
    assert jikao(app, "bank", "verify").exit_code == 1  # the old passphrase no longer opens the bank
    assert jikao(app, "bank", "verify", env=env_for(app, JIKAO_CUSTODIAN_A="新的保密员A口令123")).exit_code == 0


def test_a_lost_custodian_is_replaced_by_the_other_and_the_bank_admin(app):
    custodians = app.site.custodians
    typed = f"{custodians['custodian_a']}\n{custodians['bank_admin']}\n接任保密员B口令456\n接任保密员B口令456\n"
    result = jikao(app, "bank", "replace", "custodian_b", env={}, input=typed)
    assert result.exit_code == 0, result.output
    assert jikao(app, "bank", "verify").exit_code == 1
    assert jikao(app, "bank", "verify", env=env_for(app, JIKAO_CUSTODIAN_B="接任保密员B口令456")).exit_code == 0


def test_bank_actions_are_in_the_ledger(app, tmp_path):
    from server.audit import AuditEntry

    jikao(app, "bank", "import", str(bank_file(tmp_path, marker_items([f"z{n}" for n in range(30)]))))
    jikao(app, "bank", "verify")
    actions = [e.action for e in stored(app, AuditEntry)]
    assert {"bank.init", "bank.import", "bank.verify"} <= set(actions)


def test_a_closed_bank_serves_no_paper(app, make_candidate, proctor):
    from server.bank.keys import KEY

    app.extensions.pop(KEY)
    candidate = make_candidate(app.site.tickets[0]).login().connect()
    reply = proctor.confirm(candidate.ticket)
    assert reply["error"] == {"code": "bank_locked", "message": "题库未打开：需要两位保密员输入口令后才能使用试题。"}


def test_an_excel_file_imports_through_the_cli_and_the_template_command_writes_one(app, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "模板.xlsx"
    written = CliRunner().invoke(main, ["bank", "template", str(path)])
    assert written.exit_code == 0 and path.exists()
    workbook = load_workbook(path)
    sheet = workbook.active
    for n, stem in enumerate(["新题一（　）。", "新题二（　）。", "新题三。"], start=2):
        sheet.cell(row=n, column=4, value=stem)
    workbook.save(path)
    result = jikao(app, "bank", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "已导入 3 道试题" in result.output
    assert item_count(app) == 133


def test_a_gbk_csv_with_an_error_imports_nothing(app, tmp_path):
    from item_bank.imports import TEMPLATE_HEADERS, TEMPLATE_ROWS

    rows = [TEMPLATE_HEADERS, *[[*r] for r in TEMPLATE_ROWS]]
    rows[2][TEMPLATE_HEADERS.index("答案")] = "Z"
    path = tmp_path / "题库.csv"
    path.write_bytes("\n".join(",".join(str(c) for c in row) for row in rows).encode("gbk"))
    result = jikao(app, "bank", "import", str(path))
    assert result.exit_code == 1
    assert "题库.csv 第3行 答案：答案 Z 不在选项中" in result.output
    assert item_count(app) == 130


def test_a_qti_folder_imports_through_the_cli(app):
    folder = Path(__file__).resolve().parents[1] / "fixtures" / "qti"
    missing = jikao(app, "bank", "import", str(folder))
    assert missing.exit_code == 1 and "--knowledge-point" in missing.output
    result = jikao(
        app,
        "bank",
        "import",
        str(folder),
        "--occupation",
        "6-28-01-14",
        "--occupation-name",
        "污水处理工",
        "--level",
        "4",
        "--knowledge-point",
        "B-02-001",
    )
    assert result.exit_code == 0, result.output
    assert "已导入 2 道试题" in result.output
    assert item_count(app) == 132


def confirm_marked_candidate(app, make_candidate):
    candidate = make_candidate("209901010101").login().connect()
    proctor = ProctorActions(app, "mark-proctor", "mark-proctor-password")
    return candidate, proctor, proctor.confirm("209901010101")


def test_imported_items_wait_for_review_before_any_paper_uses_them(app, tmp_path, make_candidate):
    from server.bank import lifecycle
    from server.db import write_transaction

    result = jikao(app, "bank", "import", str(bank_file(tmp_path, marker_items([f"d{n}" for n in range(30)]))))
    assert "待审，审定并入库后才能用于组卷" in result.output
    make_sitting(app, MARKED_BLUEPRINT, "209901010101", "mark-proctor", "mark-proctor-password")
    # (In-process CLI calls rebind the app's Socket.IO server, so sockets are opened after them.)
    candidate, proctor, reply = confirm_marked_candidate(app, make_candidate)
    assert reply["error"]["code"] == "paper_unavailable"
    assert reply["error"]["message"].startswith("无法为该考生组卷：鉴定点 A-01 难度2 单选：需要 1 题，题库可用 0 题；")
    with app.app_context(), write_transaction(db.session):
        for code in ("MK-1", "MK-2", "MK-3", "MK-4"):
            row = lifecycle.find(db.session, code)
            lifecycle.transition(db.session, row, "review", "reviewer", app.config["CLOCK"]())
            lifecycle.transition(db.session, row, "activate", "bank-admin", app.config["CLOCK"]())
    assert proctor.confirm(candidate.ticket)["ok"]


def test_review_and_activate_follow_the_order_and_are_recorded(app, tmp_path):
    from server.audit import AuditEntry

    jikao(app, "bank", "import", str(bank_file(tmp_path, marker_items([f"r{n}" for n in range(30)]))))
    early = jikao(app, "bank", "activate", "MK-1")
    assert early.exit_code == 1 and "试题 MK-1 当前为“待审”，不能入库。" in early.output
    assert jikao(app, "bank", "review", "MK-1", "MK-2").exit_code == 0
    assert "已入库 2 道试题：MK-1、MK-2" in jikao(app, "bank", "activate", "MK-1", "MK-2").output
    assert "已停用 1 道试题：MK-2" in jikao(app, "bank", "retire", "MK-2", "--reason", "知识点过时").output
    assert "第1版  已入库" in jikao(app, "bank", "item", "MK-1").output
    assert "第1版  已停用" in jikao(app, "bank", "item", "MK-2").output
    actions = [e.action for e in stored(app, AuditEntry)]
    assert actions.count("item.review") == 2 and "item.retire" in actions


def test_a_leaked_item_leaves_every_future_paper_at_once(app):
    from server.bank.service import active_pool

    with app.app_context():
        row = db.session.scalar(select(Item).where(Item.code == "WS4-005"))
        item_id, occupation = row.id, row.occupation_code
    refused = jikao(app, "bank", "leak", "WS4-005", "--reason", "")
    assert refused.exit_code == 1 and "必须写明原因" in refused.output
    result = jikao(app, "bank", "leak", "WS4-005", "--reason", "考后网上出现原题")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert item_id not in active_pool(db.session, occupation, 4)


def test_an_edit_makes_a_new_sealed_version_back_in_review_and_history_shows_old_against_new(app):
    before = jikao(app, "bank", "item", "WS4-001")
    assert "第1版  已入库" in before.output
    edited = jikao(
        app,
        "bank",
        "edit",
        "WS4-001",
        "--stem",
        "职业道德是从业人员在职业活动中必须遵循的（　）的总和。",
        "--option",
        "B=法律法规条文",
        "--reason",
        "审题会意见：措辞",
    )
    assert edited.exit_code == 0, edited.output
    assert "已生成第2版" in edited.output
    after = jikao(app, "bank", "item", "WS4-001")
    assert "第2版  待审" in after.output and "B. 法律法规条文" in after.output
    history = jikao(app, "bank", "history", "WS4-001")
    assert history.exit_code == 0, history.output
    assert "第1版 → 第2版" in history.output and "原因：审题会意见：措辞" in history.output
    assert "-B. 法律条文" in history.output and "+B. 法律法规条文" in history.output
    assert "-题干：职业道德是从业人员在职业活动中应当遵循的（　）的总和。" in history.output
    with app.app_context():
        pool = __import__("server.bank.service", fromlist=["active_pool"]).active_pool(db.session, "6-28-01-14", 4)
    assert len(pool) == 129  # in review again: out of papers until re-activated


def test_an_edit_that_breaks_the_item_is_refused(app):
    result = jikao(app, "bank", "edit", "WS4-001", "--answer", "Z", "--reason", "试试")
    assert result.exit_code == 1
    assert "WS4-001 答案 Z 不在选项中" in result.output


def test_codes_are_given_where_missing_and_a_code_already_in_the_bank_is_refused(app, tmp_path):
    items = marker_items([f"c{n}" for n in range(30)])
    items[0]["code"] = "WS4-001"
    items[1]["code"] = ""
    refused = jikao(app, "bank", "import", str(bank_file(tmp_path, items)))
    assert refused.exit_code == 1 and "bank.json 第1题 编号：编号 WS4-001 在题库中已存在" in refused.output
    items[0]["code"] = "MK-1"
    assert jikao(app, "bank", "import", str(bank_file(tmp_path, items))).exit_code == 0
    with app.app_context():
        codes = set(db.session.scalars(select(Item.code)))
    assert "" not in codes and any(re.fullmatch(r"J\d{6}", code) for code in codes)


def test_a_plain_export_needs_both_custodians_and_imports_again_elsewhere(app, tmp_path):
    out = tmp_path / "测试题库.json"
    refused = jikao(
        app,
        "bank",
        "export",
        "--plain",
        str(out),
        "--occupation",
        "6-28-01-14",
        "--level",
        "4",
        env=env_for(app, JIKAO_CUSTODIAN_B="wrong-passphrase"),
    )
    assert refused.exit_code == 1 and not out.exists()
    written = jikao(app, "bank", "export", "--plain", str(out), "--occupation", "6-28-01-14", "--level", "4")
    assert written.exit_code == 0, written.output
    assert "明文文件只用于测试题库" in written.output
    site = tmp_path / "site"
    env = {
        "JIKAO_CUSTODIAN_A": "站点保密员甲的口令-01",
        "JIKAO_CUSTODIAN_B": "站点保密员乙的口令-02",
        "JIKAO_BANK_ADMIN": "站点题库管理员口令-03",
        "JIKAO_BANK_SCRYPT_N": "1024",
    }
    assert CliRunner().invoke(main, ["bank", "init", "--data", str(site)], env=env).exit_code == 0
    again = CliRunner().invoke(main, ["bank", "import", str(out), "--data", str(site)], env=env)
    assert again.exit_code == 0 and "已导入 130 道试题" in again.output
