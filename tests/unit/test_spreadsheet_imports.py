"""The bank admins' spreadsheets: Excel and CSV, every problem named by file, row and column."""

import csv
import io

import pytest

from item_bank.imports import TEMPLATE_HEADERS, TEMPLATE_ROWS, read_csv, read_file, read_xlsx, write_template
from tests.helpers import xlsx


def csv_bytes(rows: list[list], encoding="utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


def test_the_template_imports_its_own_examples():
    result = read_xlsx("题库导入模板.xlsx", write_template())
    assert result.ok, problems(result)
    assert [i.type for i in result.items] == ["single", "multiple", "true_false"]
    assert (result.occupation_name, result.level) == ("污水处理工", 4)
    assert result.items[1].key == ("A", "B", "D")
    assert result.items[2].key is True


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(encoding):
    result = read_csv("题库.csv", csv_bytes([TEMPLATE_HEADERS, *TEMPLATE_ROWS], encoding))
    assert result.ok, problems(result)
    assert result.items[0].stem.startswith("活性污泥法中")


def test_headers_may_come_in_any_order():
    order = list(reversed(range(len(TEMPLATE_HEADERS))))
    rows = [[row[i] for i in order] for row in [TEMPLATE_HEADERS, *TEMPLATE_ROWS]]
    assert read_xlsx("x.xlsx", xlsx(rows)).ok


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("答案", "", "题库.xlsx 第2行 答案：缺少答案"),
        ("答案", "E", "题库.xlsx 第2行 答案：答案 E 不在选项中"),
        ("答案", "AB", "题库.xlsx 第2行 答案：单选题必须有且只有一个正确选项"),
        ("题干", "", "题库.xlsx 第2行 题干：题干不能为空"),
        ("难度", "7", "题库.xlsx 第2行 难度：难度必须是 1 到 5 的整数"),
        ("难度", "较难", "题库.xlsx 第2行 难度：难度必须是 1 到 5 的整数"),
        ("题型", "填空", "题库.xlsx 第2行 题型：题型必须是 单选、多选 或 判断"),
        ("等级", "九级", "题库.xlsx 第2行 等级：等级必须是 1 到 5，或“四级”“中级工”等"),
        ("选项B", "", "题库.xlsx 第2行 选项B：选项为空，但后面的选项D有内容"),
        ("鉴定点", "", "题库.xlsx 第2行 鉴定点：缺少鉴定点代码"),
    ],
)
def test_a_bad_cell_is_named_by_row_and_column_and_nothing_is_imported(column, value, expected):
    rows = [TEMPLATE_HEADERS, [*TEMPLATE_ROWS[0]], *TEMPLATE_ROWS[1:]]
    rows[1][TEMPLATE_HEADERS.index(column)] = value
    result = read_xlsx("题库.xlsx", xlsx(rows))
    assert expected in problems(result)
    assert result.items == []


def test_multiple_choice_needs_two_correct_options_by_row():
    rows = [TEMPLATE_HEADERS, TEMPLATE_ROWS[0], [*TEMPLATE_ROWS[1]]]
    rows[2][TEMPLATE_HEADERS.index("答案")] = "A"
    assert problems(read_xlsx("题库.xlsx", xlsx(rows))) == ["题库.xlsx 第3行 答案：多选题至少需要两个正确选项"]


def test_true_false_answers_in_every_usual_form():
    for word, key in [
        ("对", True),
        ("错", False),
        ("正确", True),
        ("错误", False),
        ("√", True),
        ("×", False),
        ("A", True),
        ("B", False),
    ]:
        row = [*TEMPLATE_ROWS[2]]
        row[TEMPLATE_HEADERS.index("答案")] = word
        result = read_xlsx("x.xlsx", xlsx([TEMPLATE_HEADERS, row]))
        assert result.items[0].key is key, word


def test_wrong_headers_are_reported_not_dropped():
    headers = [*TEMPLATE_HEADERS[:-1], "备注"]
    headers[headers.index("答案")] = "正确答案"
    result = read_xlsx("题库.xlsx", xlsx([headers, *TEMPLATE_ROWS]))
    assert set(problems(result)) == {
        "题库.xlsx 第1行 备注：无法识别的列名（可用列名见导入模板）",
        "题库.xlsx 第1行 正确答案：无法识别的列名（可用列名见导入模板）",
        "题库.xlsx 第1行 答案：缺少这一列",
    }


def test_duplicate_stems_and_mixed_banks_are_refused():
    again = [*TEMPLATE_ROWS[0]]
    other_level = [*TEMPLATE_ROWS[2]]
    other_level[TEMPLATE_HEADERS.index("等级")] = "三级"
    other_level[TEMPLATE_HEADERS.index("题干")] = "另一个等级的判断题。"
    result = read_xlsx("题库.xlsx", xlsx([TEMPLATE_HEADERS, *TEMPLATE_ROWS, again, other_level]))
    assert "题库.xlsx 第5行 题干：与第2行重复" in problems(result)
    assert "题库.xlsx 第6行 职业：一个文件只能是同一职业、同一等级的试题" in problems(result)


def test_a_last_option_such_as_all_of_the_above_stays_last():
    row = [*TEMPLATE_ROWS[0]]
    row[TEMPLATE_HEADERS.index("选项D")] = "以上都是"
    item = read_xlsx("x.xlsx", xlsx([TEMPLATE_HEADERS, row])).items[0]
    assert [o.fixed for o in item.options] == [False, False, False, True]


@pytest.mark.parametrize("data", [write_template()[:500], b"not a zip at all", b""])
def test_a_truncated_or_foreign_excel_file_is_refused_by_name(data):
    assert problems(read_xlsx("坏.xlsx", data)) == ["坏.xlsx：不是有效的 Excel (.xlsx) 文件，可能已损坏或不完整"]


def test_an_unknown_file_type_is_refused():
    assert problems(read_file("题库.doc", b"...")) == ["题库.doc：不支持的文件类型（可导入 .xlsx、.csv、.json）"]
