"""The exam admin sets up a sitting from the centre's own data (issue 8): the sitting with its timing policy,
and its registration list, by the API behind the screens and by the CLI."""

from __future__ import annotations

import io

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from server.audit import AuditEntry
from server.cli import main
from server.db import write_transaction
from server.exam import outage
from server.exam.models import ExamSession
from server.extensions import db
from server.sittings.models import Registrant
from tests.helpers import Staff, resident_id, started, stored

NEW = {
    "name": "2026年12月 污水处理工（四级/中级工）理论知识考试 第2场",
    "occupation_code": "6-28-01-14",
    "occupation_name": "污水处理工",
    "level": 4,
    "start": "2026-12-05 09:00",
    "duration_minutes": 90,
}


PEOPLE = [
    ("张建华", resident_id("11010519800101123"), "市排水公司"),
    ("李秀英", resident_id("32010219920815442"), "县水务局"),
    ("王磊", resident_id("44030119751130561"), "市排水公司"),
]


def registration_csv(people=PEOPLE, encoding="utf-8-sig") -> bytes:
    lines = ["姓名,证件号码,职业,等级,工作单位", *(f"{n},{i},污水处理工,四级,{u}" for n, i, u in people)]
    return "\n".join(lines).encode(encoding)


def test_a_sitting_is_set_up_with_the_regulations_timing_by_default(app):
    admin = Staff(app, "kaowu")
    response = admin.post("/api/admin/sittings", NEW)
    assert response.status_code == 201, response.get_json()
    sitting = response.get_json()["sitting"]
    assert sitting["policy"] == {
        "entry_before_s": 1200,
        "late_entry_s": 1800,
        "submit_after_s": 1800,
        "warning_s": 900,
        "make_up_max_s": 1800,
        "show_score": False,
    }
    assert sitting["scheduled_start"] == "2026-12-05T01:00:00+00:00"  # 09:00 in Beijing
    assert "开考：2026-12-05 09:00  时长：90 分钟" in sitting["described"]
    assert sitting["blueprint"] is not None and sitting["registered"] == 0
    [entry] = stored(app, AuditEntry, action="sitting.create")
    assert entry.detail["name"] == NEW["name"]


def test_each_rule_of_the_timing_policy_may_be_changed_for_one_sitting(app):
    policy = {"late_entry_s": 15 * 60, "submit_after_s": 45 * 60, "show_score": True}
    sitting = Staff(app, "kaowu").post("/api/admin/sittings", {**NEW, "policy": policy}).get_json()["sitting"]
    assert sitting["policy"]["late_entry_s"] == 900 and sitting["policy"]["submit_after_s"] == 2700
    assert sitting["policy"]["show_score"] is True and sitting["policy"]["warning_s"] == 900


def test_a_wrong_sitting_is_refused_in_words_and_nothing_is_set_up(app):
    admin = Staff(app, "kaowu")
    cases = [
        ({**NEW, "policy": {"warning_s": 3 * 3600}}, "考试结束前提醒的时间：应为 0 到 60 分钟之间。"),
        ({**NEW, "policy": {"breaks": 1}}, "未知的考试规则设置：breaks。"),
        (
            {**NEW, "occupation_code": "4-01-02-03"},
            "题库中没有职业代码 4-01-02-03、四级/中级工的试题，无法为其设立场次。",
        ),
        ({**NEW, "start": "12月5日上午"}, "开考时间“12月5日上午”应写作 年-月-日 时:分，如 2026-12-05 09:00。"),
        ({**NEW, "start": "2020-01-01 09:00"}, "开考时间应在现在之后。"),
        ({**NEW, "policy": {"submit_after_s": 120 * 60}}, "最早交卷时间应早于考试结束。"),
    ]
    for body, said in cases:
        response = admin.post("/api/admin/sittings", body)
        assert response.status_code == 400 and response.get_json()["error"]["message"] == said
    assert len(stored(app, ExamSession)) == 1  # the demo's only


def test_only_the_exam_admin_sets_up_sittings(app):
    response = Staff(app, "tiku").post("/api/admin/sittings", NEW)
    assert response.status_code == 403 and len(stored(app, ExamSession)) == 1


def test_a_registration_list_is_imported_whole_and_a_second_time_refused(app):
    admin = Staff(app, "kaowu")
    session_id = admin.post("/api/admin/sittings", NEW).get_json()["sitting"]["id"]
    path = f"/api/admin/sittings/{session_id}/registrations"
    checked = admin.upload(path, "名单.csv", registration_csv(encoding="gbk"), dry_run="1").get_json()
    assert checked["ok"] and checked["checked"] == 3 and checked["imported"] == 0
    assert stored(app, Registrant) == []
    done = admin.upload(path, "名单.csv", registration_csv(encoding="gbk")).get_json()
    assert done["ok"] and done["imported"] == 3
    people = admin.get(path).get_json()["people"]
    assert [(p["name"], p["id_number"], p["work_unit"], p["source"]) for p in people] == [
        (name, number, unit, f"名单.csv 第{row}行") for row, (name, number, unit) in enumerate(PEOPLE, start=2)
    ]
    again = admin.upload(path, "名单.csv", registration_csv()).get_json()
    assert not again["ok"] and again["imported"] == 0
    assert again["problems"][0] == "名单.csv 第2行 证件号码：该证件号码已在本场次报名（张建华）"
    assert len(stored(app, Registrant)) == 3
    [entry] = stored(app, AuditEntry, action="registration.import")
    assert entry.detail == {"file": "名单.csv", "people": 3}


def test_a_list_with_errors_registers_nobody_and_says_where(app):
    admin = Staff(app, "kaowu")
    session_id = admin.post("/api/admin/sittings", NEW).get_json()["sitting"]["id"]
    wrong = [*PEOPLE[:2], ("赵六", PEOPLE[0][1][:-1] + "0" if PEOPLE[0][1][-1] != "0" else "1", "")]
    reply = admin.upload(f"/api/admin/sittings/{session_id}/registrations", "名单.csv", registration_csv(wrong))
    body = reply.get_json()
    assert not body["ok"] and body["imported"] == 0
    assert body["problems"][0].startswith("名单.csv 第4行 证件号码：身份证号码校验位不正确")
    assert stored(app, Registrant) == []


def test_the_template_the_admin_downloads_imports_as_it_is(app):
    admin = Staff(app, "kaowu")
    template = admin.get("/api/admin/registrations/template")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).active
    assert [c.value for c in sheet[1]] == ["姓名", "证件类型", "证件号码", "职业", "等级", "工作单位", "照片"]
    session_id = admin.post("/api/admin/sittings", NEW).get_json()["sitting"]["id"]
    reply = admin.upload(f"/api/admin/sittings/{session_id}/registrations", "模板.xlsx", template.data).get_json()
    assert reply["ok"] and reply["imported"] == 1


def jikao(app, *args):
    return CliRunner().invoke(main, [*args, "--data", app.config["DATA_DIR"]])


def test_the_cli_sets_up_a_sitting_and_imports_its_list(app, tmp_path):
    created = jikao(
        app, "sitting", "create", "--name", NEW["name"], "--occupation", "6-28-01-14",
        "--occupation-name", "污水处理工", "--level", "4", "--start", "2026-12-05 09:00", "--duration", "90",
        "--late-entry", "20",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "已设立场次 2" in created.output and "开考 20 分钟后不得入场" in created.output
    good, bad = tmp_path / "名单.csv", tmp_path / "错误.csv"
    good.write_bytes(registration_csv())
    bad.write_bytes(registration_csv([PEOPLE[0], PEOPLE[0]]))
    refused = jikao(app, "sitting", "import", str(bad), "--session", "2")
    assert refused.exit_code == 1
    assert "错误.csv 第3行 证件号码：与第2行的证件号码重复" in refused.output
    assert "发现 1 个问题，未导入任何考生。" in refused.output
    done = jikao(app, "sitting", "import", str(good), "--session", "2")
    assert done.exit_code == 0 and "名单.csv：已导入 3 名考生。" in done.output, done.output
    listed = jikao(app, "sitting", "list")
    assert "2  2026-12-05 09:00  " + NEW["name"] + "  报名 3 人" in listed.output
    unknown = jikao(app, "sitting", "import", str(good), "--session", "9")
    assert unknown.exit_code == 1 and "没有编号为 9 的场次。" in unknown.output


def test_an_outage_is_made_up_only_within_the_sittings_own_limit(candidate, proctor, app, clock):
    with app.app_context(), write_transaction(db.session):
        db.session.scalar(select(ExamSession)).make_up_max_s = 10 * 60  # this sitting's policy: 10 minutes
    started(candidate, proctor)
    clock.advance(minutes=20)
    with app.app_context(), write_transaction(db.session):
        outage.beat(db.session, clock(), "local")
    clock.advance(minutes=12)
    with app.app_context(), write_transaction(db.session):
        [recovery] = outage.recover(db.session, clock(), "local")
    assert not recovery.made_up  # 12 minutes: more than this sitting makes up by itself
    room = proctor.watch()
    assert room["pause"]["awaiting_chief"] is True  # paused for the chief examiner, not made up
    assert any("超过 10 分钟，等待主考决定" in line["text"] for line in room["feed"])


def test_someone_registered_between_the_check_and_the_import_registers_nobody_of_the_list(app, clock):
    from server.sittings import service

    Staff(app, "kaowu").post("/api/admin/sittings", NEW)
    with app.app_context():
        exam = service.sitting(db.session, 2)
        checked = service.check_registrations(db.session, exam, "名单.csv", registration_csv(), clock().date())
        meanwhile = service.check_registrations(
            db.session, exam, "补报.csv", registration_csv(PEOPLE[1:2]), clock().date()
        )
        assert checked.ok and meanwhile.ok
        with write_transaction(db.session):
            assert service.import_registrations(db.session, exam, meanwhile, "test", clock())
        with write_transaction(db.session):
            assert not service.import_registrations(db.session, exam, checked, "test", clock())
    assert [str(p) for p in checked.problems] == ["名单.csv 第3行 证件号码：该证件号码已在本场次报名（李秀英）"]
    assert [r.name for r in stored(app, Registrant)] == ["李秀英"]
