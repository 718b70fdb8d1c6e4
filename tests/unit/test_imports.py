import json

from item_bank.imports import Problem, read_json
from server.demo.seed import ITEMS_FILE


def test_the_shipped_demo_bank_is_valid():
    result = read_json(ITEMS_FILE.name, ITEMS_FILE.read_bytes())
    assert result.ok, [str(p) for p in result.problems]
    assert (result.occupation_name, result.level, len(result.items)) == ("污水处理工", 4, 130)
    assert len({item.knowledge_point for item in result.items}) >= 5
    assert len({item.difficulty for item in result.items}) >= 3


def test_a_utf8_file_with_a_byte_order_mark_is_read():
    body = {
        "format": "jikao-items/1",
        "occupation": {"code": "1", "name": "测试工"},
        "level": 5,
        "items": [
            {"code": "T1", "type": "true_false", "knowledge_point": "A", "difficulty": 1, "stem": "对吗。", "key": True}
        ],
    }
    result = read_json("bom.json", b"\xef\xbb\xbf" + json.dumps(body, ensure_ascii=False).encode())
    assert result.ok and len(result.items) == 1


def test_stems_differing_only_in_spacing_or_width_are_duplicates():
    items = [
        {"code": f"T{n}", "type": "true_false", "knowledge_point": "A", "difficulty": 1, "stem": stem, "key": True}
        for n, stem in enumerate(["PH 值 是 7。", "ＰＨ值是７。"])
    ]
    body = {"format": "jikao-items/1", "occupation": {"code": "1", "name": "测试工"}, "level": 5, "items": items}
    result = read_json("dup.json", json.dumps(body, ensure_ascii=False).encode())
    assert [str(p) for p in result.problems] == ["dup.json 第2题 题干：与本文件第1题重复"]
    assert result.items == []


def test_a_problem_reads_file_row_column_message():
    assert str(Problem("题库.xlsx", 12, "答案", "多选题至少需要两个正确选项", row_word="行")) == (
        "题库.xlsx 第12行 答案：多选题至少需要两个正确选项"
    )
    assert str(Problem("a.json", None, "", "文件中没有试题")) == "a.json：文件中没有试题"
