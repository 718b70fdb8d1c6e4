"""Papers as plain data, and scoring them.

A paper (drawn by ``item_bank.blueprint``) is JSON-ready: sections in a fixed type order, each with the
points per item and the items drawn, every item with its option order for this candidate. The answer key
stays with the item; because options keep their ids when shuffled, a key never needs remapping.
"""

from __future__ import annotations

from item_bank.types import Item

SECTION_ORDER = ("single", "multiple", "true_false")
FULL_MARKS = 100
PASS_MARK = 60


def paper_item_ids(paper: dict) -> list[int]:
    return [entry["item_id"] for section in paper["sections"] for entry in section["items"]]


def score_paper(paper: dict, items: dict[int, Item], responses: dict[int, object]) -> float:
    """Total points for normalized responses keyed by item id; unanswered items earn nothing."""
    total = 0.0
    for section in paper["sections"]:
        for entry in section["items"]:
            item = items[entry["item_id"]]
            total += item.kind.score(item, responses.get(entry["item_id"]), section["points"])
    return round(total, 2)
