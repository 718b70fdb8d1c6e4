"""The registration list (报名名单): ID numbers checked, every problem by row and column, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from server.sittings.ids import check_character, id_problem
from server.sittings.registrations import Sitting, read_registrations
from tests.helpers import resident_id, xlsx

TODAY = date(2026, 11, 21)
SITTING = Sitting("6-28-01-14", "污水处理工", 4, {})


ZHANG = resident_id("11010519800101123")
LI = resident_id("32010219920815442")
WANG = resident_id("44030119751130561")
HEADER = ["姓名", "证件类型", "证件号码", "职业", "等级", "工作单位", "照片"]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(row) for row in rows).encode(encoding)


GOOD = [
    HEADER,
    ["张建华", "居民身份证", ZHANG, "污水处理工", "四级", "市排水公司", "zhang.jpg"],
    ["李秀英", "", LI, "6-28-01-14", "4", "市排水公司", ""],
    ["王磊", "居民身份证", WANG.lower(), "污水处理工", "四级/中级工", "", ""],
]


def test_the_check_character_of_the_national_standards_example():
    assert check_character("11010519491231002") == "X"  # GB 11643-1999's own example
    assert id_problem("居民身份证", "11010519491231002X") is None


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("110105194912310021", "校验位不正确（按前 17 位应为 X）"),
        ("11010519491231002", "应为 18 位，这里是 17 位"),
        ("1101051949123100AX", "前 17 位应为数字"),
        (resident_id("11010519990230123"), "出生日期 19990230 不存在"),
        (resident_id("11010520300101123"), "出生日期 2030-01-01 不合理"),
    ],
)
def test_a_wrong_resident_id_is_named_with_what_is_wrong(number, said):
    assert said in id_problem("居民身份证", number, TODAY)


def test_other_documents_are_checked_for_form_only():
    assert id_problem("护照", "E12345678") is None
    assert "5 至 20 位" in id_problem("护照", "E1")
    assert "81、82 或 83" in id_problem("港澳台居民居住证", ZHANG)
    assert "证件类型应为" in id_problem("驾驶证", "123456")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_a_good_csv_in_any_of_the_encodings_is_read_whole(encoding):
    result = read_registrations("名单.csv", csv_bytes(GOOD, encoding), SITTING, TODAY)
    assert result.ok, [str(p) for p in result.problems]
    assert [(p.row, p.name, p.id_number, p.id_type) for p in result.people] == [
        (2, "张建华", ZHANG, "居民身份证"),
        (3, "李秀英", LI, "居民身份证"),  # an empty type is the resident ID card
        (4, "王磊", WANG, "居民身份证"),  # a lower-case x is read as X
    ]
    assert result.people[0].work_unit == "市排水公司" and result.people[0].photo == "zhang.jpg"


def test_a_good_excel_file_is_read_and_numbers_stay_text():
    rows = [["考生姓名", "身份证号", "申报职业", "申报等级"], ["张建华", ZHANG, "污水处理工", 4]]
    result = read_registrations("名单.xlsx", xlsx(rows), SITTING, TODAY)
    assert result.ok, [str(p) for p in result.problems]
    assert result.people[0].id_number == ZHANG and result.people[0].level == 4


def test_a_file_with_errors_names_each_by_row_and_column_and_gives_nobody():
    rows = [
        HEADER,
        ["张建华", "居民身份证", ZHANG, "污水处理工", "四级", "", ""],
        ["", "居民身份证", LI[:-1] + ("0" if LI[-1] != "0" else "1"), "电工", "三级", "", "照片/li.bmp"],
        ["王磊", "居民身份证", ZHANG, "污水处理工", "四级", "", ""],
        ["赵六", "驾驶证", "123", "污水处理工", "高级", "", ""],
    ]
    result = read_registrations("名单.csv", csv_bytes(rows), SITTING, TODAY)
    assert not result.ok and result.people == []
    said = [str(p) for p in result.problems]
    assert "名单.csv 第3行 姓名：姓名为空" in said
    assert any(s.startswith("名单.csv 第3行 证件号码：身份证号码校验位不正确") for s in said)
    assert "名单.csv 第3行 职业：“电工”与本场次的职业（污水处理工 6-28-01-14）不符" in said
    assert "名单.csv 第3行 等级：与本场次的等级不符" in said
    assert any(s.startswith("名单.csv 第3行 照片：") for s in said)
    assert "名单.csv 第4行 证件号码：与第2行的证件号码重复" in said
    assert any(s.startswith("名单.csv 第5行 证件类型：证件类型应为") for s in said)
    assert "名单.csv 第5行 等级：无法识别的等级“高级”（如：四级、4、中级工）" in said


def test_someone_already_registered_in_the_sitting_is_refused():
    sitting = Sitting("6-28-01-14", "污水处理工", 4, {ZHANG: "张建华"})
    result = read_registrations("补报.csv", csv_bytes(GOOD[:2]), sitting, TODAY)
    assert [str(p) for p in result.problems] == ["补报.csv 第2行 证件号码：该证件号码已在本场次报名（张建华）"]


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("名单.csv", csv_bytes([["姓名", "证件号码", "职业"]]), "名单.csv 第1行 等级：缺少这一列"),
        ("名单.csv", csv_bytes([[*HEADER, "手机"]]), "名单.csv 第1行 手机：无法识别的列名（可用列名见导入模板）"),
        ("名单.csv", csv_bytes([HEADER]), "名单.csv：文件中没有考生"),
        ("名单.csv", csv_bytes([[*HEADER, "身份证号"]]), "名单.csv 第1行 证件号码：这一列出现了两次"),
        ("名单.csv", b"", "名单.csv：文件中没有内容"),
        ("名单.xlsx", b"not a workbook", "名单.xlsx：不是有效的 Excel (.xlsx) 文件，可能已损坏或不完整"),
        ("名单.doc", b"x", "名单.doc：不支持的文件类型（可导入 .xlsx、.csv）"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(name, data, said):
    result = read_registrations(name, data, SITTING, TODAY)
    assert said in [str(p) for p in result.problems] and result.people == []
