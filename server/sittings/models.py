"""The registration list of a sitting (报名名单)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UTCDateTime


class Registrant(Base):
    """One person registered for a sitting, as the registration list gave them. The room arrangement seats
    them as a :class:`server.exam.models.Candidate` with a ticket number."""

    __tablename__ = "registrant"
    __table_args__ = (UniqueConstraint("session_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32))
    work_unit: Mapped[str] = mapped_column(String(128), default="")
    photo: Mapped[str] = mapped_column(String(128), default="")  # the photo's file name, if the list gave one
    source: Mapped[str] = mapped_column(String(255))  # the file and row it came from
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by: Mapped[str] = mapped_column(String(64))
