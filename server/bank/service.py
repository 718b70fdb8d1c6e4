"""The bank as stored: sealing items on the way in, opening them on the way out. Never commits."""

from __future__ import annotations

import json
import logging
import secrets

from flask import current_app
from sqlalchemy import select

from item_bank import Item as DomainItem
from item_bank import item_to_data, parse_item
from item_bank.crypto import TamperedItem, seal_item, unseal_item
from item_bank.imports import ImportResult, Problem
from server.bank.keys import data_key, stem_digest
from server.bank.models import Item
from server.errors import ExamError

log = logging.getLogger(__name__)
CONTENT_FIELDS = ("stem", "options", "key", "explanation", "images")


IN_CHUNK = 500  # bound parameters per query, well under every SQLite build's limit


def add_items(
    session, occupation_code: str, level: int, items: list[DomainItem], progress=None, status: str = "draft"
) -> list[Item]:
    """Seal and add validated items (the caller has refused the whole file if any was invalid).

    ``progress(done, total, phase)`` is called as items are sealed, for a progress bar.
    """
    key = data_key()
    rows = []
    for done, item in enumerate(items, start=1):
        data = item_to_data(item)
        content = {k: data[k] for k in CONTENT_FIELDS if k in data}
        uid = secrets.token_hex(16)
        rows.append(
            Item(
                uid=uid,
                code=item.code,
                occupation_code=occupation_code,
                level=level,
                type=item.type,
                knowledge_point=item.knowledge_point,
                difficulty=item.difficulty,
                version=1,
                status=status,
                sealed=seal_item(key, uid, 1, json.dumps(content, ensure_ascii=False).encode("utf-8")),
                stem_digest=stem_digest(item.stem),
            )
        )
        if progress is not None:
            progress(done, len(items), "加密并写入")
    session.add_all(rows)
    return rows


def import_checked(session, result: ImportResult, progress=None, status: str = "draft") -> list[Item]:
    """Add a parsed file's items unless it has problems, including stems the bank already holds."""
    if result.ok:
        digests = {stem_digest(item.stem): n for n, item in enumerate(result.items, start=1)}
        wanted = list(digests)
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            for digest, code in session.execute(select(Item.stem_digest, Item.code).where(Item.stem_digest.in_(chunk))):
                result.problems.append(Problem(result.file, digests[digest], "题干", f"与题库中已有试题 {code} 重复"))
        codes = {item.code: n for n, item in enumerate(result.items, start=1) if item.code}
        wanted_codes = list(codes)
        for start in range(0, len(wanted_codes), IN_CHUNK):
            chunk = wanted_codes[start : start + IN_CHUNK]
            for (code,) in session.execute(select(Item.code).where(Item.code.in_(chunk))):
                result.problems.append(Problem(result.file, codes[code], "编号", f"编号 {code} 在题库中已存在"))
        result.problems.sort(key=lambda p: p.row or 0)
    if not result.ok:
        return []
    rows = add_items(session, result.occupation_code, result.level, result.items, progress, status)
    session.flush()
    for row in rows:
        if not row.code:  # items without the bank's own code get one, to name them in lists and commands
            row.code = f"J{row.id:06d}"
    return rows


OPENED = "jikao.opened_items"
OPENED_MAX = 50_000  # items kept opened in this process (a whole large bank is a few tens of MiB)


def open_item(row: Item) -> DomainItem:
    """The item's content, authenticated; a tampered ciphertext raises ``TamperedItem``.

    ``row`` is an ``Item`` or a row with the same columns. Opened items are kept in this process's memory,
    keyed by everything they are made of (the key, the ciphertext and the clear columns), so a changed or
    tampered row is never answered from memory; a locked bank opens nothing, remembered or not.
    """
    key = data_key()
    cache = current_app.extensions.setdefault(OPENED, {})
    memo = (row.id, row.uid, row.version, row.sealed, row.type, row.code, row.knowledge_point, row.difficulty, key)
    item = cache.get(memo)
    if item is None:
        content = json.loads(unseal_item(key, row.uid, row.version, row.sealed, row.code or str(row.id)))
        item = parse_item(
            {
                **content,
                "type": row.type,
                "code": row.code,
                "knowledge_point": row.knowledge_point,
                "difficulty": row.difficulty,
            }
        )
        if len(cache) >= OPENED_MAX:
            cache.clear()
        cache[memo] = item
    return item


def active_pool(session, occupation_code: str, level: int) -> dict[int, DomainItem]:
    """Every usable item of a bank: active, not leaked, and whose ciphertext authenticates."""
    rows = session.scalars(
        select(Item).where(
            Item.occupation_code == occupation_code,
            Item.level == level,
            Item.status == "active",
            Item.leaked.is_(False),
        )
    )
    pool = {}
    for row in rows:
        try:
            pool[row.id] = open_item(row)
        except TamperedItem as exc:
            log.error("%s", exc.message)
    return pool


# What opening an item reads: its content and clear columns (not the assembly metadata nobody needs here).
ITEM_COLUMNS = (
    Item.id,
    Item.uid,
    Item.version,
    Item.sealed,
    Item.type,
    Item.code,
    Item.knowledge_point,
    Item.difficulty,
)


def load_items(executor, item_ids) -> dict[int, DomainItem]:
    """The items opened, by id (``executor``: an ORM session or a Core connection); refused if one is tampered."""
    ids = list(item_ids)
    items = {}
    for start in range(0, len(ids), IN_CHUNK):
        for row in executor.execute(select(*ITEM_COLUMNS).where(Item.id.in_(ids[start : start + IN_CHUNK]))):
            try:
                items[row.id] = open_item(row)
            except TamperedItem as exc:
                log.error("%s", exc.message)
                raise ExamError("tampered_item", exc.message) from exc
    return items


def verify_all(session) -> list[str]:
    """The codes of items whose ciphertext fails to authenticate."""
    bad = []
    for row in session.scalars(select(Item).order_by(Item.id)):
        try:
            open_item(row)
        except TamperedItem:
            bad.append(row.code or str(row.id))
    return bad
