"""Reading a sitting's registration list (报名名单) from Excel or CSV: every problem named by file, row and
column in Chinese, and nothing to import from a file with any problem.

Pure: takes the file's name and bytes and what the sitting already holds; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from item_bank.imports import Problem, parse_level, table_columns, table_records, table_rows, template_workbook
from server.sittings.ids import ID_TYPES, RESIDENT_ID, id_problem, normal_id

REQUIRED = ("姓名", "证件号码", "职业", "等级")
OPTIONAL = ("证件类型", "工作单位", "照片")
ALIASES = {  # what registration systems call the same columns
    "考生姓名": "姓名",
    "身份证号": "证件号码",
    "身份证号码": "证件号码",
    "申报职业": "职业",
    "职业（工种）": "职业",
    "申报等级": "等级",
    "单位": "工作单位",
    "照片文件名": "照片",
}
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
NAME_MAX = 32
UNIT_MAX = 128


@dataclass(frozen=True)
class Registration:
    row: int  # as numbered on screen in the file
    name: str
    id_type: str
    id_number: str
    level: int
    work_unit: str
    photo: str


@dataclass
class RegistrationList:
    file: str
    people: list[Registration] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Sitting:
    """What a row must match: the sitting's occupation (code or name) and level, and who is registered."""

    occupation_code: str
    occupation_name: str
    level: int
    registered: dict[str, str] = field(default_factory=dict)  # id number -> name


def read_registrations(name: str, data: bytes, sitting: Sitting, today: date | None = None) -> RegistrationList:
    result = RegistrationList(file=name)
    rows, refused = table_rows(name, data)
    if refused is not None:
        result.problems.append(refused)
        return result
    header_at, columns, result.problems = table_columns(name, rows, REQUIRED, OPTIONAL, ALIASES)
    if result.problems:
        return result
    seen: dict[str, int] = {}
    for index, _, cell in table_records(rows, header_at, columns):
        number = index + 1
        problems = _row_problems(name, number, cell, sitting, seen, today)
        result.problems.extend(problems)
        if not problems:
            result.people.append(
                Registration(
                    row=number,
                    name=cell["姓名"],
                    id_type=cell.get("证件类型") or RESIDENT_ID,
                    id_number=normal_id(cell["证件号码"]),
                    level=sitting.level,
                    work_unit=cell.get("工作单位", ""),
                    photo=cell.get("照片", ""),
                )
            )
    if not result.problems and not result.people:
        result.problems.append(Problem(name, None, "", "文件中没有考生"))
    if result.problems:
        result.people = []
    return result


def already_registered(file: str, row: int, registered_as: str) -> Problem:
    return Problem(file, row, "证件号码", f"该证件号码已在本场次报名（{registered_as}）", "行")


def _row_problems(name, number, cell, sitting: Sitting, seen: dict, today) -> list[Problem]:
    problems = []

    def problem(column: str, message: str) -> None:
        problems.append(Problem(name, number, column, message, "行"))

    person = cell["姓名"]
    if not person:
        problem("姓名", "姓名为空")
    elif len(person) > NAME_MAX:
        problem("姓名", f"姓名超过 {NAME_MAX} 个字")
    id_type = cell.get("证件类型") or RESIDENT_ID
    id_number = normal_id(cell["证件号码"])
    wrong = id_problem(id_type, id_number, today)
    if wrong:
        problem("证件类型" if id_type not in ID_TYPES else "证件号码", wrong)
    elif id_number in seen:
        problem("证件号码", f"与第{seen[id_number]}行的证件号码重复")
    elif id_number in sitting.registered:
        problems.append(already_registered(name, number, sitting.registered[id_number]))
    else:
        seen[id_number] = number
    occupation = cell["职业"]
    if occupation not in (sitting.occupation_code, sitting.occupation_name):
        problem("职业", f"“{occupation}”与本场次的职业（{sitting.occupation_name} {sitting.occupation_code}）不符")
    level = parse_level(cell["等级"])
    if level is None:
        problem("等级", f"无法识别的等级“{cell['等级']}”（如：四级、4、中级工）")
    elif level != sitting.level:
        problem("等级", "与本场次的等级不符")
    if len(cell.get("工作单位", "")) > UNIT_MAX:
        problem("工作单位", f"工作单位超过 {UNIT_MAX} 个字")
    photo = cell.get("照片", "")
    if photo and ("/" in photo or "\\" in photo or not photo.lower().endswith(PHOTO_SUFFIXES)):
        problem("照片", "照片应为文件名（不含路径），扩展名为 .jpg、.jpeg 或 .png")
    return problems


def write_registration_template() -> bytes:
    """The Excel list a test centre fills in: the columns the import reads, an example row and instructions.
    The ID number column is text, so that Excel keeps all 18 digits."""
    return template_workbook(
        "报名名单",
        [
            ["姓名", "证件类型", "证件号码", "职业", "等级", "工作单位", "照片"],
            ["张建华", RESIDENT_ID, "11010519491231002X", "污水处理工", "四级/中级工", "市排水有限公司", "张建华.jpg"],
        ],
        [
            "每行一名考生；列的顺序可以调整，列名不能改。",
            "必填列：姓名、证件号码、职业、等级。可选列：证件类型（不填即居民身份证）、工作单位、照片。",
            f"证件类型：{'、'.join(ID_TYPES)}。",
            "居民身份证号码为 18 位，最后一位可以是 X；导入时核对校验位和出生日期。证件号码列请设为文本格式。",
            "职业填职业名称或职业代码，等级填 1–5 或 四级、中级工、四级/中级工 等，须与场次一致。",
            "照片填照片文件名（不含路径），.jpg 或 .png。",
            "同一证件号码在一个场次只能报名一次。文件中有任何错误时，一名考生也不会导入。",
        ],
        widths=dict(zip("ABCDEFG", (10, 16, 22, 16, 14, 24, 16), strict=True)),
        text_columns="C",
    )
