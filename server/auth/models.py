from __future__ import annotations

import threading

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from server.db import Base

ROLES = {
    "proctor": "监考员",
    "chief": "主考",
    "supervisor": "督导员",
    "exam_admin": "考务管理员",
    "bank_admin": "题库管理员",
}


_HASHING = threading.BoundedSemaphore(2)  # password checks at once (a gevent semaphore when serving)


class Account(Base):
    """A staff member who logs in with a password (candidates log in with their ticket instead)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Changed at every logout: a session (or a live console socket) holding an older nonce is ended.
    session_nonce: Mapped[str | None] = mapped_column(String(32))

    def set_password(self, password: str) -> None:
        # Werkzeug's default is scrypt with a per-password salt: slow on purpose.
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Slow on purpose (scrypt, about 50 ms): on a worker thread when serving, so that every exam client is
        still answered while a proctor logs in (the load test found the event loop stopped for each login).
        Two at a time: each takes 32 MiB, and a centre's proctors log in together."""
        from server.extensions import run_blocking

        with _HASHING:
            return run_blocking(check_password_hash, self.password_hash, password)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)
