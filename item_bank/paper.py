"""Papers: drawing one candidate's paper from a pool of items, and scoring it.

A paper is plain data (JSON-ready): sections in a fixed type order, each with the points per item and
the items drawn, every item with its option order for this candidate. The answer key stays with the
item; because options keep their ids when shuffled, a key never needs remapping.

This is the simple draw by type counts used until blueprint assembly (组卷 by 细目表) arrives.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from item_bank.types import ITEM_TYPES, Item

SECTION_ORDER = ("single", "multiple", "true_false")
FULL_MARKS = 100
PASS_MARK = 60


class PaperError(ValueError):
    pass


@dataclass(frozen=True)
class SectionSpec:
    type: str
    count: int
    points: float  # points per item


def parse_spec(data: list[dict]) -> list[SectionSpec]:
    """Validate a paper spec: known types, positive counts, and a total of 100 points."""
    sections = []
    for raw in data:
        if raw.get("type") not in ITEM_TYPES:
            raise PaperError(f"未知题型：{raw.get('type')!r}")
        count, points = raw.get("count"), raw.get("points")
        if not isinstance(count, int) or count <= 0 or not isinstance(points, int | float) or points <= 0:
            raise PaperError("每个部分的题数和每题分值必须为正数")
        sections.append(SectionSpec(raw["type"], count, float(points)))
    total = sum(s.count * s.points for s in sections)
    if abs(total - FULL_MARKS) > 1e-9:
        raise PaperError(f"试卷总分必须为 {FULL_MARKS} 分，现为 {total:g} 分")
    return sorted(sections, key=lambda s: SECTION_ORDER.index(s.type))


def shuffle_options(item: Item, rng: random.Random) -> list[str]:
    """A shuffled option order in which options marked fixed keep their position."""
    ids = [o.id for o in item.options]
    movable = [o.id for o in item.options if not o.fixed]
    rng.shuffle(movable)
    it = iter(movable)
    return [oid if item.options[i].fixed else next(it) for i, oid in enumerate(ids)]


def draw_paper(pool: dict[int, Item], spec: list[SectionSpec], seed: int) -> dict:
    """Draw a paper for one candidate; the same pool, spec and seed always give the same paper."""
    rng = random.Random(seed)
    sections = []
    for section in spec:
        candidates = sorted(item_id for item_id, item in pool.items() if item.type == section.type)
        if len(candidates) < section.count:
            label = ITEM_TYPES[section.type].label
            raise PaperError(f"{label}题需要 {section.count} 题，题库可用 {len(candidates)} 题")
        chosen = rng.sample(candidates, section.count)
        entries = []
        for item_id in chosen:
            item = pool[item_id]
            entry: dict = {"item_id": item_id}
            if item.options:
                entry["options"] = shuffle_options(item, rng)
            entries.append(entry)
        sections.append({"type": section.type, "points": section.points, "items": entries})
    return {"seed": seed, "sections": sections}


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
