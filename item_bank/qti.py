"""IMS QTI 2.1 / 2.2 choice items: single files, a folder of them, or a zip content package.

``choiceInteraction`` with ``maxChoices`` 1 is single choice, 0 or more than 1 multiple choice. The key
comes from ``correctResponse``; QTI ``mapping`` scores are not used (objective items are marked all or
nothing). Choice identifiers become A, B, C … in document order; ``fixed="true"`` choices stay in place.
Pictures in the item body (``<img>``) are taken from the files beside the item (in the folder or the
zip), kept inside the import, checked by content, and sealed with the item. Anything this cannot import
faithfully (another interaction, a picture in a choice or one that is missing, no single correct
response, more than eight choices) is reported by file, and nothing is imported. XML is parsed with
defusedxml: an item file cannot expand entities or reach external resources.

QTI carries no occupation, level, knowledge point or difficulty: the caller supplies them.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, replace
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from item_bank.imports import ImportResult, Problem, normal_stem
from item_bank.types import MAX_OPTIONS, ItemError, make_image, parse_item

NAMESPACES = ("http://www.imsglobal.org/xsd/imsqti_v2p1", "http://www.imsglobal.org/xsd/imsqti_v2p2")
LETTERS = "ABCDEFGH"


@dataclass(frozen=True)
class QtiDefaults:
    occupation_code: str
    occupation_name: str
    level: int
    knowledge_point: str
    difficulty: int = 3


def read_qti(files: dict[str, bytes], defaults: QtiDefaults, resource=None) -> ImportResult:
    """Items from QTI files (name -> bytes); a .zip is opened as a content package.

    ``resource(path)`` returns the bytes of a file an item refers to (an ``<img>``), relative to the
    import's base, or None; inside a zip, the package's own members are used.
    """
    label = next(iter(files)) if len(files) == 1 else f"{len(files)} 个 QTI 文件"
    result = ImportResult(
        file=label,
        occupation_code=defaults.occupation_code,
        occupation_name=defaults.occupation_name,
        level=defaults.level,
    )
    seen: dict[str, str] = {}
    for name, data, lookup in _expand(files, result, resource or (lambda path: None)):
        _read_item(name, data, defaults, result, seen, lookup)
    if not result.problems and not result.items:
        result.problems.append(Problem(label, None, "", "没有找到 QTI 试题文件"))
    if result.problems:
        result.items = []
    return result


def _expand(files: dict[str, bytes], result: ImportResult, resource):
    for name, data in sorted(files.items()):
        if name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as package:
                    members = {m: package.read(m) for m in package.namelist() if not m.endswith("/")}
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError):
                result.problems.append(Problem(name, None, "", "不是有效的 zip 文件，可能已损坏或不完整"))
                continue
            for member, content in members.items():
                if member.lower().endswith(".xml") and posixpath.basename(member).lower() != "imsmanifest.xml":
                    base = posixpath.dirname(member)
                    yield f"{name}/{member}", content, _resolver(base, members.get)
        elif name.lower().endswith(".xml") and posixpath.basename(name).lower() != "imsmanifest.xml":
            yield name, data, _resolver(posixpath.dirname(name), resource)


def _resolver(base: str, get):
    """Paths relative to the item file, kept inside the import (no ``../`` out of it, no absolute paths)."""

    def lookup(src: str) -> bytes | None:
        path = posixpath.normpath(posixpath.join(base, src))
        if src.startswith("/") or path.startswith("..") or "://" in src:
            return None
        return get(path)

    return lookup


def _read_item(name, data, defaults: QtiDefaults, result: ImportResult, seen: dict[str, str], lookup) -> None:
    def refuse(message: str) -> None:
        result.problems.append(Problem(name, None, "", message))

    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        return refuse(f"XML 格式错误或含有不安全的内容（{type(exc).__name__}）")
    namespace = _namespace(root)
    if root.tag != f"{{{namespace}}}assessmentItem" or namespace not in NAMESPACES:
        return refuse("不是 QTI 2.1/2.2 的 assessmentItem 文件")
    q = lambda tag: f"{{{namespace}}}{tag}"  # noqa: E731
    body = root.find(q("itemBody"))
    if body is None:
        return refuse("缺少 itemBody")
    interactions = [e for e in body.iter() if e.tag.endswith("Interaction")]
    others = sorted({_local(e.tag) for e in interactions if e.tag != q("choiceInteraction")})
    if others:
        return refuse(f"不支持的交互类型 {', '.join(others)}（只支持 choiceInteraction 选择题）")
    if len(interactions) != 1:
        return refuse("每个文件必须恰好有一个 choiceInteraction")
    interaction = interactions[0]
    if interaction.find(f".//{q('simpleChoice')}//{q('img')}") is not None:
        return refuse("选项中含有图片，暂只支持题干中的图片")
    images = []
    for img in body.iter(q("img")):
        src = img.get("src", "")
        content = lookup(src)
        if content is None:
            return refuse(f"图片 {src} 不在导入的文件中")
        try:
            images.append(make_image(posixpath.basename(src), content, img.get("alt", "")))
        except ItemError as exc:
            return refuse(exc.message)
    choices = interaction.findall(q("simpleChoice"))
    if len(choices) > MAX_OPTIONS:
        return refuse(f"选项有 {len(choices)} 个，最多支持 {MAX_OPTIONS} 个")
    letter_of = {c.get("identifier"): LETTERS[i] for i, c in enumerate(choices)}
    declaration = next(
        (
            d
            for d in root.findall(q("responseDeclaration"))
            if d.get("identifier") == interaction.get("responseIdentifier")
        ),
        None,
    )
    values = (
        []
        if declaration is None
        else [v.text.strip() for v in declaration.iterfind(f"{q('correctResponse')}/{q('value')}") if v.text]
    )
    if not values:
        return refuse("缺少唯一的标准答案（correctResponse），无法确定正确选项")
    unknown = [v for v in values if v not in letter_of]
    if unknown:
        return refuse(f"标准答案 {' '.join(unknown)} 不是本题的选项")
    try:
        max_choices = int(interaction.get("maxChoices", "1"))
    except ValueError:
        return refuse("maxChoices 不是整数")
    prompt = interaction.find(q("prompt"))
    stem_parts = [_text(e) for e in body if e is not interaction] + [_text(prompt) if prompt is not None else ""]
    data_item = {
        "code": root.get("identifier", ""),
        "type": "single" if max_choices == 1 else "multiple",
        "stem": "\n".join(part for part in stem_parts if part),
        "options": [
            {
                "id": letter_of[c.get("identifier")],
                "text": _text(c),
                **({"fixed": True} if c.get("fixed") == "true" else {}),
            }
            for c in choices
        ],
        "key": [letter_of[v] for v in values],
        "knowledge_point": defaults.knowledge_point,
        "difficulty": defaults.difficulty,
    }
    try:
        item = replace(parse_item(data_item), images=tuple(images))
        item.kind.validate(item)
    except ItemError as exc:
        return refuse(exc.message)
    stem = normal_stem(item.stem)
    if stem in seen:
        return refuse(f"题干与 {seen[stem]} 重复")
    seen[stem] = name
    result.items.append(item)


def _namespace(element: Element) -> str:
    match = re.match(r"\{(.*)\}", element.tag)
    return match.group(1) if match else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element | None) -> str:
    """The element's text with markup removed and white space folded (QTI files wrap lines freely)."""
    if element is None:
        return ""
    # Only ASCII white space: the ideographic space in a blank "（　）" is content.
    return re.sub(r"[ \t\r\n]+", " ", "".join(element.itertext())).strip(" ")


def write_qti(item) -> bytes:
    """One choice item as a QTI 2.2 assessmentItem (the inverse of this module's reader)."""
    from xml.etree.ElementTree import Element as XmlElement
    from xml.etree.ElementTree import SubElement, tostring

    if item.type == "true_false" or item.images:
        raise ItemError("判断题和含图片的试题不导出为 QTI（请用 JSON）", "type")
    ns = NAMESPACES[1]
    root = XmlElement(
        "assessmentItem",
        {
            "xmlns": ns,
            "identifier": item.code or "item",
            "title": item.code,
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    cardinality = "single" if item.type == "single" else "multiple"
    declaration = SubElement(
        root, "responseDeclaration", {"identifier": "RESPONSE", "cardinality": cardinality, "baseType": "identifier"}
    )
    correct = SubElement(declaration, "correctResponse")
    for key in item.key:
        SubElement(correct, "value").text = key
    SubElement(root, "outcomeDeclaration", {"identifier": "SCORE", "cardinality": "single", "baseType": "float"})
    body = SubElement(root, "itemBody")
    interaction = SubElement(
        body,
        "choiceInteraction",
        {"responseIdentifier": "RESPONSE", "shuffle": "true", "maxChoices": "1" if item.type == "single" else "0"},
    )
    SubElement(interaction, "prompt").text = item.stem
    for option in item.options:
        attributes = {"identifier": option.id, **({"fixed": "true"} if option.fixed else {})}
        SubElement(interaction, "simpleChoice", attributes).text = option.text
    SubElement(
        root, "responseProcessing", {"template": "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"}
    )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
