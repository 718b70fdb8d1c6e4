"""Every format reads back what was written: JSON, Excel, CSV (UTF-8 with BOM and GBK), and QTI."""

from dataclasses import replace

import pytest

from item_bank import item_to_data
from item_bank.imports import item_rows, read_csv, read_json, read_xlsx, write_csv, write_json, write_xlsx
from item_bank.qti import QtiDefaults, read_qti, write_qti
from server.demo.seed import ITEMS_FILE

BANK = read_json(ITEMS_FILE.name, ITEMS_FILE.read_bytes())
ITEMS = BANK.items
CODE, NAME, LEVEL = BANK.occupation_code, BANK.occupation_name, BANK.level


def data(items):
    return [item_to_data(item) for item in items]


def test_json():
    again = read_json("bank.json", write_json(ITEMS, CODE, NAME, LEVEL))
    assert again.ok and data(again.items) == data(ITEMS)
    assert (again.occupation_code, again.level) == (CODE, LEVEL)


def test_excel():
    again = read_xlsx("bank.xlsx", write_xlsx(item_rows(ITEMS, CODE, NAME, LEVEL)))
    assert again.ok, [str(p) for p in again.problems]
    assert data(again.items) == data(ITEMS)
    assert (again.occupation_code, again.occupation_name, again.level) == (CODE, NAME, LEVEL)


# GB 18030, not GBK: real items hold characters GBK lacks (the bank has "NO₃⁻"); reading GBK is tested apart.
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv(encoding):
    again = read_csv("bank.csv", write_csv(item_rows(ITEMS, CODE, NAME, LEVEL), encoding))
    assert again.ok, [str(p) for p in again.problems]
    assert data(again.items) == data(ITEMS)


def test_qti_choice_items():
    choices = [item for item in ITEMS if item.type != "true_false"]
    files = {f"{item.code}.xml": write_qti(item) for item in choices}
    again = read_qti(files, QtiDefaults(CODE, NAME, LEVEL, "X", 3))
    assert again.ok, [str(p) for p in again.problems]
    by_code = {item.code: item for item in again.items}
    for item in choices:  # QTI carries no knowledge point, difficulty or explanation
        expected = replace(item, knowledge_point="X", difficulty=3, explanation="")
        assert item_to_data(by_code[item.code]) == item_to_data(expected)
