"""The load generator's own logic (benchmarks/load.py): the rooms, a candidate's pace, and the statistics."""

import importlib.util
import math
import random
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).parents[2] / "benchmarks" / "load.py")
load = sys.modules["bench_load"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(load)


@pytest.mark.parametrize(
    ("candidates", "sizes"),
    [(30, [30]), (250, [30] * 8 + [10]), (1000, [30] * 33 + [10]), (5000, [30] * 166 + [20]), (7, [7])],
)
def test_candidates_sit_in_rooms_of_30_with_the_rest_in_the_last(candidates, sizes):
    assert load.room_sizes(candidates) == sizes
    assert sum(load.room_sizes(candidates)) == candidates


def test_no_candidates_is_refused():
    with pytest.raises(ValueError):
        load.room_sizes(0)


def test_a_candidate_acts_every_10_to_20_seconds_within_the_window():
    plan = load.candidate_plan(random.Random(1), seconds=600, items=80)
    assert plan[0].at < 20
    gaps = [b.at - a.at for a, b in zip(plan, plan[1:], strict=False)]
    assert all(10 <= gap <= 20 for gap in gaps)
    assert plan[-1].at < 600
    assert 600 / 20 - 1 <= len(plan) <= 600 / 10 + 1


def test_new_answers_take_the_questions_in_order_and_changes_pick_another_option():
    for seed in range(50):
        chosen = {}
        expected_next = 0
        for action in load.candidate_plan(random.Random(seed), seconds=900, items=100):
            if action.kind != "answer":
                continue
            if action.new:
                assert action.item == expected_next
                expected_next += 1
            else:
                assert action.item in chosen, "only an answered question is changed"
                assert action.option != chosen[action.item], "a change picks a different option"
            chosen[action.item] = action.option


def test_a_candidate_with_every_question_answered_only_changes_and_flags():
    plan = load.candidate_plan(random.Random(3), seconds=3000, items=5)
    assert sum(1 for a in plan if a.new) == 5
    assert all(a.item < 5 for a in plan)


def test_over_many_candidates_a_fifth_of_actions_change_and_a_tenth_flag():
    actions = [a for seed in range(300) for a in load.candidate_plan(random.Random(seed), seconds=300, items=100)]
    flags = sum(1 for a in actions if a.kind == "flag") / len(actions)
    changes = sum(1 for a in actions if a.kind == "answer" and not a.new) / len(actions)
    assert 0.08 <= flags <= 0.12
    assert 0.15 <= changes <= 0.22  # a first action cannot be a change: slightly under a fifth


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    random.Random(0).shuffle(values)
    assert load.percentile(values, 0.5) == 50
    assert load.percentile(values, 0.99) == 99
    assert load.percentile(values, 1.0) == 100
    assert load.percentile([7.0], 0.99) == 7.0
    assert math.isnan(load.percentile([], 0.5))


def test_the_start_storm_ends_when_the_last_candidate_holds_the_paper():
    arrivals = {"a": 101.5, "b": 103.25, "c": 100.75}
    assert load.all_holding(100.0, arrivals, 3) == 3.25
    assert load.all_holding(100.0, arrivals, 4) is None, "a candidate who never got the paper: no time"


def test_the_storm_cpu_is_read_between_the_samples_either_side():
    samples = [(100.0, 10.0), (100.1, 10.1), (100.2, 10.1), (100.3, 10.25)]  # (time, cumulative CPU seconds)
    assert load.cpu_between(samples, 100.05, 100.25) == pytest.approx(0.125)  # 10.05 → 10.175
    assert load.cpu_between(samples, 100.0, 100.3) == pytest.approx(0.25)
    assert math.isnan(load.cpu_between(samples, 99.0, 100.2)), "before the first sample: not known"
    assert math.isnan(load.cpu_between(samples, 100.0, float("nan"))), "a storm that never ended: no figure"


def test_large_centres_get_more_load_processes():
    assert load.load_processes(250) == 2
    assert load.load_processes(2000) == 2
    assert load.load_processes(5000) == 4


def test_every_load_candidate_connects_from_an_address_of_its_own():
    tickets = [f"9{room:04d}{seat:03d}" for room in range(1, 168) for seat in range(1, 31)]  # 5,010 seats
    addresses = [load.source_address(ticket) for ticket in tickets]
    assert len(set(addresses)) == len(tickets)
    assert all(
        address.startswith("127.") and all(0 < int(p) < 256 for p in address.split(".")) for address in addresses
    )


def test_the_server_probe_counts_only_what_happened_in_the_measured_window(tmp_path):
    """``probe.py`` writes time-stamped samples; the ladder reports only those of the answering window."""
    import json

    samples = {
        "lags": [[99.0, 0.5], [100.0, 0.001], [101.0, 0.002], [102.0, 0.040], [103.5, 0.9]],
        "collections": [[99.5, 2, 0.3], [100.5, 0, 0.004], [102.5, 2, 0.120]],
    }
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(samples))
    seen = load.probe_summary(str(path), 100.0, 103.0)
    assert seen["loop_lag_max_ms"] == pytest.approx(40.0)  # the 0.5 s before and the 0.9 s after are left out
    assert seen["loop_lag_p50_ms"] == pytest.approx(2.0)
    assert (seen["gc_count"], seen["gc_full"]) == (2, 1)
    assert seen["gc_max_ms"] == pytest.approx(120.0) and seen["gc_total_ms"] == pytest.approx(124.0)
    assert load.probe_summary(str(tmp_path / "none.json"), 100.0, 103.0) == {}  # a server that wrote nothing
