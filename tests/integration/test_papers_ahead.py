"""Papers assembled ahead of the start, backup papers, and a leaked item replaced during the sitting."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from item_bank.blueprint import item_ids
from server.audit import AuditEntry
from server.bank.models import Item
from server.cli import main
from server.exam import assembly
from server.exam.models import Answer, AnswerLog, Attempt, ExamSession, PreparedPaper
from server.exam.sweeper import sweep
from server.extensions import db
from tests.helpers import Staff, correct_response, prepared, replaceable_item, stored, stored_papers


def jikao(app, *args):
    custodians = app.site.custodians
    env = {"JIKAO_CUSTODIAN_A": custodians["custodian_a"], "JIKAO_CUSTODIAN_B": custodians["custodian_b"]}
    return CliRunner().invoke(main, [*args, "--data", app.config["DATA_DIR"]], env=env)


def test_the_demo_sitting_is_assembled_ahead_and_each_seat_gets_its_own_paper(make_candidate, proctor, app):
    seats = prepared(app, "seat")
    backups = prepared(app, "backup")
    assert len(seats) == 30 and len(backups) == 3  # one backup per ten seats, at least three
    with app.app_context():
        report = db.session.scalar(select(ExamSession)).assembly_report
    [room] = report["rooms"]
    assert room["seats"] == 30 and room["neighbour_pairs"] == 49  # 5 rows × 6 columns: 5·5 + 4·6
    assert 0 < room["overlap_worst"] < 1 and room["overlap_mean"] <= room["overlap_worst"] + 1e-9
    for ticket in app.site.tickets[:2]:
        make_candidate(ticket).login()
        assert proctor.confirm(ticket)["ok"]
    first, second = stored_papers(app)
    by_label = {row.label: (row, paper) for row, paper in prepared(app, "seat")}
    assert first == by_label["r1s01"][1] and second == by_label["r1s02"][1]
    assert by_label["r1s01"][0].attempt_id is not None and by_label["r1s03"][0].attempt_id is None
    assert len(item_ids(first) & item_ids(second)) / 60 <= room["overlap_worst"]


def test_assembly_is_reported_by_the_cli_and_drawn_again_bit_for_bit(app):
    again = jikao(app, "assemble", "--session", "1", "--backups", "4")
    assert again.exit_code == 0, again.output
    assert "30 份座位试卷和 4 份备用卷" in again.output and "第01考场：30 个座位，相邻座位重题率 平均" in again.output
    verified = jikao(app, "assemble", "--session", "1", "--verify")
    assert verified.exit_code == 0, verified.output
    assert "30 份座位试卷与按记录的种子重新生成的完全一致" in verified.output
    assert len(prepared(app, "backup")) == 4
    [entry] = stored(app, AuditEntry, action="papers.verify")
    assert entry.target == "session:1" and entry.detail == {"differing": []}


def test_an_audit_finds_a_paper_that_differs_from_its_seed(app):
    from server.db import write_transaction

    with app.app_context(), write_transaction(db.session):
        exam = db.session.scalar(select(ExamSession))
        row = db.session.scalar(select(PreparedPaper).where(PreparedPaper.label == "r1s05"))
        paper = assembly.open_prepared(exam, row)
        paper["sections"][0]["items"].reverse()  # what a tampering insider might do
        row.sealed = assembly._seal(exam, "seat", "r1s05", paper)
    refused = jikao(app, "assemble", "--session", "1", "--verify")
    assert refused.exit_code == 1 and "r1s05" in refused.output


def test_no_reassembly_once_a_candidate_holds_a_paper(candidate, proctor, app):
    candidate.login()
    assert proctor.confirm(candidate.ticket)["ok"]
    before = [(row.label, paper) for row, paper in prepared(app)]
    admin = Staff(app, "kaowu")
    response = admin.post("/api/admin/sittings/1/prepare", {"backups": 5})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "本场次已有 1 名考生确认入场并领取试卷，不能重新组卷。"
    assert [(row.label, paper) for row, paper in prepared(app)] == before


def start_and_answer(candidate, proctor, app):
    candidate.login().connect()
    assert proctor.confirm(candidate.ticket)["ok"]
    assert proctor.start()["ok"]
    return candidate.state()


def test_a_leaked_item_gives_the_candidates_holding_it_a_backup_paper(make_candidate, candidate, proctor, app, clock):
    state = start_and_answer(candidate, proctor, app)
    paper = {item["id"] for section in state["paper"]["sections"] for item in section["items"]}
    [(b01_row, b01)] = [(row, p) for row, p in prepared(app, "backup") if row.label == "B01"]
    backup = item_ids(b01)
    leaked = min(paper - backup)  # not in the first backup, so that one is handed out
    kept, lost = min((paper & backup) - {leaked}), max(paper - backup - {leaked})
    clock.advance(minutes=10)
    for seq, item_id in enumerate((leaked, kept, lost), start=1):
        assert candidate.answer(item_id, correct_response(app, item_id), seq)["ok"]
    candidate.received()
    bank = Staff(app, "tiku")
    assert bank.post(f"/api/bank/items/{leaked}/leak", {"reason": "考前在网上出现"}).get_json()["ok"]
    code = stored(app, Item, id=leaked)[0].code

    with app.app_context():
        sweep(clock())  # the server notices within a second; here the test runs the pass itself
    pushed = [m["args"][0] for m in candidate.received() if m["name"] == "state"]
    assert pushed and pushed[-1]["paper_no"] == 2 and pushed[-1]["paper_replaced"] is True
    new_ids = {item["id"] for section in pushed[-1]["paper"]["sections"] for item in section["items"]}
    assert new_ids == backup and leaked not in new_ids
    assert pushed[-1]["answers"] == {str(kept): correct_response(app, kept)}  # kept where the new paper has it
    assert {a.item_id for a in stored(app, Answer)} == {kept}
    assert {a.item_id for a in stored(app, AnswerLog)} == {leaked, kept, lost}  # the trail keeps everything
    [old] = [row for row, _ in prepared(app, "replaced")]
    assert old.void_reason == f"试卷含泄密试题 {code}" and old.label.endswith("p1")
    assert [row.attempt_id for row, _ in prepared(app, "backup") if row.label == "B01"] == [old.attempt_id]
    [entry] = stored(app, AuditEntry, action="paper.replace")
    assert entry.detail["backup"] == "B01" and entry.detail["kept"] == 1 and entry.detail["dropped"] == 2

    refused = candidate.answer(leaked, correct_response(app, leaked), 10)
    assert refused["error"]["code"] == "not_in_paper"
    fresh = min(new_ids - {kept})
    assert candidate.answer(fresh, correct_response(app, fresh), 11)["ok"]
    with app.app_context():
        sweep(clock())  # nothing more leaked: nobody's paper changes again
    assert stored(app, Attempt)[0].paper_no == 2
    # Seats not yet handed out lose their prepared paper if it holds the leaked item; a later seat never gets it.
    for row, opened in prepared(app, "seat"):
        assert (row.void_reason is not None) == (leaked in item_ids(opened)) or row.attempt_id is not None
    for ticket in app.site.tickets[1:6]:
        make_candidate(ticket).login()
        assert proctor.confirm(ticket)["ok"]
    assert all(leaked not in item_ids(p) for p in stored_papers(app))


def test_when_every_backup_is_used_another_is_drawn_the_same_way(candidate, proctor, app, clock):
    admin = Staff(app, "kaowu")
    reply = admin.post("/api/admin/sittings/1/prepare", {"backups": 0}).get_json()
    assert reply["ok"] and reply["sitting"]["report"]["backups"] == 0
    state = start_and_answer(candidate, proctor, app)
    leaked = replaceable_item(app, state["paper"])  # not on every paper: a new backup can be drawn without it
    assert Staff(app, "tiku").post(f"/api/bank/items/{leaked}/leak", {"reason": "泄露"}).get_json()["ok"]
    with app.app_context():
        sweep(clock())
    [(row, backup)] = prepared(app, "backup")
    assert row.label == "B01" and row.attempt_id is not None and leaked not in item_ids(backup)
    assert stored_papers(app) == [backup]


def test_an_item_on_every_paper_leaks_and_no_backup_can_replace_it(make_candidate, candidate, proctor, app, clock):
    with app.app_context():
        report = db.session.scalar(select(ExamSession)).assembly_report
    assert report["warnings"]  # the demo bank fills some cells exactly: the assembly says so ahead
    state = start_and_answer(candidate, proctor, app)
    everywhere = set.intersection(*(item_ids(p) for _, p in prepared(app)))
    leaked = min(everywhere & {i["id"] for s in state["paper"]["sections"] for i in s["items"]})
    proctor.received()
    assert Staff(app, "tiku").post(f"/api/bank/items/{leaked}/leak", {"reason": "泄露"}).get_json()["ok"]
    with app.app_context():
        sweep(clock())  # no failure: the candidate keeps the paper and the people in charge are told
    assert stored(app, Attempt)[0].paper_no == 1
    lines = [e["args"][0]["text"] for e in proctor.received() if e["name"] == "feed"]
    assert any("没有可用的备用卷" in line and line.startswith("01号 张建华") for line in lines)
    [failed] = stored(app, AuditEntry, action="paper.replace_failed")
    assert "题库可用 0 题" in failed.detail["reason"]
    assert all(row.void_reason for row, _ in prepared(app, "backup"))  # every backup holds the item


def test_an_audit_also_finds_a_tampered_backup_paper(app):
    from server.db import write_transaction

    with app.app_context(), write_transaction(db.session):
        exam = db.session.scalar(select(ExamSession))
        row = db.session.scalar(select(PreparedPaper).where(PreparedPaper.label == "B02"))
        paper = assembly.open_prepared(exam, row)
        paper["sections"][1]["items"].reverse()
        row.sealed = assembly._seal(exam, "backup", "B02", paper)
    refused = jikao(app, "assemble", "--session", "1", "--verify")
    assert refused.exit_code == 1 and "B02" in refused.output
