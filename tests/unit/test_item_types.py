import pytest

from item_bank import ITEM_TYPES, ItemError, item_to_data, parse_item

SINGLE = {
    "code": "T-1",
    "type": "single",
    "knowledge_point": "B-02-001",
    "difficulty": 2,
    "stem": "SV30 是指混合液静置（　）后污泥所占的体积百分比。",
    "options": [
        {"id": "A", "text": "10 min"},
        {"id": "B", "text": "30 min"},
        {"id": "C", "text": "60 min"},
        {"id": "D", "text": "以上都不对", "fixed": True},
    ],
    "key": ["B"],
    "explanation": "静置 30 分钟。",
}
MULTIPLE = {
    "code": "T-2",
    "type": "multiple",
    "knowledge_point": "B-01-001",
    "difficulty": 3,
    "stem": "预处理设施包括（　）。",
    "options": [
        {"id": "A", "text": "格栅"},
        {"id": "B", "text": "沉砂池"},
        {"id": "C", "text": "二沉池"},
        {"id": "D", "text": "调节池"},
    ],
    "key": ["A", "B", "D"],
}
TRUE_FALSE = {
    "code": "T-3",
    "type": "true_false",
    "knowledge_point": "A-01-001",
    "difficulty": 1,
    "stem": "进入有限空间作业前应先检测气体。",
    "key": True,
}


def test_every_type_is_registered_with_a_chinese_label():
    assert {name: kind.label for name, kind in ITEM_TYPES.items()} == {
        "single": "单选",
        "multiple": "多选",
        "true_false": "判断",
    }


@pytest.mark.parametrize("data", [SINGLE, MULTIPLE, TRUE_FALSE])
def test_round_trip_through_the_json_form(data):
    item = parse_item(data)
    assert parse_item(item_to_data(item)) == item


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"stem": "  "}, "stem", "题干不能为空"),
        ({"key": []}, "key", "缺少答案"),
        ({"key": ["E"]}, "key", "答案 E 不在选项中"),
        ({"key": ["A", "B"]}, "key", "单选题必须有且只有一个正确选项"),
        ({"difficulty": 7}, "difficulty", "难度必须是 1 到 5 的整数"),
        ({"options": [{"id": "A", "text": "x"}, {"id": "A", "text": "y"}], "key": ["A"]}, "options", "选项编号重复"),
        ({"options": [{"id": "A", "text": ""}, {"id": "B", "text": "y"}], "key": ["A"]}, "options", "选项内容不能为空"),
    ],
)
def test_invalid_single_choice_items_are_refused_naming_the_field(change, field, message):
    with pytest.raises(ItemError) as refused:
        parse_item({**SINGLE, **change})
    assert refused.value.field == field
    assert refused.value.message == message


def test_multiple_choice_needs_two_correct_options():
    with pytest.raises(ItemError, match="多选题至少需要两个正确选项"):
        parse_item({**MULTIPLE, "key": ["A"]})


def test_true_false_key_must_be_a_boolean():
    with pytest.raises(ItemError, match="判断题的答案"):
        parse_item({**TRUE_FALSE, "key": "对"})


def test_unknown_type_is_refused():
    with pytest.raises(ItemError, match="未知题型"):
        parse_item({**SINGLE, "type": "essay"})


def test_single_choice_scores_right_or_wrong():
    item = parse_item(SINGLE)
    kind = item.kind
    assert kind.score(item, kind.normalize_response(item, "B"), 2) == 2
    assert kind.score(item, kind.normalize_response(item, "A"), 2) == 0
    assert kind.score(item, None, 2) == 0


def test_multiple_choice_is_all_or_nothing():
    item = parse_item(MULTIPLE)
    kind = item.kind
    assert kind.score(item, kind.normalize_response(item, ["D", "A", "B"]), 2) == 2
    assert kind.score(item, kind.normalize_response(item, ["A", "B"]), 2) == 0  # partly right earns nothing
    assert kind.score(item, kind.normalize_response(item, ["A", "B", "C", "D"]), 2) == 0


def test_true_false_scores_right_or_wrong():
    item = parse_item(TRUE_FALSE)
    assert item.kind.score(item, True, 1) == 1
    assert item.kind.score(item, False, 1) == 0


@pytest.mark.parametrize(
    ("data", "response"),
    [
        (SINGLE, "E"),
        (SINGLE, ["B"]),
        (SINGLE, True),
        (MULTIPLE, "A"),
        (MULTIPLE, ["A", "A"]),
        (MULTIPLE, ["A", "Z"]),
        (TRUE_FALSE, "对"),
        (TRUE_FALSE, 1),
    ],
)
def test_responses_that_do_not_fit_the_item_are_refused(data, response):
    item = parse_item(data)
    with pytest.raises(ItemError):
        item.kind.normalize_response(item, response)


def test_clearing_every_box_of_a_multiple_choice_means_unanswered():
    item = parse_item(MULTIPLE)
    assert item.kind.normalize_response(item, []) is None


@pytest.mark.parametrize("data", [SINGLE, MULTIPLE, TRUE_FALSE])
def test_what_a_candidate_sees_carries_no_key_and_no_explanation(data):
    item = parse_item(data)
    shown = item.kind.to_candidate(item)
    assert set(shown) <= {"type", "stem", "options"}
    for option in shown.get("options", []):
        assert set(option) == {"id", "text"}  # not even the "fixed" marker


def test_candidate_view_follows_the_papers_option_order():
    item = parse_item(SINGLE)
    shown = item.kind.to_candidate(item, ["C", "A", "B", "D"])
    assert [o["text"] for o in shown["options"]] == ["60 min", "10 min", "30 min", "以上都不对"]
