"""Reading item files into validated items, with every problem named by file, row and column.

Pure: takes a file's name and bytes, returns items and problems; nothing is written anywhere. A file
with any problem yields no items to import (the caller imports all or nothing).

Formats: the project's own lossless JSON (``jikao-items/1``). Excel, CSV and QTI follow.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field

from item_bank.types import ITEM_TYPES, Item, ItemError, parse_item

JSON_FORMAT = "jikao-items/1"
COLUMNS = {
    "code": "编号",
    "type": "题型",
    "stem": "题干",
    "options": "选项",
    "key": "答案",
    "difficulty": "难度",
    "knowledge_point": "鉴定点",
    "explanation": "解析",
    "response": "答案",
}
LEVELS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # 1-based item (JSON) or row (spreadsheet) number; None for the whole file
    column: str
    message: str
    row_word: str = "题"  # "题" for items of a JSON file, "行" for spreadsheet rows

    def __str__(self) -> str:
        where = f"第{self.row}{self.row_word}" if self.row is not None else ""
        place = " ".join(part for part in (where, self.column) if part)
        return f"{self.file} {place}：{self.message}" if place else f"{self.file}：{self.message}"


@dataclass
class ImportResult:
    file: str
    occupation_code: str = ""
    occupation_name: str = ""
    level: int = 0
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def normal_stem(stem: str) -> str:
    """Stems that differ only in spacing or full/half width are the same stem."""
    return "".join(unicodedata.normalize("NFKC", stem).split())


def read_json(name: str, data: bytes) -> ImportResult:
    result = ImportResult(file=name)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        result.problems.append(Problem(name, None, "", "文件不是 UTF-8 编码的 JSON"))
        return result
    except json.JSONDecodeError as exc:
        result.problems.append(Problem(name, None, "", f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）"))
        return result
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        result.problems.append(Problem(name, None, "format", f"不是 {JSON_FORMAT} 格式的题库文件"))
        return result
    occupation = document.get("occupation")
    if not isinstance(occupation, dict) or not occupation.get("code") or not occupation.get("name"):
        result.problems.append(Problem(name, None, "职业", "缺少职业代码或名称"))
    else:
        result.occupation_code, result.occupation_name = str(occupation["code"]), str(occupation["name"])
    if document.get("level") not in LEVELS:
        result.problems.append(Problem(name, None, "等级", "等级必须是 1 到 5"))
    else:
        result.level = document["level"]
    items = document.get("items")
    if not isinstance(items, list) or not items:
        result.problems.append(Problem(name, None, "items", "文件中没有试题"))
        return result
    seen: dict[str, int] = {}
    for number, raw in enumerate(items, start=1):
        if not isinstance(raw, dict):
            result.problems.append(Problem(name, number, "", "试题必须是一个对象"))
            continue
        stem = normal_stem(str(raw.get("stem") or ""))
        if stem and stem in seen:
            result.problems.append(Problem(name, number, "题干", f"与本文件第{seen[stem]}题重复"))
        seen.setdefault(stem, number)
        try:
            item = parse_item(raw)
        except ItemError as exc:
            result.problems.append(Problem(name, number, COLUMNS.get(exc.field, exc.field), exc.message))
            continue
        if not item.knowledge_point:
            result.problems.append(Problem(name, number, "鉴定点", "缺少鉴定点代码"))
        result.items.append(item)
    if result.problems:
        result.items = []
    return result


def type_label(item_type: str) -> str:
    return ITEM_TYPES[item_type].label
