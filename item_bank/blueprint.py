"""Blueprint paper assembly (组卷 by the 认定要素细目表): one fair, different paper per seat.

A blueprint names, for one occupation and level, the sections (type, points per item, item count) and its
cells: how many items of a type each knowledge point (a code or a prefix such as ``A-03``) gives at each
difficulty. Papers are drawn to satisfy the cells exactly; neighbours in the room get papers that share
as few items as the bank allows; every paper records its seed and can be drawn again bit for bit.

Pure: takes item metadata and returns plain data. Assembly needs only the metadata of the items and their
option ids (for shuffling), never their text.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from dataclasses import dataclass, field

from item_bank.paper import FULL_MARKS, SECTION_ORDER
from item_bank.types import ITEM_TYPES


class BlueprintError(ValueError):
    """An invalid or infeasible blueprint; ``problems`` lists every reason in Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Section:
    type: str
    points: float
    count: int


@dataclass(frozen=True)
class Cell:
    type: str
    knowledge_point: str  # a code, or a prefix of codes
    difficulty: int
    count: int

    def matches(self, item: PoolItem) -> bool:
        return (
            item.type == self.type
            and item.difficulty == self.difficulty
            and (
                item.knowledge_point == self.knowledge_point
                or item.knowledge_point.startswith(self.knowledge_point + "-")
            )
        )

    def label(self) -> str:
        return f"鉴定点 {self.knowledge_point} 难度{self.difficulty} {ITEM_TYPES[self.type].label}"


@dataclass(frozen=True)
class Blueprint:
    occupation_code: str
    level: int
    version: int
    sections: tuple[Section, ...]
    cells: tuple[Cell, ...]

    def to_data(self) -> dict:
        return {
            "occupation_code": self.occupation_code,
            "level": self.level,
            "version": self.version,
            "sections": [{"type": s.type, "points": s.points, "count": s.count} for s in self.sections],
            "cells": [
                {"type": c.type, "knowledge_point": c.knowledge_point, "difficulty": c.difficulty, "count": c.count}
                for c in self.cells
            ],
        }

    @property
    def size(self) -> int:
        return sum(s.count for s in self.sections)

    def difficulty_distribution(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for cell in self.cells:
            counts[cell.difficulty] = counts.get(cell.difficulty, 0) + cell.count
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class PoolItem:
    """What assembly needs of an item: its metadata and option layout, never its text."""

    id: int
    type: str
    knowledge_point: str
    difficulty: int
    option_ids: tuple[str, ...] = ()
    fixed: tuple[bool, ...] = ()


def parse_blueprint(data: dict) -> Blueprint:
    """Validate a blueprint completely; every problem is reported at once."""
    problems: list[str] = []
    sections, cells = [], []
    for n, raw in enumerate(data.get("sections") or [], start=1):
        kind, points, count = raw.get("type"), raw.get("points"), raw.get("count")
        if kind not in ITEM_TYPES:
            problems.append(f"第{n}部分：未知题型 {kind!r}")
            continue
        if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
            problems.append(f"第{n}部分（{ITEM_TYPES[kind].label}）：每题分值必须是正数")
            continue
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            problems.append(f"第{n}部分（{ITEM_TYPES[kind].label}）：题数必须是正整数")
            continue
        sections.append(Section(kind, float(points), count))
    if not sections:
        problems.append("蓝图没有任何部分")
    if len({s.type for s in sections}) != len(sections):
        problems.append("同一题型只能有一个部分")
    for n, raw in enumerate(data.get("cells") or [], start=1):
        kind, kp, difficulty, count = (
            raw.get("type"),
            raw.get("knowledge_point"),
            raw.get("difficulty"),
            raw.get("count"),
        )
        if kind not in ITEM_TYPES or not isinstance(kp, str) or not kp.strip():
            problems.append(f"第{n}个细目：题型或鉴定点不正确")
            continue
        if difficulty not in (1, 2, 3, 4, 5) or not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            problems.append(f"第{n}个细目（{kp}）：难度必须是 1–5，题数必须是正整数")
            continue
        cells.append(Cell(kind, kp.strip(), difficulty, count))
    total = sum(s.points * s.count for s in sections)
    if sections and abs(total - FULL_MARKS) > 1e-9:
        problems.append(f"总分必须为 {FULL_MARKS} 分，现为 {total:g} 分")
    for section in sections:
        planned = sum(c.count for c in cells if c.type == section.type)
        if planned != section.count:
            label = ITEM_TYPES[section.type].label
            problems.append(f"{label}题：部分要求 {section.count} 题，细目合计 {planned} 题")
    for kind in {c.type for c in cells} - {s.type for s in sections}:
        problems.append(f"细目中有{ITEM_TYPES[kind].label}题，但蓝图没有这个部分")
    for a, b in itertools.combinations(cells, 2):
        if a.type == b.type and a.difficulty == b.difficulty and _overlaps(a.knowledge_point, b.knowledge_point):
            problems.append(f"{a.label()} 与 鉴定点 {b.knowledge_point} 重叠：同一题型和难度的鉴定点不能互相包含")
    if problems:
        raise BlueprintError(problems)
    ordered = tuple(sorted(sections, key=lambda s: SECTION_ORDER.index(s.type)))
    return Blueprint(
        str(data.get("occupation_code", "")),
        int(data.get("level", 0)),
        int(data.get("version", 1)),
        ordered,
        tuple(cells),
    )


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def check_feasible(blueprint: Blueprint, pool: list[PoolItem]) -> dict[Cell, list[PoolItem]]:
    """Each cell's candidates; refused naming every short cell."""
    # Every dash-bounded prefix of a code ("A", "A-03", "A-03-002") leads to its items: one lookup per cell,
    # the same match as Cell.matches.
    index: dict[tuple[str, int, str], list[PoolItem]] = {}
    for item in pool:
        parts = item.knowledge_point.split("-")
        for end in range(1, len(parts) + 1):
            index.setdefault((item.type, item.difficulty, "-".join(parts[:end])), []).append(item)
    candidates = {cell: index.get((cell.type, cell.difficulty, cell.knowledge_point), []) for cell in blueprint.cells}
    short = [
        f"{cell.label()}：需要 {cell.count} 题，题库可用 {len(found)} 题"
        for cell, found in candidates.items()
        if len(found) < cell.count
    ]
    if short:
        raise BlueprintError(short)
    return candidates


def spareless(candidates: dict[Cell, list[PoolItem]]) -> list[str]:
    """Cells the bank fills exactly: their items are on every paper, so if one of them leaks no backup paper
    can replace it. Worth a warning before the exam."""
    return [
        f"{cell.label()}：题库只有 {cell.count} 题，每份试卷都含这些题，其中任一题泄密时将无备用卷可换"
        for cell, found in candidates.items()
        if len(found) == cell.count
    ]


def bank_version(pool: list[PoolItem], versions: dict[int, int] | None = None) -> str:
    """A digest of exactly which items (and versions) a paper could have been drawn from."""
    digest = hashlib.sha256()
    for item in sorted(pool, key=lambda i: i.id):
        digest.update(f"{item.id}:{(versions or {}).get(item.id, 1)};".encode())
    return digest.hexdigest()[:16]


def seat_seed(session_seed: int, seat: str) -> int:
    """The seed of one seat's paper, derived from the session's seed: papers are reproducible one by one."""
    return int.from_bytes(hashlib.sha256(f"{session_seed}:{seat}".encode()).digest()[:8], "big")


def assemble(
    blueprint: Blueprint, candidates: dict[Cell, list[PoolItem]], seed: int, avoid: dict[int, int] | None = None
) -> dict:
    """One paper: each cell's items drawn (preferring items neighbours do not have), shuffled in its section,
    options shuffled with fixed ones in place. The same inputs and seed give the same paper."""
    rng = random.Random(seed)
    avoid = avoid or {}
    chosen: dict[str, list[PoolItem]] = {s.type: [] for s in blueprint.sections}
    for cell in blueprint.cells:
        chosen[cell.type].extend(_draw(candidates[cell], cell.count, rng, avoid))
    sections = []
    for section in blueprint.sections:
        items = chosen[section.type]
        items.sort(key=lambda _: rng.random())  # a uniform shuffle with one C-level draw per item
        entries = []
        for item in items:
            entry: dict = {"item_id": item.id}
            if item.option_ids:
                entry["options"] = _shuffled(item, rng)
            entries.append(entry)
        sections.append({"type": section.type, "points": section.points, "items": entries})
    return {"seed": seed, "blueprint_version": blueprint.version, "sections": sections}


def _draw(found: list[PoolItem], count: int, rng: random.Random, avoid: dict[int, int]) -> list[PoolItem]:
    """``count`` items, first from those no neighbour has, then from the least shared."""
    if not avoid:
        if count == 1:  # the common cell of a fine-grained blueprint: one draw, not a sample
            return [found[int(rng.random() * len(found))]]
        return rng.sample(found, count)
    free = [item for item in found if item.id not in avoid]
    if len(free) >= count:
        return rng.sample(free, count)
    shared = [item for item in found if item.id in avoid]
    rng.shuffle(shared)
    shared.sort(key=lambda item: avoid[item.id])  # stable: ties stay in random order
    return free + shared[: count - len(free)]


# Every order of up to 6 movable options, to pick one with a single random draw: 5,000 papers of 100 items
# must assemble in about a second, and shuffling option lists one swap at a time costs most of that.
_PERMUTATIONS = {n: tuple(itertools.permutations(range(n))) for n in range(7)}


def _shuffled(item: PoolItem, rng: random.Random) -> list[str]:
    """A random order of the options; options marked fixed keep their place."""
    if not any(item.fixed):
        orders = _PERMUTATIONS.get(len(item.option_ids))
        if orders is not None:
            ids = item.option_ids
            return [ids[i] for i in orders[int(rng.random() * len(orders))]]
    fixed = item.fixed or (False,) * len(item.option_ids)
    movable = [oid for oid, pinned in zip(item.option_ids, fixed, strict=True) if not pinned]
    orders = _PERMUTATIONS.get(len(movable))
    if orders is None:
        rng.shuffle(movable)
    else:
        movable = [movable[i] for i in orders[int(rng.random() * len(orders))]]
    if len(movable) == len(item.option_ids):
        return movable
    it = iter(movable)
    return [oid if pinned else next(it) for oid, pinned in zip(item.option_ids, fixed, strict=True)]


@dataclass
class RoomPapers:
    papers: dict[str, dict]  # seat label -> paper
    overlap: dict[tuple[str, str], float] = field(default_factory=dict)  # neighbour pair -> shared item share

    @property
    def worst_overlap(self) -> float:
        return max(self.overlap.values(), default=0.0)


def neighbours(seats: dict[str, tuple[int, int]]) -> list[tuple[str, str]]:
    """Seats left, right, in front of and behind each other."""
    at = {position: seat for seat, position in seats.items()}
    pairs = []
    for seat, (row, col) in seats.items():
        for other in ((row, col + 1), (row + 1, col)):
            if other in at:
                pairs.append((seat, at[other]))
    return pairs


def item_ids(paper: dict) -> set[int]:
    return {entry["item_id"] for section in paper["sections"] for entry in section["items"]}


def assemble_room(
    blueprint: Blueprint, pool: list[PoolItem], seats: dict[str, tuple[int, int]], session_seed: int
) -> RoomPapers:
    """A paper for every seat (label -> (row, col)), neighbours kept as far apart as the bank allows."""
    candidates = check_feasible(blueprint, pool)
    pairs = neighbours(seats)
    adjacent: dict[str, list[str]] = {seat: [] for seat in seats}
    for a, b in pairs:
        adjacent[a].append(b)
        adjacent[b].append(a)
    papers: dict[str, dict] = {}
    for seat in sorted(seats, key=lambda s: seats[s]):
        avoid: dict[int, int] = {}
        for other in adjacent[seat]:
            for item_id in item_ids(papers.get(other, {"sections": []})):
                avoid[item_id] = avoid.get(item_id, 0) + 1
        papers[seat] = assemble(blueprint, candidates, seat_seed(session_seed, seat), avoid)
        papers[seat]["seat"] = seat
    size = blueprint.size
    overlap = {(a, b): len(item_ids(papers[a]) & item_ids(papers[b])) / size for a, b in pairs}
    return RoomPapers(papers, overlap)


def group_of(knowledge_point: str, depth: int = 2) -> str:
    """The knowledge-point group a suggested blueprint counts by: "A-03-002" -> "A-03"."""
    return "-".join(knowledge_point.split("-")[:depth])


def suggest(pool: list[PoolItem], sections: list[dict], occupation_code: str = "", level: int = 0) -> dict:
    """A feasible blueprint that spreads each section over knowledge-point groups and difficulties in
    proportion to what the bank holds (largest remainders, never more than a cell has). A draft for the
    exam admin to adjust, not a substitute for the 细目表."""
    cells = []
    problems = []
    for section in sections:
        available: dict[tuple[str, int], int] = {}
        for item in pool:
            if item.type == section["type"]:
                key = (group_of(item.knowledge_point), item.difficulty)
                available[key] = available.get(key, 0) + 1
        total = sum(available.values())
        count = section["count"]
        if total < count:
            label = ITEM_TYPES[section["type"]].label
            problems.append(f"{label}题：需要 {count} 题，题库可用 {total} 题")
            continue
        shares = {key: count * n / total for key, n in available.items()}
        taken = {key: min(int(share), available[key]) for key, share in shares.items()}
        for key in sorted(shares, key=lambda k: (shares[k] - int(shares[k]), available[k]), reverse=True):
            if sum(taken.values()) >= count:
                break
            if taken[key] < available[key]:
                taken[key] += 1
        while sum(taken.values()) < count:  # caps left a shortfall: fill wherever items remain
            key = next(k for k in sorted(available) if taken[k] < available[k])
            taken[key] += 1
        cells += [
            {"type": section["type"], "knowledge_point": kp, "difficulty": d, "count": n}
            for (kp, d), n in sorted(taken.items())
            if n
        ]
    if problems:
        raise BlueprintError(problems)
    return {"occupation_code": occupation_code, "level": level, "version": 1, "sections": sections, "cells": cells}


def pool_item(item_id: int, item) -> PoolItem:
    """Assembly's view of an opened item (``item_bank.types.Item``)."""
    return PoolItem(
        item_id,
        item.type,
        item.knowledge_point,
        item.difficulty,
        tuple(o.id for o in item.options),
        tuple(o.fixed for o in item.options),
    )


@dataclass
class SimulationReport:
    papers: int
    pool_size: int
    coverage: float  # share of the pool drawn at least once
    exposure_max: float  # the most-drawn item's share of papers
    exposure_mean: float
    most_exposed: list[tuple[int, float]]
    difficulty_mean: float  # mean item difficulty over all papers
    difficulty_spread: float  # standard deviation of the papers' mean difficulty
    overlap_mean: float  # neighbouring seats: shared share of items
    overlap_worst: float
    tolerance: float

    @property
    def parallel(self) -> bool:
        """Papers are parallel when their mean difficulties stay within the tolerance of each other."""
        return self.difficulty_spread <= self.tolerance


def simulate(
    blueprint: Blueprint,
    pool: list[PoolItem],
    papers: int,
    seed: int,
    rows: int = 5,
    cols: int = 6,
    tolerance: float = 0.1,
) -> SimulationReport:
    """Draw ``papers`` papers as whole rooms of rows × cols seats, as on exam day, and measure them
    (模拟组卷测试结果分析)."""
    by_id = {item.id: item for item in pool}
    seats = {f"{r:02d}{c:02d}": (r, c) for r in range(1, rows + 1) for c in range(1, cols + 1)}
    drawn: list[set[int]] = []
    overlaps: list[float] = []
    room = 0
    while len(drawn) < papers:
        result = assemble_room(blueprint, pool, seats, seat_seed(seed, f"room-{room}"))
        room += 1
        for paper in result.papers.values():
            if len(drawn) < papers:
                drawn.append(item_ids(paper))
        overlaps.extend(result.overlap.values())
    exposure: dict[int, int] = {}
    means = []
    for ids in drawn:
        for item_id in ids:
            exposure[item_id] = exposure.get(item_id, 0) + 1
        means.append(sum(by_id[i].difficulty for i in ids) / len(ids))
    average = sum(means) / len(means)
    spread = (sum((m - average) ** 2 for m in means) / len(means)) ** 0.5
    shares = sorted(((item_id, n / papers) for item_id, n in exposure.items()), key=lambda x: -x[1])
    return SimulationReport(
        papers=papers,
        pool_size=len(pool),
        coverage=len(exposure) / len(pool) if pool else 0.0,
        exposure_max=shares[0][1] if shares else 0.0,
        exposure_mean=sum(s for _, s in shares) / len(shares) if shares else 0.0,
        most_exposed=shares[:5],
        difficulty_mean=average,
        difficulty_spread=spread,
        overlap_mean=sum(overlaps) / len(overlaps) if overlaps else 0.0,
        overlap_worst=max(overlaps, default=0.0),
        tolerance=tolerance,
    )
