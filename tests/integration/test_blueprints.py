"""Sittings draw their papers from versioned blueprints; papers can be drawn again for audit."""

import json

from click.testing import CliRunner
from sqlalchemy import select

from item_bank.blueprint import PoolItem, assemble, check_feasible, parse_blueprint, seat_seed
from server.bank.models import Item
from server.cli import main
from server.exam.models import ExamSession
from server.extensions import db
from tests.helpers import stored_papers


def test_a_confirmed_candidate_gets_a_paper_that_satisfies_the_blueprint_exactly(candidate, proctor, app):
    candidate.login().connect()
    assert proctor.confirm(candidate.ticket)["ok"]
    [paper] = stored_papers(app)
    with app.app_context():
        exam = db.session.scalar(select(ExamSession))
        blueprint = parse_blueprint(exam.blueprint.data)
        meta = {row.id: row for row in db.session.scalars(select(Item))}
    paper_ids = [e["item_id"] for s in paper["sections"] for e in s["items"]]
    assert len(paper_ids) == len(set(paper_ids)) == 60
    chosen = [PoolItem(i, meta[i].type, meta[i].knowledge_point, meta[i].difficulty) for i in paper_ids]
    for cell in blueprint.cells:
        assert sum(1 for item in chosen if cell.matches(item)) == cell.count
    assert paper["blueprint_version"] == 1 and len(paper["bank_version"]) == 16


def test_a_paper_is_drawn_again_bit_for_bit_from_what_it_records(candidate, proctor, app):
    from server.bank.service import active_pool

    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    [paper] = stored_papers(app)
    with app.app_context():
        exam = db.session.scalar(select(ExamSession))
        from item_bank.blueprint import pool_item

        pool = [pool_item(i, item) for i, item in active_pool(db.session, exam.occupation_code, exam.level).items()]
        blueprint = parse_blueprint(exam.blueprint.data)
        from server.exam.assembly import seat_label
        from server.exam.models import Candidate

        seat = db.session.scalar(select(Candidate).where(Candidate.ticket == candidate.ticket))
        seed = seat_seed(exam.seed, seat_label(seat.room_id, seat.seat_no))
        again = assemble(blueprint, check_feasible(blueprint, pool), seed)
    again["bank_version"], again["seat"] = paper["bank_version"], paper["seat"]
    assert again == paper  # the first seat of the room is drawn first, so no neighbour shaped it


def test_neighbours_get_different_papers(make_candidate, proctor, app):
    left, right = make_candidate(app.site.tickets[0]).login(), make_candidate(app.site.tickets[1]).login()
    assert proctor.confirm(left.ticket)["ok"] and proctor.confirm(right.ticket)["ok"]
    first, second = stored_papers(app)
    ids = [{e["item_id"] for s in p["sections"] for e in s["items"]} for p in (first, second)]
    assert len(ids[0] & ids[1]) < 60  # as different as the small demo bank allows


def test_retired_and_leaked_items_never_reach_a_paper(make_candidate, proctor, app):
    from server.bank import lifecycle
    from server.db import write_transaction

    with app.app_context(), write_transaction(db.session):
        rows = db.session.scalars(select(Item).where(Item.type == "true_false").order_by(Item.id)).all()
        excluded = {rows[0].id, rows[1].id}
        lifecycle.mark_leaked(db.session, rows[0], "test", app.config["CLOCK"](), "网上出现")
        lifecycle.transition(db.session, rows[1], "retire", "test", app.config["CLOCK"](), "过时")
    for ticket in app.site.tickets[:8]:
        make_candidate(ticket).login()
        assert proctor.confirm(ticket)["ok"]
    for paper in stored_papers(app):
        assert not excluded & {e["item_id"] for s in paper["sections"] for e in s["items"]}


def test_blueprints_are_suggested_checked_and_versioned_through_the_cli(app, tmp_path):
    custodians = app.site.custodians
    env = {"JIKAO_CUSTODIAN_A": custodians["custodian_a"], "JIKAO_CUSTODIAN_B": custodians["custodian_b"]}
    draft = tmp_path / "蓝图.json"
    data = app.config["DATA_DIR"]
    suggested = CliRunner().invoke(
        main,
        [
            "blueprint",
            "suggest",
            str(draft),
            "--occupation",
            "6-28-01-14",
            "--level",
            "4",
            "--section",
            "single:40:1.5",
            "--section",
            "true_false:20:2",
            "--data",
            data,
        ],
        env=env,
    )
    assert suggested.exit_code == 0, suggested.output
    added = CliRunner().invoke(main, ["blueprint", "add", str(draft), "--data", data], env=env)
    assert added.exit_code == 0, added.output
    assert "第2版" in added.output and "单选题 40 题 × 1.5 分" in added.output
    plan = json.loads(draft.read_text(encoding="utf-8"))
    plan["cells"][0]["count"] += 100
    draft.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    refused = CliRunner().invoke(main, ["blueprint", "add", str(draft), "--data", data], env=env)
    assert refused.exit_code == 1 and "细目合计" in refused.output
    too_many = CliRunner().invoke(
        main,
        [
            "blueprint",
            "suggest",
            str(tmp_path / "x.json"),
            "--occupation",
            "6-28-01-14",
            "--level",
            "4",
            "--section",
            "single:100:1",
            "--data",
            data,
        ],
        env=env,
    )
    assert too_many.exit_code == 1 and "单选题：需要 100 题，题库可用 60 题" in too_many.output
    shown = CliRunner().invoke(
        main, ["blueprint", "show", "--occupation", "6-28-01-14", "--level", "4", "--data", data], env=env
    )
    assert "第2版" in shown.output and "难度分布" in shown.output


def test_papers_are_stored_sealed_with_the_sittings_key(candidate, proctor, app):
    import sqlite3
    from pathlib import Path

    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    [paper] = stored_papers(app)
    with app.app_context():
        db.engine.dispose()
    with sqlite3.connect(Path(app.config["DATA_DIR"]) / "jikao.db") as raw:
        clear, sealed = raw.execute("SELECT paper, paper_sealed FROM attempt").fetchone()
        wrapped = raw.execute("SELECT sealed_key FROM exam_session").fetchone()[0]
    assert clear is None and sealed and wrapped  # which items, in which order: not readable at rest
    assert str(paper["sections"][0]["items"][0]["item_id"]).encode() + b"," not in sealed


def test_a_restarted_server_opens_the_papers_it_sealed(candidate, proctor, app):
    from server.app import create_app
    from server.bank.keys import unlock

    candidate.login().connect()
    proctor.confirm(candidate.ticket)
    [before] = stored_papers(app)
    restarted = create_app({"DATA_DIR": app.config["DATA_DIR"]})  # a new process: no key in memory
    with restarted.app_context():
        custodians = app.site.custodians
        unlock(db.session, {"custodian_a": custodians["custodian_a"], "custodian_b": custodians["custodian_b"]})
    assert stored_papers(restarted) == [before]
    with restarted.app_context():
        db.engine.dispose()


def test_jikao_assemble_simulate_reports_on_the_newest_blueprint(app):
    result = CliRunner().invoke(
        main,
        [
            "assemble",
            "--simulate",
            "60",
            "--occupation",
            "6-28-01-14",
            "--level",
            "4",
            "--data",
            app.config["DATA_DIR"],
        ],
    )
    assert result.exit_code == 0, result.output
    for line in [
        "模拟组卷：蓝图第1版，60 份试卷",
        "题库覆盖率：",
        "试题曝光率：",
        "试卷平均难度：",
        "相邻座位重题率：",
        "各卷是否平行（难度标准差 ≤ 0.1）：是",
    ]:
        assert line in result.output
