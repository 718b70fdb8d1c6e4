"""Blueprint assembly: every paper satisfies its blueprint exactly, whatever the bank and the seed."""

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from item_bank.blueprint import (
    BlueprintError,
    PoolItem,
    assemble,
    assemble_room,
    check_feasible,
    item_ids,
    neighbours,
    parse_blueprint,
)

TYPES = ("single", "multiple", "true_false")
POINTS = ["A-01", "A-02", "B-01", "B-02", "C-01"]


@st.composite
def banks_and_blueprints(draw):
    """A random bank, and a feasible blueprint over it."""
    size = draw(st.integers(20, 120))
    pool = []
    for n in range(size):
        kind = draw(st.sampled_from(TYPES))
        options = () if kind == "true_false" else tuple("ABCDE"[: draw(st.integers(2, 5))])
        fixed = tuple(i == len(options) - 1 and draw(st.booleans()) for i in range(len(options)))
        pool.append(
            PoolItem(
                n + 1,
                kind,
                f"{draw(st.sampled_from(POINTS))}-{draw(st.integers(1, 3)):03d}",
                draw(st.integers(1, 5)),
                options,
                fixed,
            )
        )
    available = Counter((i.type, i.knowledge_point[:4], i.difficulty) for i in pool)
    cells = []
    for (kind, kp, difficulty), n in sorted(available.items()):
        take = draw(st.integers(0, n))
        if take:
            cells.append({"type": kind, "knowledge_point": kp, "difficulty": difficulty, "count": take})
    if not cells:
        kind, kp, difficulty = next(iter(available))
        cells.append({"type": kind, "knowledge_point": kp, "difficulty": difficulty, "count": 1})
    counts = Counter()
    for cell in cells:
        counts[cell["type"]] += cell["count"]
    total = sum(counts.values())
    sections = [{"type": kind, "count": n, "points": 100 / total} for kind, n in counts.items()]
    return pool, parse_blueprint({"occupation_code": "X", "level": 4, "sections": sections, "cells": cells})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(banks_and_blueprints(), st.integers(0, 2**63))
def test_every_paper_satisfies_its_blueprint_exactly(bank, seed):
    pool, blueprint = bank
    by_id = {item.id: item for item in pool}
    paper = assemble(blueprint, check_feasible(blueprint, pool), seed)
    chosen = [by_id[i] for i in item_ids(paper)]
    assert len(chosen) == blueprint.size == sum(len(s["items"]) for s in paper["sections"])  # no repeats
    for cell in blueprint.cells:
        assert sum(1 for item in chosen if cell.matches(item)) == cell.count
    for section in paper["sections"]:
        assert all(by_id[e["item_id"]].type == section["type"] for e in section["items"])


@settings(max_examples=60, deadline=None)
@given(banks_and_blueprints(), st.integers(0, 2**63))
def test_option_shuffling_never_changes_what_is_correct(bank, seed):
    pool, blueprint = bank
    by_id = {item.id: item for item in pool}
    paper = assemble(blueprint, check_feasible(blueprint, pool), seed)
    for section in paper["sections"]:
        for entry in section["items"]:
            item = by_id[entry["item_id"]]
            if not item.option_ids:
                continue
            order = entry["options"]
            assert sorted(order) == sorted(item.option_ids)  # the same ids: the key, by id, is untouched
            for position, (oid, fixed) in enumerate(zip(item.option_ids, item.fixed, strict=True)):
                if fixed:
                    assert order[position] == oid  # "以上都是" stays where it was


@settings(max_examples=30, deadline=None)
@given(banks_and_blueprints(), st.integers(0, 2**63))
def test_the_same_seed_draws_the_same_paper(bank, seed):
    pool, blueprint = bank
    candidates = check_feasible(blueprint, pool)
    assert assemble(blueprint, candidates, seed) == assemble(blueprint, candidates, seed)


def simple_pool(per_cell=40):
    pool, n = [], 0
    for kp in ("A-01", "A-02"):
        for difficulty in (2, 3):
            for _ in range(per_cell):
                n += 1
                pool.append(PoolItem(n, "single", f"{kp}-001", difficulty, tuple("ABCD"), (False,) * 4))
    return pool


BLUEPRINT = {
    "occupation_code": "X",
    "level": 4,
    "version": 3,
    "sections": [{"type": "single", "points": 5, "count": 20}],
    "cells": [
        {"type": "single", "knowledge_point": kp, "difficulty": d, "count": 5}
        for kp in ("A-01", "A-02")
        for d in (2, 3)
    ],
}


def test_an_infeasible_blueprint_names_each_short_cell():
    pool = [item for item in simple_pool() if not (item.knowledge_point.startswith("A-02") and item.difficulty == 3)]
    pool += [
        PoolItem(999, "single", "A-02-009", 3, tuple("ABCD"), (False,) * 4),
        PoolItem(998, "single", "A-02-010", 3, tuple("ABCD"), (False,) * 4),
    ]
    with pytest.raises(BlueprintError) as refused:
        check_feasible(parse_blueprint(BLUEPRINT), pool)
    assert refused.value.problems == ["鉴定点 A-02 难度3 单选：需要 5 题，题库可用 2 题"]


def test_an_invalid_blueprint_lists_every_problem():
    bad = {
        "sections": [{"type": "single", "points": 5, "count": 20}, {"type": "essay", "points": 1, "count": 1}],
        "cells": [
            {"type": "single", "knowledge_point": "A-01", "difficulty": 2, "count": 5},
            {"type": "single", "knowledge_point": "A-01-001", "difficulty": 2, "count": 5},
        ],
    }
    with pytest.raises(BlueprintError) as refused:
        parse_blueprint(bad)
    assert refused.value.problems == [
        "第2部分：未知题型 'essay'",
        "单选题：部分要求 20 题，细目合计 10 题",
        "鉴定点 A-01 难度2 单选 与 鉴定点 A-01-001 重叠：同一题型和难度的鉴定点不能互相包含",
    ]
    with pytest.raises(BlueprintError, match="总分必须为 100 分，现为 90 分"):
        parse_blueprint({**BLUEPRINT, "sections": [{"type": "single", "points": 4.5, "count": 20}]})


def test_neighbours_are_left_right_front_and_back():
    seats = {"01": (1, 1), "02": (1, 2), "03": (2, 1), "04": (2, 2)}
    assert sorted(neighbours(seats)) == [("01", "02"), ("01", "03"), ("02", "04"), ("03", "04")]


def test_neighbouring_seats_share_as_few_items_as_the_bank_allows():
    blueprint = parse_blueprint(BLUEPRINT)
    seats = {f"{r}{c}": (r, c) for r in range(1, 6) for c in range(1, 7)}
    room = assemble_room(blueprint, simple_pool(per_cell=10), seats, session_seed=7)
    assert room.worst_overlap == 0.0  # 10 items per cell, 5 per paper: neighbours can always differ
    tight = assemble_room(blueprint, simple_pool(per_cell=6), seats, session_seed=7)
    assert tight.worst_overlap == 0.8  # 6 items, 5 per paper: 5 + 5 - 6 = 4 of 5 must be shared, and no more
    again = assemble_room(blueprint, simple_pool(per_cell=10), seats, session_seed=7)
    assert again.papers == room.papers  # the whole room can be drawn again bit for bit for audit


def test_the_simulation_report_measures_coverage_exposure_difficulty_and_overlap():
    from item_bank.blueprint import simulate

    blueprint = parse_blueprint(BLUEPRINT)
    pool = simple_pool(per_cell=10)
    report = simulate(blueprint, pool, papers=60, seed=1, rows=5, cols=6, tolerance=0.1)
    assert report.papers == 60 and report.pool_size == 40
    assert report.coverage == 1.0  # 60 papers of 20 from 40: every item drawn
    assert 0.4 < report.exposure_mean <= report.exposure_max <= 1.0
    assert report.difficulty_mean == 2.5 and report.difficulty_spread == 0.0  # the cells fix the difficulty
    assert report.parallel
    assert report.overlap_worst == 0.0  # 10 per cell, 5 drawn: neighbours can always differ
