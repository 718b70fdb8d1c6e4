import random

import pytest

from item_bank import PaperError, draw_paper, parse_item, parse_spec, score_paper
from item_bank.paper import paper_item_ids, shuffle_options


def make_pool(singles=10, multiples=6, true_false=8):
    pool = {}
    for n in range(singles):
        pool[len(pool) + 1] = parse_item(
            {
                "type": "single",
                "stem": f"单选{n}",
                "key": ["A"],
                "options": [{"id": x, "text": f"选项{x}"} for x in "ABC"]
                + [{"id": "D", "text": "以上都是", "fixed": True}],
            }
        )
    for n in range(multiples):
        pool[len(pool) + 1] = parse_item(
            {
                "type": "multiple",
                "stem": f"多选{n}",
                "key": ["A", "C"],
                "options": [{"id": x, "text": f"选项{x}"} for x in "ABCDE"],
            }
        )
    for n in range(true_false):
        pool[len(pool) + 1] = parse_item({"type": "true_false", "stem": f"判断{n}", "key": n % 2 == 0})
    return pool


SPEC = [
    {"type": "true_false", "count": 4, "points": 5},
    {"type": "single", "count": 5, "points": 10},
    {"type": "multiple", "count": 3, "points": 10},
]


def test_spec_must_add_up_to_100_points():
    with pytest.raises(PaperError, match="试卷总分必须为 100 分，现为 90 分"):
        parse_spec([{"type": "single", "count": 9, "points": 10}])


def test_spec_sections_come_in_the_usual_order():
    assert [s.type for s in parse_spec(SPEC)] == ["single", "multiple", "true_false"]


def test_a_paper_has_the_spec_counts_without_repeats():
    paper = draw_paper(make_pool(), parse_spec(SPEC), seed=7)
    assert [(s["type"], len(s["items"]), s["points"]) for s in paper["sections"]] == [
        ("single", 5, 10),
        ("multiple", 3, 10),
        ("true_false", 4, 5),
    ]
    ids = paper_item_ids(paper)
    assert len(ids) == len(set(ids))


def test_the_same_seed_gives_the_same_paper_and_another_seed_another():
    pool, spec = make_pool(), parse_spec(SPEC)
    assert draw_paper(pool, spec, seed=42) == draw_paper(pool, spec, seed=42)
    assert draw_paper(pool, spec, seed=42) != draw_paper(pool, spec, seed=43)


def test_too_small_a_pool_is_refused_naming_the_type():
    with pytest.raises(PaperError, match="多选题需要 3 题，题库可用 2 题"):
        draw_paper(make_pool(multiples=2), parse_spec(SPEC), seed=1)


def test_fixed_options_keep_their_place_when_shuffled():
    item = make_pool()[1]
    for seed in range(50):
        order = shuffle_options(item, random.Random(seed))
        assert order[-1] == "D"
        assert sorted(order) == ["A", "B", "C", "D"]


def test_shuffling_never_changes_what_is_correct():
    pool = make_pool()
    spec = parse_spec(SPEC)
    for seed in range(20):
        paper = draw_paper(pool, spec, seed=seed)
        keys = {item_id: pool[item_id].key for item_id in paper_item_ids(paper)}
        responses = {
            i: (k if isinstance(k, bool) else (k[0] if pool[i].type == "single" else list(k))) for i, k in keys.items()
        }
        assert score_paper(paper, pool, responses) == 100


def test_score_of_a_partly_answered_paper():
    pool = make_pool()
    paper = draw_paper(pool, parse_spec(SPEC), seed=3)
    singles = paper["sections"][0]["items"]
    responses = {singles[0]["item_id"]: "A", singles[1]["item_id"]: "B"}  # one right, one wrong
    assert score_paper(paper, pool, responses) == 10
