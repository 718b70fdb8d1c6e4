"""Server outages (crash, ``kill -9``, power cut): measured from a heartbeat, and the time made up.

While serving, the sweeper records a heartbeat every second (``SWEEP_INTERVAL``). At the next start, before
any candidate can reconnect or any clock is swept, :func:`recover` takes the time from the last beat to now
as the outage (at most a beat interval and a rounding second longer than the real one) and, for every room
whose clock was running at the last beat (SPEC.md "Faults and time compensation", 000 应急处理预案):

- up to :data:`MAKE_UP_MAX_S` (30 minutes): the room's time is extended by the outage, automatically;
- longer: the room is paused from the last beat on, for the chief examiner to decide (resume with the time
  made up, end the sitting, or leave it for a rescheduled one).

Either way an incident goes into the room record, the ledger and the room's feed, and the heartbeat is
renewed in the same unit of work, so a crash during recovery never makes up the same time twice.

Rooms paused at the last beat lost no time (their clocks stood still); rooms whose time was over stay over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server import audit
from server.exam import feed
from server.exam.models import ClockEvent, Incident, Room, ServerHeartbeat
from server.exam.service import duration_text, room_clock
from server.timeutil import local

MAKE_UP_MAX_S = 30 * 60


@dataclass(frozen=True)
class Recovery:
    room_id: int
    lost_s: int
    made_up: bool  # False: paused for the chief examiner


def beat(session, now: datetime) -> None:
    """Record that the server is alive now (the caller commits)."""
    row = session.get(ServerHeartbeat, 1)
    if row is None:
        session.add(ServerHeartbeat(id=1, beat_at=now, started_at=now))
    else:
        row.beat_at = now


def recover(session, now: datetime) -> list[Recovery]:
    """At start: make up (or hold) the time every running room lost while the server was down."""
    row = session.get(ServerHeartbeat, 1)
    recoveries = []
    if row is not None and now > row.beat_at:
        down_since = row.beat_at
        lost_s = math.ceil((now - down_since).total_seconds())
        for room in session.scalars(select(Room).where(Room.started_at.isnot(None)).order_by(Room.id)):
            if room_clock(session, room, down_since).running:
                recoveries.append(_recover_room(session, room, down_since, lost_s, now))
    if row is None:
        session.add(ServerHeartbeat(id=1, beat_at=now, started_at=now))
    else:
        row.beat_at = row.started_at = now
    return recoveries


def _recover_room(session, room: Room, down_since: datetime, lost_s: int, now: datetime) -> Recovery:
    span = f"{local(down_since):%H:%M:%S} 至 {local(now):%H:%M:%S}"
    what = f"服务器中断 {duration_text(lost_s)}（{span}），考生无法作答"
    if lost_s <= MAKE_UP_MAX_S:
        reason = f"服务器中断 {duration_text(lost_s)}，自动补足耽误的考试时间"
        session.add(ClockEvent(room_id=room.id, kind="extend", at=now, seconds=lost_s, reason=reason))
        decision = f"中断不超过 30 分钟，已为全场自动补足 {duration_text(lost_s)}"
        feed.record(session, room.id, "extend", f"全场补时 {duration_text(lost_s)}：{reason}", now)
    else:
        reason = f"服务器中断 {duration_text(lost_s)}，超过 30 分钟，等待主考决定"
        session.add(ClockEvent(room_id=room.id, kind="pause", at=down_since, reason=reason))
        decision = "中断超过 30 分钟：全场暂停计时，由主考决定继续考试（补足时间）、结束考试或另行安排考试"
        feed.record(session, room.id, "pause", f"全场暂停计时：{reason}", now)
    session.add(Incident(room_id=room.id, at=now, what=what, decision=decision, actor_id=None))
    feed.record(session, room.id, "incident", f"考场情况 {what}；处理：{decision}", now)
    audit.record(
        session, now, "system", "server.outage", f"room:{room.id}", lost_s=lost_s, made_up=lost_s <= MAKE_UP_MAX_S
    )
    return Recovery(room.id, lost_s, lost_s <= MAKE_UP_MAX_S)
