"""Time-driven work: the 15-minute notice, the automatic submission at time-up, and backup papers for
candidates whose paper holds an item just declared leaked (from the bank screens or from ``jikao bank leak``
in another process: the sweeper notices the number of leaked items grow).

:func:`sweep` does one pass at a given ``now``; the live server runs it every second in a background
task, and tests call it directly.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select

from server.bank import keys
from server.bank.models import Item
from server.db import write_transaction
from server.exam import assembly, outage, service
from server.extensions import db, socketio
from server.live import announce_finished, notify_seat, push_state, push_to_candidate
from server.timeutil import now as server_now

log = logging.getLogger(__name__)


def sweep(now) -> None:
    if service.anything_due(db.session, now):
        _sweep_due(now)
    replace_leaked_papers(now)


def _sweep_due(now) -> None:
    with write_transaction(db.session):
        warned = [(a.id, c) for a, c in service.due_warnings(db.session, now)]
        expired = service.expire_due(db.session, now)
    for attempt_id, clock in warned:
        push_to_candidate(attempt_id, "notice", {"kind": "time_warning", "clock": service.clock_view(clock, now)})
    for attempt in expired:
        announce_finished(attempt)


LEAKS_SEEN = "jikao.leaked_items_seen"


def replace_leaked_papers(now) -> None:
    """When more items are leaked than at the last look, give the candidates holding one a backup paper."""
    leaked = db.session.scalar(select(func.count(Item.id)).where(Item.leaked.is_(True))) or 0
    seen = current_app.extensions.get(LEAKS_SEEN)
    if leaked == seen or not keys.is_open():
        return
    if leaked:
        with write_transaction(db.session):
            replaced = assembly.replace_leaked(db.session, now)
        for replacement in replaced:
            log.warning("paper replaced for attempt %s by backup %s", replacement.attempt.id, replacement.backup)
            push_state(replacement.attempt)
            notify_seat(replacement.attempt.candidate)
    current_app.extensions[LEAKS_SEEN] = leaked


def bury_dead_workers(worker: str, now) -> None:
    """Several server processes over one database (docs/deployment.md): the sockets of one that died no longer
    count, and the consoles show who is left without a connection."""
    if not outage.dead_workers(db.session, worker, now):  # the every-second look, outside the write lock
        return
    with write_transaction(db.session):
        gone = outage.bury(db.session, worker, now)
    for attempt in gone:
        log.warning("attempt %s: its worker died and it did not reconnect elsewhere", attempt.id)
        notify_seat(attempt.candidate)


def run_forever(app, interval: float) -> None:
    """The background loop of ``jikao serve``: every ``interval`` (a second) the heartbeat, from which an
    outage is measured (see ``server.exam.outage``), then a sweep; one failed pass is logged, never fatal."""
    worker = app.config["WORKER"]
    while True:
        socketio.sleep(interval)
        try:
            with app.app_context():
                with write_transaction(db.session):
                    outage.beat(db.session, server_now(), worker)
                bury_dead_workers(worker, server_now())
                sweep(server_now())
        except Exception:
            log.exception("sweep failed")
