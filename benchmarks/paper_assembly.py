"""Blueprint paper assembly speed (issue 4): 5,000 papers of 100 items from a 10,000-item bank in at most
2 s, and one 30-seat room (neighbour-aware) in at most 50 ms, on this 2-core machine.

The bank is synthetic (60 % single, 20 % multiple, 20 % true/false, 50 knowledge-point groups, 5
difficulties); the blueprint has 100 cells of one item each (the finest grain, the most work per paper).
The baseline, timed in the same run, draws 100 random item ids per paper with no blueprint at all: the
floor of any assembly. Medians over the runs, and the ratio.

    .venv/bin/python benchmarks/paper_assembly.py --runs 5
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from item_bank.blueprint import PoolItem, assemble, assemble_room, check_feasible, parse_blueprint  # noqa: E402


def synthetic_bank(size: int, rng: random.Random) -> list[PoolItem]:
    groups = [f"{c}-{m:02d}" for c in "ABCDE" for m in range(1, 11)]
    pool = []
    for n in range(size):
        kind = rng.choices(["single", "multiple", "true_false"], [6, 2, 2])[0]
        options = () if kind == "true_false" else tuple("ABCD")
        pool.append(
            PoolItem(
                n + 1,
                kind,
                f"{rng.choice(groups)}-{rng.randint(1, 9):03d}",
                rng.randint(1, 5),
                options,
                (False,) * len(options),
            )
        )
    return pool


def fine_blueprint(pool: list[PoolItem], rng: random.Random):
    available = Counter((i.type, i.knowledge_point[:4], i.difficulty) for i in pool)
    need = {"single": 60, "multiple": 20, "true_false": 20}
    cells = []
    for kind, total in need.items():
        keys = sorted(k for k in available if k[0] == kind)
        rng.shuffle(keys)
        cells += [{"type": kind, "knowledge_point": kp, "difficulty": d, "count": 1} for _, kp, d in keys[:total]]
    sections = [{"type": kind, "points": 1, "count": n} for kind, n in need.items()]
    return parse_blueprint({"occupation_code": "X", "level": 4, "sections": sections, "cells": cells})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--papers", type=int, default=5000)
    args = parser.parse_args()
    rng = random.Random(2026)
    pool = synthetic_bank(10_000, rng)
    blueprint = fine_blueprint(pool, rng)
    seats = {f"{r:02d}{c:02d}": (r, c) for r in range(1, 6) for c in range(1, 7)}
    ids = [item.id for item in pool]
    results: dict[str, list[float]] = {"papers": [], "baseline": [], "room": []}
    for run in range(args.runs):
        start = time.perf_counter()
        candidates = check_feasible(blueprint, pool)
        for seed in range(args.papers):
            assemble(blueprint, candidates, seed + run * args.papers)
        results["papers"].append(time.perf_counter() - start)
        start = time.perf_counter()
        draw = random.Random(run)
        for _ in range(args.papers):
            draw.sample(ids, 100)
        results["baseline"].append(time.perf_counter() - start)
        start = time.perf_counter()
        assemble_room(blueprint, pool, seats, run)
        results["room"].append(time.perf_counter() - start)
    papers, baseline, room = (statistics.median(results[k]) for k in ("papers", "baseline", "room"))
    print(f"bank 10,000 items, blueprint {blueprint.size} items in {len(blueprint.cells)} cells, runs {args.runs}")
    print("| what | median | min | max | target | × baseline |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {args.papers:,} papers (assemble) | {papers:.2f} s | {min(results['papers']):.2f} s | "
        f"{max(results['papers']):.2f} s | ≤ 2 s | {papers / baseline:.1f} |"
    )
    print(
        f"| baseline: {args.papers:,} × random.sample(ids, 100) | {baseline:.2f} s | "
        f"{min(results['baseline']):.2f} s | "
        f"{max(results['baseline']):.2f} s | | 1.0 |"
    )
    print(
        f"| one 30-seat room, neighbour-aware (assemble_room) | {room * 1000:.0f} ms | "
        f"{min(results['room']) * 1000:.0f} ms | "
        f"{max(results['room']) * 1000:.0f} ms | ≤ 50 ms | |"
    )


if __name__ == "__main__":
    main()
