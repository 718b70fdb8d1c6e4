"""The bank admin's screens in Chromium: import with errors shown, browse, preview as a candidate sees it."""

import base64
import json

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from item_bank.imports import TEMPLATE_HEADERS, TEMPLATE_ROWS
from tests.conftest import staff_login
from tests.helpers import tiny_png

pytestmark = pytest.mark.browser


def sheet(path, rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_a_bank_admin_imports_browses_and_previews(live_site, browser, artifacts, tmp_path):
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(live_site.url + "/bank/")
    staff_login(page, live_site, "proctor1")
    expect(page.locator("#login-error")).to_have_text("只有题库管理员可以使用题库管理功能。")
    staff_login(page, live_site, "tiku")
    expect(page.locator("#item-count")).to_have_text("共 130 道")

    # Import: a file with a mistake is refused with the row and column named; the corrected one goes in.
    rows = [[*r] for r in TEMPLATE_ROWS]
    for n, row in enumerate(rows):
        row[TEMPLATE_HEADERS.index("题干")] = f"网页导入的新题{n}（　）。"
    rows[1][TEMPLATE_HEADERS.index("答案")] = "A"
    page.click("#tab-import")
    page.set_input_files("#import-file", str(sheet(tmp_path / "新题.xlsx", [TEMPLATE_HEADERS, *rows])))
    page.click("#import-submit")
    expect(page.locator("#import-problems")).to_have_text("新题.xlsx 第3行 答案：多选题至少需要两个正确选项")
    page.screenshot(path=artifacts / "bank-1-import-errors.png")
    rows[1][TEMPLATE_HEADERS.index("答案")] = "ABD"
    page.set_input_files("#import-file", str(sheet(tmp_path / "新题.xlsx", [TEMPLATE_HEADERS, *rows])))
    page.click("#import-submit")
    expect(page.locator("#import-ok")).to_have_text("已导入 3 道试题。")

    # Browse: the new items wait for review; open one, see its key and the candidate's view.
    page.click("#tab-items")
    page.select_option("#filter-status", "draft")
    page.click("#apply-filters")
    expect(page.locator("#item-count")).to_have_text("共 3 道")
    page.locator("#item-table tbody tr").first.click()
    expect(page.locator("#detail-stem")).to_have_text("网页导入的新题0（　）。")
    expect(page.locator("#detail-key")).to_have_text("B")
    preview = page.frame_locator("#preview")
    expect(preview.locator(".stem")).to_have_text("1. 网页导入的新题0（　）。")
    expect(preview.locator(".choices.radio input[type=radio]")).to_have_count(4)  # round, as candidates see it
    page.click("#do-review")
    expect(page.locator("#detail-status")).to_have_text("已审定")
    expect(page.frame_locator("#preview").locator(".stem")).to_be_visible()
    page.screenshot(path=artifacts / "bank-2-item.png")

    # A picture travels sealed and is drawn in the candidate's view.
    picture = {
        "format": "jikao-items/1",
        "occupation": {"code": "6-28-01-14", "name": "污水处理工"},
        "level": 4,
        "items": [
            {
                "code": "PIC-1",
                "type": "true_false",
                "knowledge_point": "C-01-001",
                "difficulty": 1,
                "stem": "如图所示，该阀门处于关闭状态。",
                "key": True,
                "images": [
                    {"name": "阀门.png", "alt": "阀门示意图", "data": base64.b64encode(tiny_png(60, 40)).decode()}
                ],
            }
        ],
    }
    (tmp_path / "图片题.json").write_text(json.dumps(picture, ensure_ascii=False), encoding="utf-8")
    page.click("#tab-import")
    page.set_input_files("#import-file", str(tmp_path / "图片题.json"))
    page.click("#import-submit")
    expect(page.locator("#import-ok")).to_have_text("已导入 1 道试题。")
    page.click("#tab-items")
    page.fill("#filter-q", "阀门")
    page.click("#apply-filters")
    page.locator("#item-table tbody tr").first.click()
    drawn = page.frame_locator("#preview").locator(".stem-images img")
    expect(drawn).to_have_attribute("alt", "阀门示意图")
    expect(drawn).to_have_js_property("naturalWidth", 60)  # the picture really arrived and decoded

    # Coverage against the 600-item rule.
    page.click("#tab-coverage")
    expect(page.locator("#coverage-total")).to_contain_text(
        "合计 130 道；规定每个职业等级至少 600 道理论试题。 还差 470 道。"
    )
    expect(page.locator("#coverage-table tbody tr")).to_have_count(8)
    expect(page.locator("#coverage-table tbody tr").first.locator("td")).to_have_count(1 + 3 * 4 + 1)
    assert "object" not in page.locator("#coverage-table").inner_text()
    page.screenshot(path=artifacts / "bank-3-coverage.png")
