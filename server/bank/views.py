"""The bank admin's HTTP API: browse, preview, edit with review, import, coverage. Bank admins only."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from item_bank import ITEM_TYPES, ItemError, item_to_data, parse_item
from item_bank.crypto import TamperedItem
from item_bank.imports import read_file
from server import audit
from server.auth.views import role_required
from server.bank import keys, lifecycle
from server.bank.models import Item
from server.bank.service import import_checked, open_item
from server.db import write_transaction
from server.errors import ExamError
from server.exam.models import LEVEL_NAMES
from server.extensions import db
from server.timeutil import iso, now
from server.web import uploaded_file

bp = Blueprint("bank_api", __name__, url_prefix="/api/bank")
MIN_ITEMS_PER_BANK = 600  # 001 第十条: at least 600 theory items per occupation and level
MAX_UPLOAD_MIB = 20
PAGE = 500  # items listed at once; the count covers them all
STATUS = {"forbidden": 403, "unknown_item": 404, "bank_locked": 409, "unknown_image": 404}


@bp.errorhandler(ExamError)
def _refused(exc: ExamError):
    return jsonify(ok=False, error=exc.as_dict()), STATUS.get(exc.code, 400)


bank_admin = role_required("bank_admin", "只有题库管理员可以使用题库管理功能。")


def actor(account) -> str:
    return f"account:{account.id}"


def summary(row: Item, item=None) -> dict:
    view = {
        "id": row.id,
        "code": row.code,
        "occupation_code": row.occupation_code,
        "level": row.level,
        "level_name": LEVEL_NAMES.get(row.level, str(row.level)),
        "type": row.type,
        "type_label": ITEM_TYPES[row.type].label,
        "knowledge_point": row.knowledge_point,
        "difficulty": row.difficulty,
        "status": row.status,
        "status_label": lifecycle.STATUS_LABELS[row.status],
        "leaked": row.leaked,
        "version": row.version,
    }
    if item is not None:
        view["stem"] = item.stem
    return view


@bp.get("/status")
@bank_admin
def status(account):
    """Whether this server's bank is open (the content needs both custodians at start)."""
    return jsonify(ok=True, open=keys.is_open())


@bp.get("/items")
@bank_admin
def items(account):
    """Items filtered by occupation, level, type, knowledge point, difficulty, status and text."""
    args = request.args
    query = select(Item).order_by(Item.occupation_code, Item.level, Item.code)
    for column, name in ((Item.occupation_code, "occupation"), (Item.type, "type"), (Item.status, "status")):
        if args.get(name):
            query = query.where(column == args[name])
    for column, name in ((Item.level, "level"), (Item.difficulty, "difficulty")):
        if args.get(name, "").isdigit():
            query = query.where(column == int(args[name]))
    if args.get("knowledge_point"):
        query = query.where(Item.knowledge_point.startswith(args["knowledge_point"]))
    if args.get("leaked") == "1":
        query = query.where(Item.leaked.is_(True))
    text = args.get("q", "").strip()
    shown, broken, total = [], [], 0
    for row in db.session.scalars(query):
        if not text and len(shown) >= PAGE:
            total += 1  # counted, not opened: only a text search needs every item's content
            continue
        try:
            item = open_item(row)
        except TamperedItem:
            broken.append(row.code)
            continue
        if text and text not in item.stem and text not in row.code and not any(text in o.text for o in item.options):
            continue
        total += 1
        if len(shown) < PAGE:
            shown.append(summary(row, item))
    occupations = db.session.execute(
        select(Item.occupation_code, Item.level).distinct().order_by(Item.occupation_code, Item.level)
    ).all()
    return jsonify(
        ok=True,
        items=shown,
        total=total,
        tampered=broken,
        banks=[{"occupation": o, "level": lv, "level_name": LEVEL_NAMES[lv]} for o, lv in occupations],
    )


@bp.get("/items/<int:item_id>")
@bank_admin
def item(account, item_id: int):
    """One item with its key and explanation, and exactly what a candidate would receive."""
    row = _row(item_id)
    opened = open_item(row)
    data = item_to_data(opened)
    data["images"] = [{"index": n, "name": i.name, "alt": i.alt} for n, i in enumerate(opened.images)]
    return jsonify(
        ok=True,
        item={**summary(row, opened), **data},
        candidate_view={"id": row.id, **opened.kind.to_candidate(opened)},
    )


@bp.get("/items/<int:item_id>/images/<int:index>")
@bank_admin
def item_image(account, item_id: int, index: int):
    """A picture of an item, for the bank admin's preview."""
    return image_response(open_item(_row(item_id)), index)


def image_response(item, index: int):
    from flask import Response

    if not 0 <= index < len(item.images):
        raise ExamError("unknown_image", "没有这张图片。")
    image = item.images[index]
    # Opened from the sealed item for this request only: never cached by the browser or on disk.
    return Response(image.data, mimetype=image.mime, headers={"Cache-Control": "no-store"})


@bp.get("/items/<int:item_id>/history")
@bank_admin
def history(account, item_id: int):
    """Every version, each against the one before."""
    versions = lifecycle.history(db.session, _row(item_id))
    changes = [
        {
            "from": a.version,
            "to": b.version,
            "at": iso(a.replaced_at),
            "by": a.replaced_by,
            "reason": a.reason,
            "diff": lifecycle.compare(a.item, b.item, f"第{a.version}版", f"第{b.version}版")[2:],
        }
        for a, b in zip(versions, versions[1:], strict=False)
    ]
    return jsonify(ok=True, versions=len(versions), changes=changes)


@bp.post("/items/<int:item_id>/<action>")
@bank_admin
def act(account, item_id: int, action: str):
    """Review, activate, retire or mark leaked (with a reason)."""
    reason = str((request.get_json(silent=True) or {}).get("reason", ""))[:256]
    with write_transaction(db.session):
        row = _row(item_id)
        if action == "leak":
            lifecycle.mark_leaked(db.session, row, actor(account), now(), reason)
        elif action in lifecycle.TRANSITIONS:
            lifecycle.transition(db.session, row, action, actor(account), now(), reason)
        else:
            raise ExamError("unknown_action", "不支持的操作。")
    return jsonify(ok=True, item=summary(_row(item_id)))


@bp.post("/items/<int:item_id>/edit")
@bank_admin
def edit(account, item_id: int):
    """A new version from the edit form; back to draft for review."""
    body = request.get_json(silent=True) or {}
    reason = str(body.get("reason", "")).strip()
    if not reason:
        raise ExamError("reason_required", "请写明修改原因。")
    with write_transaction(db.session):
        row = _row(item_id)
        data = {
            **item_to_data(open_item(row)),
            **{
                k: body[k]
                for k in ("stem", "options", "key", "explanation", "difficulty", "knowledge_point")
                if k in body
            },
        }
        try:
            new = parse_item(data)
        except ItemError as exc:
            raise ExamError("invalid_item", f"{lifecycle_column(exc.field)}：{exc.message}") from exc
        version = lifecycle.edit(db.session, row, new, actor(account), now(), reason[:256])
    return jsonify(ok=True, version=version, item=summary(_row(item_id)))


@bp.post("/import")
@bank_admin
def import_file(account):
    """An uploaded .xlsx/.csv/.json: every problem by row and column, all items or none."""
    file_name, data = uploaded_file(MAX_UPLOAD_MIB, "请选择要导入的文件。")
    result = read_file(file_name, data)
    dry_run = request.form.get("dry_run") == "1"
    activate = request.form.get("activate") == "1"
    with write_transaction(db.session):
        rows = import_checked(db.session, result, status="active" if activate else "draft") if result.ok else []
        if result.problems or dry_run:
            db.session.rollback()
        else:
            audit.record(
                db.session,
                now(),
                actor(account),
                "bank.import",
                file=file_name,
                items=len(rows),
                activated=activate,
            )
    return jsonify(
        ok=not result.problems,
        file=file_name,
        problems=[str(p) for p in result.problems],
        imported=0 if (result.problems or dry_run) else len(rows),
        checked=len(result.items),
        dry_run=dry_run,
    )


@bp.get("/coverage")
@bank_admin
def coverage(account):
    """Active items per knowledge point × type × difficulty, against the 600-item rule."""
    occupation, level = request.args.get("occupation", ""), request.args.get("level", "")
    query = select(Item.knowledge_point, Item.type, Item.difficulty).where(
        Item.status == "active", Item.leaked.is_(False)
    )
    if occupation:
        query = query.where(Item.occupation_code == occupation)
    if level.isdigit():
        query = query.where(Item.level == int(level))
    counts = Counter(db.session.execute(query).all())
    points = sorted({kp for kp, _, _ in counts})
    difficulties = sorted({d for _, _, d in counts}) or [1, 2, 3, 4, 5]
    total = sum(counts.values())
    table = [
        {
            "knowledge_point": kp,
            "cells": {t: {str(d): counts.get((kp, t, d), 0) for d in difficulties} for t in ITEM_TYPES},
            "total": sum(n for (k, _, _), n in counts.items() if k == kp),
        }
        for kp in points
    ]
    return jsonify(
        ok=True,
        types=[[t, k.label] for t, k in ITEM_TYPES.items()],
        difficulties=difficulties,
        rows=table,
        total=total,
        required=MIN_ITEMS_PER_BANK,
        meets_rule=total >= MIN_ITEMS_PER_BANK,
    )


def _row(item_id: int) -> Item:
    row = db.session.get(Item, item_id)
    if row is None:
        raise ExamError("unknown_item", "没有这道试题。")
    return row


def lifecycle_column(field: str) -> str:
    from item_bank.imports import COLUMNS

    return COLUMNS.get(field, field)
