"""Closing a sitting (issue 8): rooms closed when their time is over, the results (成绩汇总表), the
publication gate (before it nobody but the exam admin sees a score; who and when it was published), and the
signed archive, verified, and refused once tampered with."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from io import BytesIO

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import load_workbook
from pdfminer.high_level import extract_text

from server.audit import AuditEntry
from server.cli import main
from server.exam.models import Candidate, ExamSession, RoomClosing
from server.sittings import archive
from tests.helpers import Staff, correct_response, stored, wrong_response


@pytest.fixture
def site_options():
    return {"submit_after_s": 0}


def sat(app, make_candidate, proctor):
    """Three candidates sit the exam: one answers 30 single-choice items right (60 points) and submits, one
    answers a few wrong and runs out of time, one has their score voided; the other 27 never come."""
    good, slow, cheat = (make_candidate(t) for t in app.site.tickets[:3])
    for candidate in (good, slow, cheat):
        candidate.login().connect()
        assert proctor.confirm(candidate.ticket)["ok"]
    assert proctor.start()["ok"]
    singles = good.state()["paper"]["sections"][0]["items"]
    for seq, item in enumerate(singles, start=1):
        assert good.answer(item["id"], correct_response(app, item["id"]), seq)["ok"]
    assert good.submit()["ok"]
    first = slow.paper_items()[0]["id"]
    assert slow.answer(first, wrong_response(app, first), 1)["ok"]
    cheat_id = proctor.seat(cheat.ticket)["candidate_id"]
    assert proctor.emit("void_score", {"candidate_id": cheat_id, "what": "夹带纸条"})["ok"]
    return good, slow, cheat


def results_rows(admin: Staff, sitting: int) -> dict[str, dict]:
    body = admin.get(f"/api/admin/sittings/{sitting}/results.csv").get_data()
    assert body.startswith("\ufeff".encode())  # Excel on a Chinese Windows opens UTF-8 with its mark
    return {row["准考证号"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}


def test_a_room_closes_only_when_its_time_is_over_and_keeps_its_record(app, make_candidate, proctor, clock):
    sat(app, make_candidate, proctor)
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    early = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()
    assert early["rooms"] == [{"room": "第01考场", "closed": False, "why": "尚有 2 名考生在考试中（王秀英、李志强）"}]
    assert stored(app, RoomClosing) == []
    clock.advance(minutes=91)
    done = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()
    assert done["rooms"] == [{"room": "第01考场", "closed": True, "why": "已封场：收卷 2 人，记缺考 27 人"}]
    assert done["closing"]["counts"] == {"已交卷": 2, "成绩无效": 1, "缺考": 27}
    [kept] = stored(app, RoomClosing)
    assert kept.record["status"] == "考试已结束" and kept.closed_by.startswith("account:")
    assert len(kept.record["absentees"]) == 27
    assert len([c for c in stored(app, Candidate) if c.absent_at is not None]) == 27
    again = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()
    assert again["rooms"][0]["why"] == "已封场"
    assert [e.detail for e in stored(app, AuditEntry, action="room.close")] == [{"ended": 2, "absent": 27}]


def test_the_results_list_every_candidate_with_score_verdict_and_status(app, make_candidate, proctor, clock):
    good, slow, cheat = sat(app, make_candidate, proctor)
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    before = results_rows(admin, sitting)
    assert before[good.ticket]["状态"] == "已交卷" and before[slow.ticket]["状态"] == "考试未结束"
    clock.advance(minutes=91)
    admin.post(f"/api/admin/sittings/{sitting}/close", {})
    rows = results_rows(admin, sitting)
    assert len(rows) == 30
    assert (rows[good.ticket]["成绩"], rows[good.ticket]["是否合格"], rows[good.ticket]["状态"]) == (
        "60.0",
        "合格",
        "已交卷",
    )
    assert (rows[slow.ticket]["成绩"], rows[slow.ticket]["是否合格"]) == ("0.0", "不合格")
    assert (rows[cheat.ticket]["成绩"], rows[cheat.ticket]["状态"]) == ("", "成绩无效")
    assert "夹带纸条" in rows[cheat.ticket]["说明"]
    absent = rows[app.site.tickets[9]]
    assert (absent["状态"], absent["成绩"], absent["说明"]) == ("缺考", "", "未入场")

    workbook = load_workbook(BytesIO(admin.get(f"/api/admin/sittings/{sitting}/results.xlsx").get_data()))
    sheet = workbook["成绩汇总表"]
    assert sheet["A1"].value.endswith("成绩汇总表")
    assert sheet["A3"].value.startswith("成绩尚未公布")
    assert [c.value for c in sheet[4]] == [
        "准考证号",
        "姓名",
        "证件号码",
        "考场",
        "座号",
        "成绩",
        "是否合格",
        "状态",
        "说明",
    ]
    assert sheet["A5"].value == good.ticket and sheet["A5"].number_format == "@"
    assert sheet["F5"].value == 60.0 and sheet["G5"].value == "合格"


def test_nobody_but_the_exam_admin_sees_a_score_before_publication(app, make_candidate, proctor, clock):
    good, _, cheat = sat(app, make_candidate, proctor)
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    assert "score" not in good.state()  # submitted, but the sitting does not show scores
    [person] = stored(app, Candidate, ticket=good.ticket)
    query = {"ticket": good.ticket, "id_number": person.id_number}
    lookup = good.post("/api/candidate/result", query).get_json()
    assert lookup == {"ok": True, "published": False, "sitting": stored(app, ExamSession)[0].name,
                      "message": "成绩尚未公布，请在公布后查询。"}  # fmt: skip
    guess = good.post("/api/candidate/result", {**query, "id_number": "110105194912310021"}).get_json()
    assert guess == lookup  # before publication a guessed ID number learns nothing
    for path in ("results.csv", "results.xlsx", "closing", "archive.zip"):
        assert proctor.http.get(f"/api/admin/sittings/{sitting}/{path}").status_code == 403
    assert proctor.http.post(f"/api/admin/sittings/{sitting}/publish").status_code in (400, 403)
    refused = admin.post(f"/api/admin/sittings/{sitting}/publish", {})
    assert refused.get_json()["error"]["message"] == "尚有考场未封场（第01考场），不能公布成绩。"

    clock.advance(minutes=91)
    admin.post(f"/api/admin/sittings/{sitting}/close", {})
    published = admin.post(f"/api/admin/sittings/{sitting}/publish", {}).get_json()
    assert published["closing"]["publication"] == "成绩已于 2026-11-21 10:31 公布（刘芳（kaowu））"
    [entry] = stored(app, AuditEntry, action="results.publish")
    assert entry.at == clock() and entry.actor.startswith("account:")
    wrong = good.post("/api/candidate/result", {**query, "id_number": "110105194912310021"})
    assert wrong.status_code == 400
    assert wrong.get_json()["error"]["message"] == "准考证号与证件号码不符，请核对后重新输入。"
    after = good.post("/api/candidate/result", query).get_json()
    assert (after["published"], after["score"], after["verdict"], after["status"]) == (True, 60.0, "合格", "已交卷")
    assert good.state()["score"] == 60.0  # and the exam client's last screen shows it now
    [voided] = stored(app, Candidate, ticket=cheat.ticket)
    void = good.post("/api/candidate/result", {"ticket": cheat.ticket, "id_number": voided.id_number}).get_json()
    assert (void["score"], void["status"]) == (None, "成绩无效") and "夹带纸条" in void["reason"]
    assert "score" not in cheat.state()  # a void score is never shown
    twice = admin.post(f"/api/admin/sittings/{sitting}/publish", {})
    assert twice.status_code == 400 and twice.get_json()["error"]["code"] == "already_published"


def closed_sitting(app, make_candidate, proctor, clock) -> tuple[Staff, int, tuple]:
    people = sat(app, make_candidate, proctor)
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    clock.advance(minutes=91)
    admin.post(f"/api/admin/sittings/{sitting}/close", {})
    return admin, sitting, people


def rezip(data: bytes, change) -> bytes:
    """The archive with its files as ``change`` leaves them (a dict name -> bytes)."""
    with zipfile.ZipFile(BytesIO(data)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    change(files)
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, body in files.items():
            target.writestr(name, body)
    return out.getvalue()


def test_the_archive_holds_the_sitting_in_open_formats_and_verifies(app, make_candidate, proctor, clock, tmp_path):
    admin, sitting, (good, slow, _) = closed_sitting(app, make_candidate, proctor, clock)
    response = admin.get(f"/api/admin/sittings/{sitting}/archive.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    found = archive.verify(data)
    assert found.signer == "本考点" and found.files >= 10
    with zipfile.ZipFile(BytesIO(data)) as zipped:
        names = set(zipped.namelist())
        papers = json.loads(zipped.read("papers.json"))
        answers = {a["ticket"]: a for a in json.loads(zipped.read("answers.json"))}
        clock_events = json.loads(zipped.read("clock.json"))
        results = json.loads(zipped.read("results.json"))
        room_pdf = zipped.read("rooms/01-record.pdf")
        results_pdf = zipped.read("results.pdf")
    assert {"manifest.json", "manifest.sig", "sitting.json", "ledger.json", "README.txt"} <= names
    delivered = {p["ticket"]: p for p in papers["papers"]}
    assert set(delivered) == {good.ticket, slow.ticket, app.site.tickets[2]}
    first = delivered[good.ticket]["as_shown"]["sections"][0]["items"][0]
    assert papers["items"][str(first["id"])]["stem"] == first["stem"]  # the item as the candidate read it
    assert len(answers[good.ticket]["log"]) == 30 and answers[good.ticket]["log"][0]["saved_at"].startswith(
        "2026-11-21"
    )
    assert answers[slow.ticket]["submit_reason"] == "time_up"
    assert [e["kind"] for e in clock_events] == ["start"]
    assert {r["ticket"]: r["status"] for r in results["results"]}[good.ticket] == "已交卷"
    assert "考场情况记录表" in extract_text(BytesIO(room_pdf)).replace(" ", "")
    assert good.ticket in extract_text(BytesIO(results_pdf))
    [made] = stored(app, AuditEntry, action="archive.create")
    assert len(made.detail["sha256"]) == 64

    # The CLI checks a file with nothing but the file; insisting on the right key passes too.
    path = tmp_path / "归档.zip"
    path.write_bytes(data)
    checked = CliRunner().invoke(main, ["archive", "verify", str(path), "--key", found.public_key])
    assert checked.exit_code == 0 and "校验通过" in checked.output and found.fingerprint in checked.output


def test_a_tampered_archive_is_refused_saying_what_was_changed(app, make_candidate, proctor, clock, tmp_path):
    admin, sitting, (good, _, _) = closed_sitting(app, make_candidate, proctor, clock)
    data = admin.get(f"/api/admin/sittings/{sitting}/archive.zip").get_data()
    genuine = archive.verify(data)

    def raise_score(files):
        answers = json.loads(files["answers.json"])
        for a in answers:
            a["score"] = 100.0
        files["answers.json"] = json.dumps(answers, ensure_ascii=False).encode()

    def edit_manifest(files):
        files["manifest.json"] = files["manifest.json"].replace(b'"created_by"', b'"created_by" ', 1)

    def add_file(files):
        files["extra.json"] = b"{}"

    def drop_file(files):
        del files["clock.json"]

    cases = [
        (raise_score, "文件 answers.json 与签名时不一致：归档在签名后被改动过。"),
        (edit_manifest, "签名无效：签名清单（manifest.json）在签名后被改动过。"),
        (add_file, "多出未签名的文件 extra.json：归档在签名后被改动过。"),
        (drop_file, "文件 clock.json 缺失：归档在签名后被改动过。"),
    ]
    for change, message in cases:
        with pytest.raises(archive.ArchiveError) as refused:
            archive.verify(rezip(data, change))
        assert refused.value.message == message, change.__name__

    # Someone changes a score and signs the whole again with a key of their own: the signature is sound, but
    # the signer is not the test centre's, which the recorded key shows.
    def resign(files):
        raise_score(files)
        manifest = json.loads(files["manifest.json"])
        import hashlib

        manifest["files"]["answers.json"] = hashlib.sha256(files["answers.json"]).hexdigest()
        forger = Ed25519PrivateKey.generate()
        manifest["signer"]["public_key"] = base64.b64encode(forger.public_key().public_bytes_raw()).decode()
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
        files["manifest.sig"] = base64.b64encode(forger.sign(files["manifest.json"]))

    forged = rezip(data, resign)
    assert archive.verify(forged).fingerprint != genuine.fingerprint
    with pytest.raises(archive.ArchiveError) as refused:
        archive.verify(forged, genuine.public_key)
    assert refused.value.message.startswith("签名者不是指定的密钥")
    path = tmp_path / "forged.zip"
    path.write_bytes(forged)
    cli = CliRunner().invoke(main, ["archive", "verify", str(path), "--key", genuine.public_key])
    assert cli.exit_code == 1 and "forged.zip：校验未通过。签名者不是指定的密钥" in cli.output
    path.write_bytes(b"not a zip")
    assert "这不是完整的机考场次归档文件" in CliRunner().invoke(main, ["archive", "verify", str(path)]).output


def test_the_cli_closes_exports_publishes_and_archives(app, make_candidate, proctor, clock, tmp_path, monkeypatch):
    sat(app, make_candidate, proctor)
    sitting = str(stored(app, ExamSession)[0].id)
    data = ["--data", app.config["DATA_DIR"]]
    for holder, variable in (("custodian_a", "JIKAO_CUSTODIAN_A"), ("custodian_b", "JIKAO_CUSTODIAN_B")):
        monkeypatch.setenv(variable, app.site.custodians[holder])  # closing scores what it ends: the bank opens
    run = CliRunner().invoke
    # The CLI runs on the real clock, by which this sitting (on the tests' clock) is long over.
    closed = run(main, ["sitting", "close", sitting, *data])
    assert closed.exit_code == 0 and "第01考场：已封场" in closed.output, closed.output
    out = tmp_path / "成绩.xlsx"
    exported = run(main, ["sitting", "results", sitting, "--out", str(out), *data])
    assert exported.exit_code == 0 and "（30 人）；成绩尚未公布" in exported.output
    assert load_workbook(out)["成绩汇总表"]["A5"].value == app.site.tickets[0]
    published = run(main, ["sitting", "publish", sitting, "--by", "刘芳", *data])
    assert published.exit_code == 0 and published.output.startswith("成绩已于") and "（刘芳）" in published.output
    zipped = tmp_path / "归档.zip"
    made = run(main, ["archive", "create", sitting, "--out", str(zipped), *data])
    assert made.exit_code == 0, made.output
    assert archive.verify(zipped.read_bytes()).sitting == stored(app, ExamSession)[0].name
    assert "published_at" in json.loads(zipfile.ZipFile(zipped).read("sitting.json"))


def test_a_room_where_everyone_present_has_submitted_closes_once_nobody_may_still_come_in(
    app, make_candidate, proctor, clock
):
    only = make_candidate(app.site.tickets[0])
    only.login().connect()
    proctor.confirm(only.ticket)
    proctor.start()
    assert only.submit()["ok"]
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    early = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()["rooms"][0]
    assert (early["closed"], early["why"]) == (False, "开考 30 分钟内迟到的考生仍可入场，09:30 后才能封场")
    clock.advance(minutes=30)
    done = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()["rooms"][0]
    assert (done["closed"], done["why"]) == (True, "已封场：收卷 0 人，记缺考 29 人")


def test_a_closed_room_is_fixed_and_its_kept_record_is_the_one_printed(app, make_candidate, proctor, clock):
    admin, sitting, (good, _, cheat) = closed_sitting(app, make_candidate, proctor, clock)
    late_void = proctor.emit("void_score", {"candidate_id": proctor.seat(good.ticket)["candidate_id"], "what": "补记"})
    assert late_void["error"]["message"] == "本考场已封场，考试记录和成绩已定，不能再操作。"
    [kept] = stored(app, RoomClosing)
    clock.advance(hours=2)
    page = proctor.http.get(f"/proctor/rooms/{kept.room_id}/record").get_data(as_text=True)
    assert kept.record["printed_at"] in page  # the record as closed, not as it would be drawn now


def test_a_latecomer_waiting_for_the_proctor_keeps_the_room_open(app, make_candidate, proctor, clock):
    first, late = make_candidate(app.site.tickets[0]), make_candidate(app.site.tickets[1])
    first.login().connect()
    proctor.confirm(first.ticket)
    proctor.start()
    assert first.submit()["ok"]
    late.login()  # within the late-entry time, not yet confirmed
    admin = Staff(app, "kaowu")
    sitting = stored(app, ExamSession)[0].id
    clock.advance(minutes=29)
    early = admin.post(f"/api/admin/sittings/{sitting}/close", {}).get_json()["rooms"][0]
    assert early["closed"] is False and early["why"].startswith("开考 30 分钟内迟到的考生仍可入场")


def test_an_archive_with_a_file_twice_or_an_unsafe_name_is_refused(app, make_candidate, proctor, clock):
    admin, sitting, _ = closed_sitting(app, make_candidate, proctor, clock)
    data = admin.get(f"/api/admin/sittings/{sitting}/archive.zip").get_data()
    doubled = BytesIO(data)
    with zipfile.ZipFile(doubled, "a") as zipped, pytest.warns(UserWarning, match="Duplicate name"):
        zipped.writestr("answers.json", b"[]")
    with pytest.raises(archive.ArchiveError) as refused:
        archive.verify(doubled.getvalue())
    assert refused.value.message == "文件 answers.json 在归档中出现了不止一次：归档在签名后被改动过。"
    with pytest.raises(archive.ArchiveError) as refused:
        archive.verify(rezip(data, lambda files: files.update({"../evil.sh": b"rm -rf /"})))
    assert refused.value.message == "归档中有不安全的文件名 ../evil.sh：归档在签名后被改动过。"
