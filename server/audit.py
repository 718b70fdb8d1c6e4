"""The work ledger (工作台帐): every action that changes an exam, with who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    # Finding what happened to one thing (a room's announcements, an attempt's history) without a scan.
    __table_args__ = (Index("ix_audit_entry_target_action", "target", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "account:3", "candidate:12" or "system"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def record(session, now: datetime, actor: str, action: str, target: str = "", **detail) -> AuditEntry:
    """Add a ledger entry to the caller's unit of work (committed with it, never alone)."""
    entry = AuditEntry(at=now, actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry


def staff(account_id: int | None) -> str:
    """The actor for a staff member's action, or ``system`` for what the server does by itself."""
    return f"account:{account_id}" if account_id else "system"
