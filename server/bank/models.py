from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from item_bank import Item as DomainItem
from item_bank import parse_item
from server.db import Base


class Item(Base):
    """One item of a bank. Metadata for paper assembly is in columns; the content (stem, options,
    key, explanation) is one document, so that it can be sealed as a whole."""

    __tablename__ = "item"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    occupation_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[int]
    type: Mapped[str] = mapped_column(String(16))
    knowledge_point: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(default=1)
    content: Mapped[dict] = mapped_column(JSON)

    def to_domain(self) -> DomainItem:
        return parse_item(
            {
                **self.content,
                "type": self.type,
                "code": self.code,
                "knowledge_point": self.knowledge_point,
                "difficulty": self.difficulty,
            }
        )
