"""Time-driven work: the 15-minute notice and the automatic submission at time-up.

:func:`sweep` does one pass at a given ``now``; the live server runs it every second in a background
task, and tests call it directly.
"""

from __future__ import annotations

import logging

from server.db import write_transaction
from server.exam import service
from server.extensions import db, socketio
from server.live import announce_finished, push_to_candidate
from server.timeutil import now as server_now

log = logging.getLogger(__name__)


def sweep(now) -> None:
    with write_transaction(db.session):
        warned = [(a.id, c) for a, c in service.due_warnings(db.session, now)]
        expired = service.expire_due(db.session, now)
    for attempt_id, clock in warned:
        push_to_candidate(attempt_id, "notice", {"kind": "time_warning", "clock": service.clock_view(clock, now)})
    for attempt in expired:
        announce_finished(attempt)


def run_forever(app, interval: float) -> None:
    """The background loop of ``jikao serve``; one failed pass is logged, never fatal."""
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                sweep(server_now())
        except Exception:
            log.exception("sweep failed")
