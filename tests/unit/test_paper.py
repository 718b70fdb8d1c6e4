"""Scoring a paper drawn from a blueprint."""

from item_bank import parse_item, score_paper
from item_bank.blueprint import assemble, check_feasible, parse_blueprint, pool_item


def make_bank():
    bank = {}
    for n in range(6):
        bank[len(bank) + 1] = parse_item(
            {
                "type": "single",
                "stem": f"单选{n}",
                "key": ["A"],
                "knowledge_point": "A-01-001",
                "difficulty": 2,
                "options": [{"id": x, "text": f"选项{x}"} for x in "ABC"]
                + [{"id": "D", "text": "以上都是", "fixed": True}],
            }
        )
    for n in range(4):
        bank[len(bank) + 1] = parse_item(
            {
                "type": "multiple",
                "stem": f"多选{n}",
                "key": ["A", "C"],
                "knowledge_point": "A-01-001",
                "difficulty": 3,
                "options": [{"id": x, "text": f"选项{x}"} for x in "ABCDE"],
            }
        )
    for n in range(6):
        bank[len(bank) + 1] = parse_item(
            {
                "type": "true_false",
                "stem": f"判断{n}",
                "key": n % 2 == 0,
                "knowledge_point": "B-01-001",
                "difficulty": 1,
            }
        )
    return bank


BLUEPRINT = parse_blueprint(
    {
        "occupation_code": "X",
        "level": 4,
        "sections": [
            {"type": "single", "points": 10, "count": 5},
            {"type": "multiple", "points": 10, "count": 3},
            {"type": "true_false", "points": 5, "count": 4},
        ],
        "cells": [
            {"type": "single", "knowledge_point": "A-01", "difficulty": 2, "count": 5},
            {"type": "multiple", "knowledge_point": "A-01", "difficulty": 3, "count": 3},
            {"type": "true_false", "knowledge_point": "B-01", "difficulty": 1, "count": 4},
        ],
    }
)


def paper(bank, seed):
    pool = [pool_item(i, item) for i, item in bank.items()]
    return assemble(BLUEPRINT, check_feasible(BLUEPRINT, pool), seed)


def key_response(item):
    return item.key if isinstance(item.key, bool) else (item.key[0] if item.type == "single" else list(item.key))


def test_all_correct_scores_full_marks_whatever_the_option_order():
    bank = make_bank()
    for seed in range(20):
        drawn = paper(bank, seed)
        responses = {e["item_id"]: key_response(bank[e["item_id"]]) for s in drawn["sections"] for e in s["items"]}
        assert score_paper(drawn, bank, responses) == 100


def test_score_of_a_partly_answered_paper():
    bank = make_bank()
    drawn = paper(bank, 3)
    singles = drawn["sections"][0]["items"]
    responses = {singles[0]["item_id"]: "A", singles[1]["item_id"]: "B"}  # one right, one wrong
    assert score_paper(drawn, bank, responses) == 10


def test_backup_papers_default_to_one_in_ten_seats_within_what_may_be_asked_for():
    from server.exam.assembly import MAX_BACKUPS, default_backups

    assert default_backups(12) == 3  # never fewer than three
    assert default_backups(1000) == 100
    # A centre of over 5,000 seats in one sitting: its own default must not be refused.
    assert default_backups(5010) == MAX_BACKUPS == 500
