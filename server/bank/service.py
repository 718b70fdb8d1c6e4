"""Loading items into the bank and reading them back as domain items. Never commits."""

from __future__ import annotations

from sqlalchemy import select

from item_bank import Item as DomainItem
from item_bank import item_to_data, parse_item
from server.bank.models import Item


def add_items(session, occupation_code: str, level: int, items: list[dict]) -> list[Item]:
    """Validate every item first, then add them all (nothing is added if one is invalid)."""
    parsed = [parse_item(data) for data in items]
    rows = []
    for item in parsed:
        data = item_to_data(item)
        content = {k: data[k] for k in ("stem", "options", "key", "explanation") if k in data}
        rows.append(
            Item(
                code=item.code,
                occupation_code=occupation_code,
                level=level,
                type=item.type,
                knowledge_point=item.knowledge_point,
                difficulty=item.difficulty,
                content=content,
            )
        )
    session.add_all(rows)
    return rows


def active_pool(session, occupation_code: str, level: int) -> dict[int, DomainItem]:
    rows = session.scalars(
        select(Item).where(Item.occupation_code == occupation_code, Item.level == level, Item.status == "active")
    )
    return {row.id: row.to_domain() for row in rows}


def load_items(session, item_ids) -> dict[int, DomainItem]:
    rows = session.scalars(select(Item).where(Item.id.in_(list(item_ids))))
    return {row.id: row.to_domain() for row in rows}
