"""The exam admin's HTTP API (考务管理): blueprints with their versions, the simulation report, and each
sitting's papers: which blueprint it uses, assembling its rooms and backup papers ahead of the start.

Exam admins only. Blueprints and simulations need only the items' metadata; assembling opens the bank, so
it needs this server's bank open (both custodians at start).
"""

from __future__ import annotations

import io
import math
from collections import Counter

from flask import Blueprint, jsonify, request
from sqlalchemy import func, select

from item_bank import ITEM_TYPES
from item_bank.blueprint import BlueprintError, check_feasible, parse_blueprint, simulate, spareless, suggest
from server import audit
from server.auth.models import Account
from server.auth.views import role_required
from server.bank import keys
from server.bank.models import Item
from server.db import write_transaction
from server.errors import ExamError
from server.exam import assembly, blueprints
from server.exam.models import LEVEL_NAMES, ExamSession, PaperBlueprint, PreparedPaper, Room
from server.extensions import db, run_blocking
from server.sittings import service as setup
from server.sittings.models import Registrant
from server.sittings.registrations import write_registration_template
from server.timeutil import iso, now
from server.web import int_of, json_body, text_of, uploaded_file

bp = Blueprint("admin_api", __name__, url_prefix="/api/admin")
STATUS = {"forbidden": 403, "unknown_blueprint": 404, "unknown_session": 404, "bank_locked": 409}
MAX_SIMULATED = 10_000
MAX_REGISTRATION_MIB = 10  # papers per simulation from this screen (the CLI allows more)

exam_admin = role_required("exam_admin", "只有考务管理员可以管理组卷蓝图和试卷。")


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return jsonify(ok=False, error=exc.as_dict()), STATUS.get(exc.code, 400)


def _actor(account) -> str:
    return f"account:{account.id}"


def blueprint_view(row: PaperBlueprint) -> dict:
    parsed = parse_blueprint(row.data)
    return {
        "id": row.id,
        "occupation_code": row.occupation_code,
        "level": row.level,
        "level_name": LEVEL_NAMES.get(row.level, str(row.level)),
        "version": row.version,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "size": parsed.size,
        "data": row.data,
        "difficulty": {str(d): n for d, n in parsed.difficulty_distribution().items()},
        "summary": blueprints.describe(parsed),
    }


@bp.get("/blueprints")
@exam_admin
def list_blueprints(account):
    """Every blueprint version, newest first, and the banks (occupation and level) with usable items."""
    rows = db.session.scalars(
        select(PaperBlueprint).order_by(
            PaperBlueprint.occupation_code, PaperBlueprint.level, PaperBlueprint.version.desc()
        )
    )
    usable = db.session.execute(
        select(Item.occupation_code, Item.level, Item.type, func.count(Item.id))
        .where(Item.status == "active", Item.leaked.is_(False))
        .group_by(Item.occupation_code, Item.level, Item.type)
    ).all()
    banks: dict[tuple[str, int], dict] = {}
    for occupation, level, kind, count in usable:
        bank = banks.setdefault(
            (occupation, level),
            {"occupation_code": occupation, "level": level, "level_name": LEVEL_NAMES.get(level, str(level))},
        )
        bank.setdefault("types", {})[kind] = count
    return jsonify(
        ok=True,
        blueprints=[blueprint_view(row) for row in rows],
        banks=sorted(banks.values(), key=lambda b: (b["occupation_code"], b["level"])),
        types=[[t, k.label] for t, k in ITEM_TYPES.items()],
    )


@bp.post("/blueprints")
@exam_admin
def add_blueprint(account):
    """Keep an edited blueprint as the next version; refused with every problem if invalid or infeasible."""
    with write_transaction(db.session):
        row = blueprints.add_version(db.session, json_body(), _actor(account), now())
    return jsonify(ok=True, blueprint=blueprint_view(row))


@bp.post("/blueprints/check")
@exam_admin
def check_blueprint(account):
    """Validate a blueprint and check it against the bank without keeping it."""
    body = json_body()
    try:
        parsed = parse_blueprint(body)
    except BlueprintError as exc:
        raise ExamError("invalid_blueprint", "；".join(exc.problems)) from exc
    try:
        found = check_feasible(parsed, blueprints.pool_metadata(db.session, parsed.occupation_code, parsed.level))
    except BlueprintError as exc:
        raise ExamError("infeasible_blueprint", "；".join(exc.problems)) from exc
    return jsonify(ok=True, summary=blueprints.describe(parsed), warnings=spareless(found))


@bp.post("/blueprints/suggest")
@exam_admin
def suggest_blueprint(account):
    """A draft spread over the bank's knowledge points and difficulties, to edit before keeping it."""
    body = json_body()
    occupation, level = str(body.get("occupation_code", "")), int_of(body, "level", 1, 5)
    sections = body.get("sections")
    if not isinstance(sections, list) or not sections or not all(_section_ok(s) for s in sections):
        raise ExamError("invalid_payload", "各部分须写明题型、题数（正整数）和每题分值（正数）。")
    try:
        plan = suggest(blueprints.pool_metadata(db.session, occupation, level), sections, occupation, level)
        parse_blueprint(plan)
    except BlueprintError as exc:
        raise ExamError("invalid_blueprint", "；".join(exc.problems)) from exc
    return jsonify(ok=True, blueprint=plan)


def _section_ok(section) -> bool:
    if not isinstance(section, dict) or section.get("type") not in ITEM_TYPES:
        return False
    count, points = section.get("count"), section.get("points")
    return (
        isinstance(count, int)
        and not isinstance(count, bool)
        and 0 < count <= 1000
        and isinstance(points, int | float)
        and not isinstance(points, bool)
        and math.isfinite(points)
        and 0 < points <= 100
    )


@bp.post("/blueprints/<int:blueprint_id>/simulate")
@exam_admin
def simulate_blueprint(account, blueprint_id: int):
    """模拟组卷测试结果分析: N papers drawn as whole rooms, measured."""
    row = _blueprint(blueprint_id)
    body = json_body()
    papers = int_of(body, "papers", 1, MAX_SIMULATED, 1000)
    rows, cols = int_of(body, "rows", 1, 20, 5), int_of(body, "cols", 1, 20, 6)
    tolerance = body.get("tolerance", 0.1)
    if not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or not 0 < tolerance <= 5:
        raise ExamError("invalid_payload", "平行容差应为 0 到 5 之间的数。")
    seed = int_of(body, "seed", 0, 2**62, 2026)
    pool = blueprints.pool_metadata(db.session, row.occupation_code, row.level)
    try:
        # Seconds of pure computation: off the event loop, so live exams in progress are not held up.
        report = run_blocking(simulate, parse_blueprint(row.data), pool, papers, seed, rows, cols, float(tolerance))
    except BlueprintError as exc:
        raise ExamError("infeasible_blueprint", "；".join(exc.problems)) from exc
    with write_transaction(db.session):
        audit.record(
            db.session, now(), _actor(account), "assemble.simulate", f"blueprint:{row.id}", papers=papers, seed=seed
        )
    return jsonify(
        ok=True,
        report={
            "blueprint_version": row.version,
            "papers": report.papers,
            "rows": rows,
            "cols": cols,
            "pool_size": report.pool_size,
            "coverage": report.coverage,
            "exposure_mean": report.exposure_mean,
            "exposure_max": report.exposure_max,
            "most_exposed": [{"item_id": i, "code": _code(i), "share": s} for i, s in report.most_exposed],
            "difficulty_mean": report.difficulty_mean,
            "difficulty_spread": report.difficulty_spread,
            "overlap_mean": report.overlap_mean,
            "overlap_worst": report.overlap_worst,
            "tolerance": report.tolerance,
            "parallel": report.parallel,
        },
    )


@bp.get("/sittings")
@exam_admin
def sittings(account):
    """Each sitting: its blueprint (and whether a newer version exists), rooms, and prepared papers."""
    return jsonify(
        ok=True, bank_open=keys.is_open(), sittings=[_sitting_view(exam) for exam in setup.sittings(db.session)]
    )


@bp.post("/sittings")
@exam_admin
def create_sitting(account):
    """Set up a sitting (场次) with its timing policy; what the body leaves out takes the regulations' default."""
    body = json_body()
    policy = body.get("policy") or {}
    if not isinstance(policy, dict):
        raise ExamError("invalid_policy", "考试规则设置格式不正确。")
    with write_transaction(db.session):
        exam = setup.create_sitting(
            db.session,
            name=text_of(body, "name"),
            occupation_code=text_of(body, "occupation_code"),
            occupation_name=text_of(body, "occupation_name"),
            level=int_of(body, "level", 1, 5),
            start=setup.parse_local(text_of(body, "start")),
            duration_s=int_of(body, "duration_minutes", 1, 24 * 60) * 60,
            policy=policy,
            actor=_actor(account),
            now=now(),
        )
    return jsonify(ok=True, sitting=_sitting_view(exam)), 201


@bp.get("/sittings/policy")
@exam_admin
def policy_defaults(account):
    """The timing policy's settings with the regulations' defaults, for the new-sitting form."""
    return jsonify(
        ok=True,
        policy=[
            {"name": name, "default": rule.default, "low": rule.low, "high": rule.high, "words": rule.words}
            for name, rule in setup.POLICY.items()
        ],
    )


@bp.post("/sittings/<int:session_id>/registrations")
@exam_admin
def import_registrations(account, session_id: int):
    """An uploaded registration list (.xlsx/.csv, UTF-8 or GBK): every problem by row and column, all or none."""
    file_name, data = uploaded_file(MAX_REGISTRATION_MIB, "请选择要导入的报名名单文件。")
    dry_run = request.form.get("dry_run") == "1"
    exam = setup.sitting(db.session, session_id)
    result = setup.check_registrations(db.session, exam, file_name, data, now().date(), run=run_blocking)
    if result.ok and not dry_run:
        with write_transaction(db.session):
            setup.import_registrations(
                db.session, setup.sitting(db.session, session_id), result, _actor(account), now()
            )
    return jsonify(
        ok=result.ok,
        file=file_name,
        problems=[str(p) for p in result.problems],
        checked=len(result.people),
        imported=len(result.people) if result.ok and not dry_run else 0,
        dry_run=dry_run,
    )


@bp.get("/sittings/<int:session_id>/registrations")
@exam_admin
def registrations(account, session_id: int):
    """The sitting's registration list, in the order it was imported."""
    exam = setup.sitting(db.session, session_id)
    rows = db.session.scalars(select(Registrant).where(Registrant.session_id == exam.id).order_by(Registrant.id))
    return jsonify(
        ok=True,
        people=[
            {
                "name": r.name,
                "id_type": r.id_type,
                "id_number": r.id_number,
                "work_unit": r.work_unit,
                "photo": r.photo,
                "source": r.source,
            }
            for r in rows
        ],
    )


@bp.get("/registrations/template")
@exam_admin
def registration_template(account):
    """An empty registration list (.xlsx) with the columns the import reads and one example row."""
    from flask import send_file

    return send_file(
        io.BytesIO(write_registration_template()),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="报名名单模板.xlsx",
    )


@bp.post("/sittings/<int:session_id>/blueprint")
@exam_admin
def use_blueprint(account, session_id: int):
    """Let the sitting draw from another blueprint version of its occupation and level (before papers go out)."""
    body = json_body()
    with write_transaction(db.session):
        exam = setup.sitting(db.session, session_id)
        row = _blueprint(int_of(body, "blueprint_id", 1, 2**31))
        if (row.occupation_code, row.level) != (exam.occupation_code, exam.level):
            raise ExamError("wrong_blueprint", "该蓝图不属于本场次的职业和等级。")
        if assembly.handed_out(db.session, exam):
            raise ExamError("papers_handed_out", "本场次已有考生领取试卷，不能更换蓝图。")
        exam.blueprint = row
        exam.assembly_report = None
        assembly.discard_prepared(db.session, exam)
        audit.record(db.session, now(), _actor(account), "session.blueprint", f"session:{exam.id}", version=row.version)
    return jsonify(ok=True, sitting=_sitting_view(exam))


@bp.post("/sittings/<int:session_id>/prepare")
@exam_admin
def prepare(account, session_id: int):
    """Assemble every seat's paper and the backup papers ahead of the start; report the overlap achieved."""
    body = json_body()
    backups = body.get("backups")
    if backups is not None:
        backups = int_of(body, "backups", 0, 500)
    with write_transaction(db.session):
        exam = setup.sitting(db.session, session_id)
        assembly.prepare(db.session, exam, _actor(account), now(), backups)
    return jsonify(ok=True, sitting=_sitting_view(exam))


def _blueprint(blueprint_id: int) -> PaperBlueprint:
    row = db.session.get(PaperBlueprint, blueprint_id)
    if row is None:
        raise ExamError("unknown_blueprint", "没有这个蓝图版本。")
    return row


def _who(actor: str) -> str:
    """A ledger actor ("account:5", "cli:root", "demo") as a person reads it."""
    if actor.startswith("account:") and actor[8:].isdigit():
        account = db.session.get(Account, int(actor[8:]))
        if account is not None:
            return f"{account.display_name}（{account.role_label}）"
    if actor.startswith("cli:"):
        return f"命令行 {actor[4:]}"
    return "演示数据" if actor == "demo" else actor


def _code(item_id: int) -> str:
    return db.session.scalar(select(Item.code).where(Item.id == item_id)) or str(item_id)


def _sitting_view(exam: ExamSession) -> dict:
    newest = blueprints.latest(db.session, exam.occupation_code, exam.level)
    papers = Counter(
        (kind, attempt_id is not None, void is not None)
        for kind, attempt_id, void in db.session.execute(
            select(PreparedPaper.kind, PreparedPaper.attempt_id, PreparedPaper.void_reason).where(
                PreparedPaper.session_id == exam.id
            )
        )
    )
    rooms = db.session.scalars(select(Room).where(Room.session_id == exam.id).order_by(Room.id)).all()
    return {
        "id": exam.id,
        "name": exam.name,
        "occupation_code": exam.occupation_code,
        "occupation_name": exam.occupation_name,
        "level": exam.level,
        "level_name": exam.level_name,
        "scheduled_start": iso(exam.scheduled_start),
        "duration_s": exam.duration_s,
        "policy": setup.policy_of(exam),
        "described": setup.describe(exam),
        "registered": setup.registered(db.session, exam),
        "blueprint": {"id": exam.blueprint.id, "version": exam.blueprint.version} if exam.blueprint else None,
        "newest_blueprint": {"id": newest.id, "version": newest.version} if newest else None,
        "versions": [
            {"id": b.id, "version": b.version}
            for b in db.session.scalars(
                select(PaperBlueprint)
                .where(PaperBlueprint.occupation_code == exam.occupation_code, PaperBlueprint.level == exam.level)
                .order_by(PaperBlueprint.version.desc())
            )
        ],
        "rooms": [
            {"id": r.id, "name": r.name, "seats": len(r.candidates), "started": r.started_at is not None} for r in rooms
        ],
        "holding": assembly.handed_out(db.session, exam),
        "report": exam.assembly_report and {**exam.assembly_report, "by": _who(exam.assembly_report["by"])},
        "backups": {
            "ready": papers[(assembly.BACKUP, False, False)],
            "used": papers[(assembly.BACKUP, True, False)],
            "void": papers[(assembly.BACKUP, False, True)],
        },
        "replaced": sum(n for (kind, _, _), n in papers.items() if kind == assembly.REPLACED),
    }
