"""Reading item files into validated items, with every problem named by file, row and column.

Pure: takes a file's name and bytes, returns items and problems; nothing is written anywhere. A file
with any problem yields no items to import (the caller imports all or nothing).

Formats: the project's own lossless JSON (``jikao-items/1``); the bank admins' spreadsheets, as Excel
(.xlsx) or CSV (UTF-8 with or without BOM, or GBK as Chinese Excel saves it). QTI follows.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field

from item_bank.types import Item, ItemError, item_to_data, parse_item

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


# ---- spreadsheets: one row per item, headers in any order ----

OPTION_COLUMNS = tuple(f"选项{letter}" for letter in "ABCDEFGH")
REQUIRED = ("职业", "等级", "题型", "题干", "答案", "难度", "鉴定点")
OPTIONAL = ("职业代码", "分值", "解析", "编号", *OPTION_COLUMNS)
TYPE_NAMES = {
    "单选": "single",
    "单选题": "single",
    "多选": "multiple",
    "多选题": "multiple",
    "判断": "true_false",
    "判断题": "true_false",
}
LEVEL_NAMES = {
    "五级": 5,
    "初级工": 5,
    "四级": 4,
    "中级工": 4,
    "三级": 3,
    "高级工": 3,
    "二级": 2,
    "技师": 2,
    "一级": 1,
    "高级技师": 1,
}
TRUE_WORDS = {"对", "正确", "√", "✓", "A", "T", "是"}
FALSE_WORDS = {"错", "错误", "×", "✗", "B", "F", "否"}
FIXED_PREFIXES = ("以上", "上述")  # "以上都是", "以上都不对", "上述均正确": they stay last when shuffled
TEMPLATE_ROWS = [
    [
        "污水处理工",
        "四级",
        "单选",
        "活性污泥法中，SV30 是指混合液静置（　）后污泥所占的体积百分比。",
        "10 min",
        "30 min",
        "60 min",
        "2 h",
        "B",
        2,
        "B-02-001",
        2,
        "静置 30 分钟。",
    ],
    [
        "污水处理工",
        "四级",
        "多选",
        "污水处理厂的预处理设施通常包括（　）。",
        "格栅",
        "沉砂池",
        "二沉池",
        "调节池",
        "ABD",
        3,
        "B-01-001",
        2,
        "",
    ],
    [
        "污水处理工",
        "四级",
        "判断",
        "进入有限空间作业前，必须先检测有毒有害气体浓度。",
        "",
        "",
        "",
        "",
        "对",
        1,
        "C-01-001",
        1,
        "",
    ],
]
TEMPLATE_HEADERS = [
    "职业",
    "等级",
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "难度",
    "鉴定点",
    "分值",
    "解析",
]


def read_xlsx(name: str, data: bytes, progress=None) -> ImportResult:
    rows, refused = xlsx_rows(name, data, progress)
    return _refused(name, refused) if refused else read_rows(name, rows, progress)


def read_csv(name: str, data: bytes, progress=None) -> ImportResult:
    rows, refused = csv_rows(name, data)
    return _refused(name, refused) if refused else read_rows(name, rows, progress)


def _refused(name: str, problem: Problem) -> ImportResult:
    result = ImportResult(file=name)
    result.problems.append(problem)
    return result


# ---- tables: the rows of a spreadsheet, for any list kept in Excel or CSV (items, registration lists) ----


def xlsx_rows(name: str, data: bytes, progress=None) -> tuple[list[list], Problem | None]:
    """The first sheet's rows as values, or the problem that stops the file being read."""
    import io
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return [], Problem(name, None, "", "不是有效的 Excel (.xlsx) 文件，可能已损坏或不完整")
    sheet = workbook.worksheets[0]
    total = sheet.max_row or 0
    rows = []
    try:
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if progress is not None:
                progress(len(rows), max(total, len(rows)), "读取")
    finally:
        workbook.close()
    return rows, None


def csv_rows(name: str, data: bytes) -> tuple[list[list], Problem | None]:
    """The rows of a CSV file in UTF-8 (with or without BOM) or GBK, as Chinese Excel saves it."""
    import csv
    import io

    for encoding in ("utf-8-sig", "gb18030"):  # GB 18030 reads every GBK file
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        text = ""
    try:
        return list(csv.reader(io.StringIO(text, newline=""))), None
    except csv.Error as exc:
        return [], Problem(name, None, "", f"CSV 格式错误：{exc}")


def table_columns(
    name: str, rows: list[list], required, optional, aliases: dict[str, str] | None = None
) -> tuple[int, dict[str, int], list[Problem]]:
    """The header (the first non-empty row, ``aliases`` mapping other names to the known ones): its row index,
    each known column's position, and every problem of the header (unknown, repeated or missing columns)."""
    aliases = aliases or {}
    header_at = next((i for i, row in enumerate(rows) if any(cell_text(c) for c in row)), None)
    if header_at is None:
        return -1, {}, [Problem(name, None, "", "文件中没有内容")]
    problems, columns = [], {}
    for index, cell in enumerate(rows[header_at]):
        header = aliases.get(cell_text(cell), cell_text(cell))
        if not header:
            continue
        if header not in required and header not in optional:
            problems.append(Problem(name, header_at + 1, header, "无法识别的列名（可用列名见导入模板）", "行"))
        elif header in columns:
            problems.append(Problem(name, header_at + 1, header, "这一列出现了两次", "行"))
        else:
            columns[header] = index
    problems.extend(Problem(name, header_at + 1, h, "缺少这一列", "行") for h in required if h not in columns)
    return header_at, columns, problems


def table_records(rows: list[list], header_at: int, columns: dict[str, int]):
    """Each non-empty row under the header: its index, the row, and its known columns' cells as text."""
    for index in range(header_at + 1, len(rows)):
        row = rows[index]
        if any(cell_text(c) for c in row):
            yield index, row, {h: cell_text(row[i]) if i < len(row) else "" for h, i in columns.items()}


def table_rows(name: str, data: bytes) -> tuple[list[list], Problem | None]:
    """The rows of an .xlsx or .csv file, chosen by the file's extension."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix == "xlsx":
        return xlsx_rows(name, data)
    if suffix == "csv":
        return csv_rows(name, data)
    return [], Problem(name, None, "", "不支持的文件类型（可导入 .xlsx、.csv）")


def read_rows(name: str, rows: list[list], progress=None) -> ImportResult:
    """Items from a table whose first non-empty row is the header; rows are numbered as on screen.

    ``progress(done, total, phase)``, if given, is called as rows are checked.
    """
    result = ImportResult(file=name)
    header_at, columns, result.problems = table_columns(name, rows, REQUIRED, OPTIONAL)
    if result.problems:
        return result
    seen: dict[str, int] = {}
    bank: tuple | None = None
    for index, row, cell in table_records(rows, header_at, columns):
        if progress is not None:
            progress(index + 1, len(rows), "检查")
        number = index + 1
        raw_level = row[columns["等级"]] if columns["等级"] < len(row) else None
        problems = _row_problems(name, number, cell, raw_level, result, seen)
        here = (cell.get("职业代码") or cell["职业"], cell["职业"], parse_level(raw_level))
        if bank is None and not problems:
            bank = here
            result.occupation_code, result.occupation_name, result.level = here
        elif bank is not None and here != bank and not problems:
            problems.append(Problem(name, number, "职业", "一个文件只能是同一职业、同一等级的试题", "行"))
        result.problems.extend(problems)
    if not result.problems and not result.items:
        result.problems.append(Problem(name, None, "", "文件中没有试题"))
    if result.problems:
        result.items = []
    return result


def _row_problems(name, number, cell, raw_level, result, seen) -> list[Problem]:
    def problem(column: str, message: str) -> Problem:
        return Problem(name, number, column, message, "行")

    found = []
    if not cell["职业"]:
        found.append(problem("职业", "不能为空"))
    if parse_level(raw_level) is None:
        found.append(problem("等级", "等级必须是 1 到 5，或“四级”“中级工”等"))
    item_type = TYPE_NAMES.get(cell["题型"])
    if item_type is None:
        found.append(problem("题型", "题型必须是 单选、多选 或 判断"))
    difficulty = _whole_number(cell["难度"])
    if difficulty is None or not 1 <= difficulty <= 5:
        found.append(problem("难度", "难度必须是 1 到 5 的整数"))
    if cell.get("分值") and (_number(cell["分值"]) is None or _number(cell["分值"]) <= 0):
        found.append(problem("分值", "分值必须是正数"))
    stem = normal_stem(cell["题干"])
    if stem and stem in seen:
        found.append(problem("题干", f"与第{seen[stem]}行重复"))
    seen.setdefault(stem, number)
    texts = [cell.get(column, "") for column in OPTION_COLUMNS]
    last = max((i for i, t in enumerate(texts) if t), default=-1)
    for i in range(last):
        if not texts[i]:
            found.append(problem(OPTION_COLUMNS[i], f"选项为空，但后面的{OPTION_COLUMNS[last]}有内容"))
    if found or item_type is None:
        return found
    data: dict = {
        "type": item_type,
        "stem": cell["题干"],
        "difficulty": difficulty,
        "code": cell.get("编号", ""),
        "knowledge_point": cell["鉴定点"],
        "explanation": cell.get("解析", ""),
    }
    if item_type == "true_false":
        if last >= 0:
            return [problem(OPTION_COLUMNS[0], "判断题不填写选项")]
        answer = cell["答案"].upper() if cell["答案"] in ("a", "b", "t", "f") else cell["答案"]
        if answer not in TRUE_WORDS | FALSE_WORDS:
            return [problem("答案", "判断题的答案必须是 对/错、正确/错误、√/× 或 A/B")]
        data["key"] = answer in TRUE_WORDS
    else:
        ids = "ABCDEFGH"[: last + 1]
        data["options"] = [
            {"id": oid, "text": text, **({"fixed": True} if i == last and text.startswith(FIXED_PREFIXES) else {})}
            for i, (oid, text) in enumerate(zip(ids, texts, strict=False))
        ]
        letters = [c for c in cell["答案"].upper() if c not in " ,，、;；"]
        if not letters:
            return [problem("答案", "缺少答案")]
        data["key"] = letters
    if not cell["鉴定点"]:
        return [problem("鉴定点", "缺少鉴定点代码")]
    try:
        result.items.append(parse_item(data))
    except ItemError as exc:
        return [problem(COLUMNS.get(exc.field, exc.field), exc.message)]
    return []


def cell_text(value) -> str:
    """A cell as text: empty for nothing, 4 for the 4.0 a spreadsheet may hold."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _whole_number(text: str) -> int | None:
    number = _number(text)
    return int(number) if number is not None and number.is_integer() else None


def parse_level(value) -> int | None:
    """A level as people write it: 4, 四级, 中级工 or 四级/中级工; None if it is none of these."""
    text = cell_text(value)
    if text in LEVEL_NAMES:
        return LEVEL_NAMES[text]
    for part in text.replace("／", "/").split("/"):
        if part in LEVEL_NAMES:
            return LEVEL_NAMES[part]
    number = _whole_number(text) if text else None
    return number if number in LEVELS else None


def read_file(name: str, data: bytes, progress=None) -> ImportResult:
    """Read an item file by its extension; ``progress(done, total, phase)`` follows large files."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    readers = {"json": read_json, "xlsx": read_xlsx, "csv": read_csv}
    if suffix not in readers:
        result = ImportResult(file=name)
        result.problems.append(Problem(name, None, "", "不支持的文件类型（可导入 .xlsx、.csv、.json）"))
        return result
    if suffix == "json":
        return read_json(name, data)
    return readers[suffix](name, data, progress)


# ---- writing: the inverse of each reader, for plain exports of test banks and for round trips ----

EXPORT_HEADERS = ["编号", "职业代码", "职业", "等级", "题型", "题干", *OPTION_COLUMNS, "答案", "难度", "鉴定点", "解析"]
TYPE_WORDS = {"single": "单选", "multiple": "多选", "true_false": "判断"}


def item_rows(items: list[Item], occupation_code: str, occupation_name: str, level: int) -> list[list]:
    """One row per item in the bank admins' columns; refuses items with pictures (a sheet cannot hold them)."""
    pictured = [item.code for item in items if item.images]
    if pictured:
        raise ItemError(f"含图片的试题不能导出为表格（请用 JSON）：{'、'.join(pictured)}", "images")
    rows = [EXPORT_HEADERS]
    for item in items:
        texts = [o.text for o in item.options] + [""] * (len(OPTION_COLUMNS) - len(item.options))
        answer = ("对" if item.key else "错") if item.type == "true_false" else "".join(item.key)
        rows.append(
            [
                item.code,
                occupation_code,
                occupation_name,
                level,
                TYPE_WORDS[item.type],
                item.stem,
                *texts,
                answer,
                item.difficulty,
                item.knowledge_point,
                item.explanation,
            ]
        )
    return rows


def write_xlsx(rows: list[list]) -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("试题")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    import csv
    import io

    text = io.StringIO()
    csv.writer(text).writerows(rows)
    return text.getvalue().encode(encoding)


def write_json(items: list[Item], occupation_code: str, occupation_name: str, level: int) -> bytes:
    document = {
        "format": JSON_FORMAT,
        "occupation": {"code": occupation_code, "name": occupation_name},
        "level": level,
        "items": [item_to_data(item) for item in items],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def write_template() -> bytes:
    """The Excel template bank admins fill in: the headers, three example rows and instructions."""
    return template_workbook(
        "试题",
        [TEMPLATE_HEADERS, *TEMPLATE_ROWS],
        [
            "每行一道试题；列的顺序可以调整，列名不能改。",
            "必填列：职业、等级、题型、题干、答案、难度、鉴定点。可选列：职业代码、选项A…选项H、分值、解析、编号。",
            "题型：单选、多选、判断。等级：1–5，或 五级/初级工、四级/中级工、三级/高级工、二级/技师、一级/高级技师。",
            "答案：单选填一个字母（如 B）；多选填全部正确字母（如 ACD）；判断填 对/错、正确/错误、√/× 或 A/B。",
            "难度：1–5 的整数。鉴定点：认定要素细目表中的代码，如 A-03-002。",
            "“以上都是”“以上都不对”等选项请放在最后一个选项，打乱选项顺序时它保持在最后。",
            "一个文件只导入同一职业、同一等级的试题。文件中有任何错误时，一道题也不会导入。",
        ],
        widths={"D": 60},
    )


def template_workbook(
    title: str, rows: list[list], notes: list[str], widths: dict[str, int], text_columns: str = ""
) -> bytes:
    """An Excel template (.xlsx): a sheet ``title`` with the header row in bold and examples, the
    ``text_columns`` (letters) formatted as text so that long numbers keep every digit, and a sheet of notes."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter in text_columns:
        for (cell,) in sheet.iter_rows(min_row=1, max_row=1000, min_col=ord(letter) - 64, max_col=ord(letter) - 64):
            cell.number_format = "@"
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet_of_notes = workbook.create_sheet("填写说明")
    for line in notes:
        sheet_of_notes.append([line])
    sheet_of_notes.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
