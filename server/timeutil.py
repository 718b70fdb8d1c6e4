"""The server's clock. Every "now" in request and event handlers comes from here, never the browser.

Domain code takes ``now`` as an argument; only the edges (views, events, the sweeper) call :func:`now`.
Tests replace the clock through the ``CLOCK`` config key to move time to the second.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app


def system_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    return current_app.config["CLOCK"]()


def local(dt: datetime | None) -> datetime | None:
    """A UTC datetime in the site's time zone, for display."""
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None
