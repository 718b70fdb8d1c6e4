"""Blueprints as the exam admin keeps them: versioned, checked against the bank before they are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from item_bank.blueprint import Blueprint, BlueprintError, PoolItem, check_feasible, parse_blueprint
from server import audit
from server.bank.models import Item
from server.errors import ExamError
from server.exam.models import PaperBlueprint


def pool_metadata(session, occupation_code: str, level: int) -> list[PoolItem]:
    """The usable items' metadata, in clear: enough to plan and check a blueprint without the bank key."""
    rows = session.execute(
        select(Item.id, Item.type, Item.knowledge_point, Item.difficulty).where(
            Item.occupation_code == occupation_code,
            Item.level == level,
            Item.status == "active",
            Item.leaked.is_(False),
        )
    )
    return [PoolItem(*row) for row in rows]


def latest(session, occupation_code: str, level: int) -> PaperBlueprint | None:
    return session.scalar(
        select(PaperBlueprint)
        .where(PaperBlueprint.occupation_code == occupation_code, PaperBlueprint.level == level)
        .order_by(PaperBlueprint.version.desc())
        .limit(1)
    )


def add_version(session, data: dict, actor: str, now: datetime) -> PaperBlueprint:
    """Keep a blueprint as the next version of its occupation and level, if valid and feasible now."""
    try:
        blueprint = parse_blueprint(data)
    except BlueprintError as exc:
        raise ExamError("invalid_blueprint", "；".join(exc.problems)) from exc
    if not blueprint.occupation_code or blueprint.level not in (1, 2, 3, 4, 5):
        raise ExamError("invalid_blueprint", "蓝图必须写明职业代码（occupation_code）和等级（level）。")
    try:
        check_feasible(blueprint, pool_metadata(session, blueprint.occupation_code, blueprint.level))
    except BlueprintError as exc:
        raise ExamError("infeasible_blueprint", "；".join(exc.problems)) from exc
    version = (
        session.scalar(
            select(func.max(PaperBlueprint.version)).where(
                PaperBlueprint.occupation_code == blueprint.occupation_code, PaperBlueprint.level == blueprint.level
            )
        )
        or 0
    ) + 1
    stored = {**blueprint.to_data(), "version": version}
    row = PaperBlueprint(
        occupation_code=blueprint.occupation_code,
        level=blueprint.level,
        version=version,
        data=stored,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    audit.record(
        session,
        now,
        actor,
        "blueprint.add",
        f"{blueprint.occupation_code}/{blueprint.level}",
        version=version,
        items=blueprint.size,
    )
    return row


def describe(blueprint: Blueprint) -> list[str]:
    from item_bank.types import ITEM_TYPES

    lines = [f"职业 {blueprint.occupation_code}  {blueprint.level}级  第{blueprint.version}版  共 {blueprint.size} 题"]
    for section in blueprint.sections:
        lines.append(f"  {ITEM_TYPES[section.type].label}题 {section.count} 题 × {section.points:g} 分")
    spread = "、".join(f"难度{d}：{n} 题" for d, n in blueprint.difficulty_distribution().items())
    lines.append(f"  难度分布：{spread}")
    for cell in blueprint.cells:
        lines.append(f"  {cell.label()}：{cell.count} 题")
    return lines
