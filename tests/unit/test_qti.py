"""QTI 2.1/2.2 choice items: the project's own fixtures, zip packages, and real exports by others."""

import io
import zipfile
from pathlib import Path

import pytest

from item_bank.qti import QtiDefaults, read_qti

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHARED_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "qti-samples"
DEFAULTS = QtiDefaults("6-28-01-14", "污水处理工", 4, "B-02-001", 2)


def files(*paths: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths}


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


def test_single_and_multiple_choice_items_in_qti_2_1_and_2_2():
    result = read_qti(files(*sorted((FIXTURES / "qti").glob("*.xml"))), DEFAULTS)
    assert result.ok, problems(result)
    multiple, single = result.items  # files are read in name order
    assert (single.type, single.key, single.code) == ("single", ("B",), "WS-QTI-001")
    assert single.stem == "活性污泥法运行中，\n好氧池出口溶解氧一般宜控制在（　）左右。"
    assert [o.text for o in single.options] == ["0.5 mg/L", "2 mg/L", "8 mg/L", "以上都不对"]
    assert [o.fixed for o in single.options] == [False, False, False, True]
    assert (multiple.type, multiple.key) == ("multiple", ("A", "C"))
    assert (single.knowledge_point, single.difficulty) == ("B-02-001", 2)


def test_an_unsupported_interaction_is_reported_by_file_and_nothing_is_imported():
    paths = [*sorted((FIXTURES / "qti").glob("*.xml")), FIXTURES / "qti-unsupported" / "text_entry.xml"]
    result = read_qti(files(*paths), DEFAULTS)
    assert problems(result) == [
        "text_entry.xml：不支持的交互类型 textEntryInteraction（只支持 choiceInteraction 选择题）"
    ]
    assert result.items == []


def test_a_zip_content_package_is_read_and_its_manifest_skipped():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("imsmanifest.xml", '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"/>')
        for path in sorted((FIXTURES / "qti").glob("*.xml")):
            package.write(path, f"items/{path.name}")
    result = read_qti({"题库包.zip": buffer.getvalue()}, DEFAULTS)
    assert result.ok, problems(result)
    assert len(result.items) == 2


def test_a_truncated_zip_is_refused_by_name():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.write(FIXTURES / "qti" / "single_v2p1.xml", "single.xml")
    assert problems(read_qti({"坏包.zip": buffer.getvalue()[:60]}, DEFAULTS)) == [
        "坏包.zip：不是有效的 zip 文件，可能已损坏或不完整"
    ]


def test_entities_and_doctypes_are_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;&x;</a>'
    assert "evil.xml：XML 格式错误或含有不安全的内容" in problems(read_qti({"evil.xml": bomb}, DEFAULTS))[0]


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="../shared/qti-samples is not beside this checkout (CI has it)")
def test_the_public_qti_samples():
    samples = sorted(SHARED_SAMPLES.glob("*.xml"))
    outcome = {}
    for path in samples:
        result = read_qti(files(path), DEFAULTS)
        outcome[path.name] = result.items[0].type if result.ok else problems(result)[0]
    assert outcome == {
        "2_1_choice.xml": "2_1_choice.xml：图片 images/sign.png 不在导入的文件中",
        "2_1_choice_fixed.xml": "2_1_choice_fixed.xml：图片 images/sign.png 不在导入的文件中",
        "2_1_choice_multiple.xml": "multiple",
        "2_1_choice_multiple_chocolade.xml": "2_1_choice_multiple_chocolade.xml：选项有 14 个，最多支持 8 个",
        "2_2_choice.xml": "2_2_choice.xml：图片 images/sign.png 不在导入的文件中",
        "2_2_choice_fixed.xml": "2_2_choice_fixed.xml：图片 images/sign.png 不在导入的文件中",
        "2_2_choice_multiple.xml": "multiple",
    }
    water = read_qti(files(SHARED_SAMPLES / "2_2_choice_multiple.xml"), DEFAULTS).items[0]
    assert [o.text for o in water.options] == ["Hydrogen", "Helium", "Carbon", "Oxygen", "Nitrogen", "Chlorine"]
    assert water.key == ("A", "D")  # H and O, whatever QTI's own mapping scores


@pytest.mark.skipif(not SHARED_SAMPLES.is_dir(), reason="../shared/qti-samples is not beside this checkout (CI has it)")
def test_the_public_samples_with_their_picture_beside_them():
    from tests.helpers import tiny_png

    picture = tiny_png()
    pictures = {"images/sign.png": picture}
    result = read_qti(files(SHARED_SAMPLES / "2_1_choice_fixed.xml"), DEFAULTS, pictures.get)
    assert result.ok, problems(result)
    [item] = result.items
    assert item.type == "single" and item.key == ("A",)
    assert [(i.name, i.mime, i.alt, i.data) for i in item.images] == [
        ("sign.png", "image/png", "NEVER LEAVE LUGGAGE UNATTENDED", picture)
    ]
    assert item.options[-1].fixed and item.options[-1].text == "None of the above."
    assert item.stem == "Look at the text in the picture.\nWhat does it say?"
    view = item.kind.to_candidate(item)
    assert view["images"] == [{"index": 0, "alt": "NEVER LEAVE LUGGAGE UNATTENDED"}]  # no bytes in the paper


def test_pictures_are_checked_by_content_and_kept_inside_the_import():
    item = (
        (FIXTURES / "qti" / "single_v2p1.xml")
        .read_bytes()
        .replace(b"<p>\xe6\xb4\xbb", b'<p><img src="../../etc/passwd" alt="x"/>\xe6\xb4\xbb')
    )
    escaped = read_qti({"a.xml": item}, DEFAULTS, {"../../etc/passwd": b"secret"}.get)
    assert problems(escaped) == ["a.xml：图片 ../../etc/passwd 不在导入的文件中"]
    fake = item.replace(b"../../etc/passwd", b"pic.png")
    not_a_picture = read_qti({"a.xml": fake}, DEFAULTS, {"pic.png": b"<html>not a picture</html>"}.get)
    assert problems(not_a_picture) == ["a.xml：图片 pic.png 不是 PNG、JPEG、GIF 或 WebP 格式"]
