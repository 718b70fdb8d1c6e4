"""Item types: a registry of classes with one contract (parse / validate / score / to_candidate).

Pure Python: no Flask, no database. An item arrives as plain data (a dict in the project's JSON form),
becomes an :class:`Item`, and leaves for a browser only through :meth:`ItemType.to_candidate`, which
never carries the answer key or the explanation.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, ClassVar

MAX_OPTIONS = 8


class ItemError(ValueError):
    """An item or a response that does not fit its type; ``field`` names the offending part."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    fixed: bool = False  # stays in place when options are shuffled ("以上都是")


MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1024 * 1024
IMAGE_TYPES = {  # magic bytes -> MIME type: what browsers show, checked from the data, never from a name
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


@dataclass(frozen=True)
class Image:
    """A picture shown with the stem ("如图所示"); sealed with the rest of the item's content."""

    name: str
    mime: str
    data: bytes = field(repr=False)
    alt: str = ""


def image_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)


def make_image(name: str, data: bytes, alt: str = "") -> Image:
    mime = image_type(data)
    if mime is None:
        raise ItemError(f"图片 {name} 不是 PNG、JPEG、GIF 或 WebP 格式", "images")
    if len(data) > MAX_IMAGE_BYTES:
        raise ItemError(f"图片 {name} 超过 1 MB", "images")
    return Image(name=name, mime=mime, data=data, alt=alt)


@dataclass(frozen=True)
class Item:
    """One item of the bank, with its answer key. Never sent to a candidate as it is."""

    type: str
    stem: str
    key: Any  # tuple of option ids for choice items, bool for true/false
    options: tuple[Option, ...] = ()
    code: str = ""
    knowledge_point: str = ""
    difficulty: int = 3
    explanation: str = ""
    images: tuple[Image, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> ItemType:
        return ITEM_TYPES[self.type]


class ItemType:
    """The contract every item type fulfils. Subclasses register themselves in :data:`ITEM_TYPES`."""

    name: ClassVar[str]
    label: ClassVar[str]  # the Chinese name used in imports and on screen

    @classmethod
    def parse(cls, data: dict) -> Item:
        """Build an item from the project's JSON form (raises :class:`ItemError`)."""
        raise NotImplementedError

    @classmethod
    def validate(cls, item: Item) -> None:
        """Raise :class:`ItemError` if the item cannot be used in a paper."""
        if not item.stem or not item.stem.strip():
            raise ItemError("题干不能为空", "stem")
        if not 1 <= item.difficulty <= 5:
            raise ItemError("难度必须是 1 到 5 的整数", "difficulty")
        if len(item.images) > MAX_IMAGES:
            raise ItemError(f"每道试题最多 {MAX_IMAGES} 张图片", "images")

    @classmethod
    def normalize_response(cls, item: Item, response: Any) -> Any:
        """Check a candidate's response against the item; return its canonical form or raise."""
        raise NotImplementedError

    @classmethod
    def score(cls, item: Item, response: Any, points: float) -> float:
        """Points earned for a (normalized) response; ``None`` means unanswered."""
        raise NotImplementedError

    @classmethod
    def to_candidate(cls, item: Item, option_order: list[str] | None = None) -> dict:
        """What a candidate's browser may see: stem and options in paper order, no key."""
        raise NotImplementedError


ITEM_TYPES: dict[str, type[ItemType]] = {}


def register(cls: type[ItemType]) -> type[ItemType]:
    ITEM_TYPES[cls.name] = cls
    return cls


class _ChoiceType(ItemType):
    min_keys: ClassVar[int]
    max_keys: ClassVar[int]

    @classmethod
    def parse(cls, data: dict) -> Item:
        options = []
        for raw in data.get("options") or []:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                raise ItemError("选项格式错误", "options")
            options.append(Option(id=raw["id"], text=str(raw.get("text", "")), fixed=bool(raw.get("fixed"))))
        key = data.get("key")
        if isinstance(key, str):
            key = list(key)
        if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
            raise ItemError("答案必须是选项字母", "key")
        item = Item(
            type=cls.name,
            stem=str(data.get("stem", "")),
            options=tuple(options),
            key=tuple(sorted(set(key))),
            code=str(data.get("code", "")),
            knowledge_point=str(data.get("knowledge_point", "")),
            difficulty=_int(data.get("difficulty", 3), "difficulty"),
            explanation=str(data.get("explanation", "")),
            images=_images(data),
        )
        cls.validate(item)
        return item

    @classmethod
    def validate(cls, item: Item) -> None:
        super().validate(item)
        ids = [o.id for o in item.options]
        if len(ids) < 2 or len(ids) > MAX_OPTIONS:
            raise ItemError(f"选项数量必须在 2 到 {MAX_OPTIONS} 之间", "options")
        if len(set(ids)) != len(ids):
            raise ItemError("选项编号重复", "options")
        if any(not o.text.strip() for o in item.options):
            raise ItemError("选项内容不能为空", "options")
        if not item.key:
            raise ItemError("缺少答案", "key")
        unknown = [k for k in item.key if k not in ids]
        if unknown:
            raise ItemError(f"答案 {''.join(unknown)} 不在选项中", "key")
        if not cls.min_keys <= len(item.key) <= cls.max_keys:
            raise ItemError(cls.key_count_message, "key")

    @classmethod
    def _option_ids(cls, item: Item) -> set[str]:
        return {o.id for o in item.options}

    @classmethod
    def to_candidate(cls, item: Item, option_order: list[str] | None = None) -> dict:
        by_id = {o.id: o for o in item.options}
        order = option_order or [o.id for o in item.options]
        return {
            "type": cls.name,
            "stem": item.stem,
            **_candidate_images(item),
            "options": [{"id": oid, "text": by_id[oid].text} for oid in order],
        }


@register
class SingleChoice(_ChoiceType):
    name = "single"
    label = "单选"
    min_keys = 1
    max_keys = 1
    key_count_message = "单选题必须有且只有一个正确选项"

    @classmethod
    def normalize_response(cls, item: Item, response: Any) -> str | None:
        if response is None:
            return None
        if not isinstance(response, str) or response not in cls._option_ids(item):
            raise ItemError("单选题的答案必须是本题的一个选项", "response")
        return response

    @classmethod
    def score(cls, item: Item, response: Any, points: float) -> float:
        return points if response is not None and (response,) == item.key else 0.0


@register
class MultipleChoice(_ChoiceType):
    name = "multiple"
    label = "多选"
    min_keys = 2
    max_keys = MAX_OPTIONS
    key_count_message = "多选题至少需要两个正确选项"

    @classmethod
    def normalize_response(cls, item: Item, response: Any) -> list[str] | None:
        if response is None:
            return None
        if not isinstance(response, list) or not all(isinstance(r, str) for r in response):
            raise ItemError("多选题的答案必须是选项列表", "response")
        chosen = sorted(set(response))
        if len(chosen) != len(response) or not set(chosen) <= cls._option_ids(item):
            raise ItemError("多选题的答案包含不属于本题的选项", "response")
        return chosen or None  # clearing every box means unanswered

    @classmethod
    def score(cls, item: Item, response: Any, points: float) -> float:
        # All or nothing, the default of the certification bodies' objective marking.
        return points if response is not None and tuple(sorted(response)) == item.key else 0.0


@register
class TrueFalse(ItemType):
    name = "true_false"
    label = "判断"

    @classmethod
    def parse(cls, data: dict) -> Item:
        key = data.get("key")
        if not isinstance(key, bool):
            raise ItemError("判断题的答案必须是“对”或“错”", "key")
        item = Item(
            type=cls.name,
            stem=str(data.get("stem", "")),
            key=key,
            code=str(data.get("code", "")),
            knowledge_point=str(data.get("knowledge_point", "")),
            difficulty=_int(data.get("difficulty", 3), "difficulty"),
            explanation=str(data.get("explanation", "")),
            images=_images(data),
        )
        cls.validate(item)
        return item

    @classmethod
    def normalize_response(cls, item: Item, response: Any) -> bool | None:
        if response is None or isinstance(response, bool):
            return response
        raise ItemError("判断题的答案必须是“对”或“错”", "response")

    @classmethod
    def score(cls, item: Item, response: Any, points: float) -> float:
        return points if response is not None and response == item.key else 0.0

    @classmethod
    def to_candidate(cls, item: Item, option_order: list[str] | None = None) -> dict:
        return {"type": cls.name, "stem": item.stem, **_candidate_images(item)}


def parse_item(data: dict) -> Item:
    """Parse an item of any registered type from its JSON form."""
    kind = ITEM_TYPES.get(data.get("type"))
    if kind is None:
        raise ItemError(f"未知题型：{data.get('type')!r}", "type")
    return kind.parse(data)


def item_to_data(item: Item) -> dict:
    """The project's lossless JSON form of an item (inverse of :func:`parse_item`)."""
    data: dict[str, Any] = {
        "code": item.code,
        "type": item.type,
        "knowledge_point": item.knowledge_point,
        "difficulty": item.difficulty,
        "stem": item.stem,
    }
    if item.type == TrueFalse.name:
        data["key"] = item.key
    else:
        data["options"] = [{"id": o.id, "text": o.text, **({"fixed": True} if o.fixed else {})} for o in item.options]
        data["key"] = list(item.key)
    data["explanation"] = item.explanation
    if item.images:
        data["images"] = [
            {"name": i.name, "mime": i.mime, "alt": i.alt, "data": base64.b64encode(i.data).decode("ascii")}
            for i in item.images
        ]
    return data


def _images(data: dict) -> tuple[Image, ...]:
    images = []
    for raw in data.get("images") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), str):
            raise ItemError("图片格式错误", "images")
        try:
            content = base64.b64decode(raw["data"], validate=True)
        except ValueError:
            raise ItemError("图片数据不是有效的 base64", "images") from None
        images.append(make_image(str(raw.get("name", "")), content, str(raw.get("alt", ""))))
    return tuple(images)


def _candidate_images(item: Item) -> dict:
    """Only the pictures' places and alternative texts; the bytes come from an authenticated route."""
    return {"images": [{"index": n, "alt": image.alt} for n, image in enumerate(item.images)]} if item.images else {}


def _int(value: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ItemError("必须是整数", field_name)
    return value
