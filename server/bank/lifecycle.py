"""An item's life: draft → reviewed (审定) → active (入库) → retired, the 泄密 flag, and versions.

Every edit keeps the old version sealed as it was and seals the new content under the next version, then
sends the item back to draft: an edited item is reviewed again before a paper may use it. A leaked item
leaves every future paper at once, whatever its status. Never commits; every action goes to the ledger.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from item_bank import Item as DomainItem
from item_bank import item_to_data
from item_bank.crypto import seal_item, unseal_item
from server import audit
from server.bank.keys import data_key, stem_digest
from server.bank.models import Item, ItemVersion
from server.bank.service import CONTENT_FIELDS, open_item
from server.errors import ExamError

STATUS_LABELS = {"draft": "待审", "reviewed": "已审定", "active": "已入库", "retired": "已停用"}
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "review": ({"draft"}, "reviewed"),
    "activate": ({"reviewed"}, "active"),
    "retire": ({"draft", "reviewed", "active"}, "retired"),
}
ACTION_LABELS = {"review": "审定", "activate": "入库", "retire": "停用"}


@dataclass(frozen=True)
class Version:
    version: int
    item: DomainItem
    replaced_at: datetime | None  # None for the current version
    replaced_by: str
    reason: str


def find(session, code: str) -> Item:
    row = session.scalar(select(Item).where(Item.code == code))
    if row is None:
        raise ExamError("unknown_item", f"题库中没有编号为 {code} 的试题。")
    return row


def transition(session, row: Item, action: str, actor: str, now: datetime, reason: str = "") -> None:
    sources, target = TRANSITIONS[action]
    if row.status not in sources:
        raise ExamError(
            "bad_transition",
            f"试题 {row.code} 当前为“{STATUS_LABELS[row.status]}”，不能{ACTION_LABELS[action]}。",
        )
    before = row.status
    row.status = target
    audit.record(session, now, actor, f"item.{action}", f"item:{row.code}", before=before, after=target, reason=reason)


def mark_leaked(session, row: Item, actor: str, now: datetime, reason: str) -> None:
    """泄密: the item is out of every future paper from this moment."""
    if not reason.strip():
        raise ExamError("reason_required", "标记泄密必须写明原因。")
    if row.leaked:
        raise ExamError("already_leaked", f"试题 {row.code} 已标记为泄密。")
    row.leaked = True
    audit.record(session, now, actor, "item.leaked", f"item:{row.code}", reason=reason)


def edit(session, row: Item, new: DomainItem, actor: str, now: datetime, reason: str) -> int:
    """Make a new version of the item from ``new`` (same type); it returns to draft for review."""
    if new.type != row.type:
        raise ExamError("type_change", "修改试题不能改变题型；请停用旧题并导入新题。")
    old = open_item(row)
    if item_to_data(new) | {"code": row.code} == item_to_data(old):
        raise ExamError("no_change", "内容没有变化，未生成新版本。")
    session.add(
        ItemVersion(
            item_id=row.id,
            version=row.version,
            type=row.type,
            knowledge_point=row.knowledge_point,
            difficulty=row.difficulty,
            sealed=row.sealed,
            replaced_at=now,
            replaced_by=actor,
            reason=reason,
        )
    )
    data = item_to_data(new)
    content = {k: data[k] for k in CONTENT_FIELDS if k in data}
    row.version += 1
    row.knowledge_point = new.knowledge_point
    row.difficulty = new.difficulty
    row.sealed = seal_item(data_key(), row.uid, row.version, json.dumps(content, ensure_ascii=False).encode("utf-8"))
    row.stem_digest = stem_digest(new.stem)
    before = row.status
    row.status = "draft"
    audit.record(
        session, now, actor, "item.edit", f"item:{row.code}", version=row.version, before=before, reason=reason
    )
    return row.version


def history(session, row: Item) -> list[Version]:
    """Every version of the item, oldest first, each opened and authenticated under its own version."""
    versions = []
    for old in session.scalars(select(ItemVersion).where(ItemVersion.item_id == row.id).order_by(ItemVersion.version)):
        content = json.loads(unseal_item(data_key(), row.uid, old.version, old.sealed, f"{row.code} 第{old.version}版"))
        item = open_item_content(content, old.type, row.code, old.knowledge_point, old.difficulty)
        versions.append(Version(old.version, item, old.replaced_at, old.replaced_by, old.reason))
    versions.append(Version(row.version, open_item(row), None, "", ""))
    return versions


def open_item_content(content: dict, item_type: str, code: str, knowledge_point: str, difficulty: int) -> DomainItem:
    from item_bank import parse_item

    return parse_item(
        {**content, "type": item_type, "code": code, "knowledge_point": knowledge_point, "difficulty": difficulty}
    )


def describe(item: DomainItem) -> list[str]:
    """The item as lines of text, for showing one version against another."""
    lines = [f"鉴定点：{item.knowledge_point}", f"难度：{item.difficulty}", f"题干：{item.stem}"]
    for option in item.options:
        lines.append(f"{option.id}. {option.text}{'（固定位置）' if option.fixed else ''}")
    key = ("对" if item.key else "错") if isinstance(item.key, bool) else "".join(item.key)
    lines += [f"答案：{key}", f"解析：{item.explanation}"]
    return lines


def compare(old: DomainItem, new: DomainItem, old_label: str, new_label: str) -> list[str]:
    return list(difflib.unified_diff(describe(old), describe(new), old_label, new_label, lineterm="", n=0))
