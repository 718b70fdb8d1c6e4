"""Server outages (crash, ``kill -9``, power cut): measured from a heartbeat, and the time made up.

While serving, the sweeper records a heartbeat every second (``SWEEP_INTERVAL``). At the next start, before
any candidate can reconnect or any clock is swept, :func:`recover` takes the time from the server's last sign
of life (the last beat, or a candidate's activity stored after it) to now as the outage (at most a beat
interval and a rounding second longer than the real one) and, for every room whose clock was running then
(SPEC.md "Faults and time compensation", 000 应急处理预案):

- up to the sitting's ``make_up_max_s`` (30 minutes unless its policy says otherwise): the room's time is
  extended by the outage, automatically;
- longer: the room is paused from then on, for the chief examiner to decide (resume with the time
  made up, end the sitting, or leave it for a rescheduled one).

Either way an incident goes into the room record, the ledger and the room's feed, and the heartbeat is
renewed in the same unit of work, so a crash during recovery never makes up the same time twice.

Rooms paused at the last beat lost no time (their clocks stood still); rooms whose time was over stay over.

Several server processes over one database (docs/deployment.md) each beat their own row. The service is down
only when all are: a process starting while another serves makes up nothing, and of processes starting
together after a power cut only the first does. One that stays silent for :data:`DEAD_AFTER_S` is dead for the
others, who let go of its sockets (:func:`bury`).

A room's network dropping while the server runs is the same fault from the candidates' side, and gets the
same rule. When every answering computer of a room (at least :data:`ROOM_MIN_SEATS`) has gone silent within
:data:`SILENT_WITHIN_S` seconds, :func:`room_dropped` pauses the room from the first of them going silent.
When a computer of the room reconnects, :func:`room_back` resumes it (the clock stood still: the time is made
up) if the drop lasted at most 30 minutes; a longer one waits for the chief examiner, like a server outage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from server.exam import feed
from server.exam.clock import clock_state
from server.exam.discipline import record_incident
from server.exam.models import Attempt, Candidate, ClockEvent, Room, ServerHeartbeat
from server.exam.service import duration_text, minutes_text, read_ticks, record_clock, release_worker, room_clock
from server.timeutil import local

ROOM_MIN_SEATS = 3  # fewer computers going silent together say nothing about the room's network
SILENT_WITHIN_S = 30  # a dead link is noticed by each socket within a ping interval and timeout (10 + 10 s)
NETWORK_DOWN = "考场网络中断"
ALIVE_WITHIN_S = 10  # another worker that beat this recently may be serving: a starting worker looks again
DEAD_AFTER_S = 30  # a worker silent this long is dead (a busy one's beat may wait seconds for the database)
_stopping = False  # set when the server is told to stop: its own closing of every socket is no network drop


def server_stopping() -> None:
    global _stopping
    _stopping = True


@dataclass(frozen=True)
class Recovery:
    room_id: int
    lost_s: int
    made_up: bool  # False: paused for the chief examiner


def beat(session, now: datetime, worker: str) -> None:
    """Record that this worker is alive now (the caller commits)."""
    row = _row_of(session, worker)
    if row is None:
        session.add(ServerHeartbeat(worker=worker, beat_at=now, started_at=now))
    else:
        row.beat_at = now


def _row_of(session, worker: str) -> ServerHeartbeat | None:
    return session.scalar(select(ServerHeartbeat).where(ServerHeartbeat.worker == worker))


def recent_beats(session, worker: str, now: datetime) -> dict[str, datetime]:
    """The other workers that beat within :data:`ALIVE_WITHIN_S`: perhaps serving still, perhaps just died."""
    query = select(ServerHeartbeat.worker, ServerHeartbeat.beat_at).where(
        ServerHeartbeat.worker != worker, ServerHeartbeat.beat_at >= now - timedelta(seconds=ALIVE_WITHIN_S)
    )
    return dict(session.execute(query).all())


def recover(session, now: datetime, worker: str, alone: bool = True, starting_at: datetime | None = None):
    """At a worker's start: make up (or hold) the time every running room lost while the server was down.

    ``alone``: no other worker of this database is serving (see ``jikao serve``), so the candidates could not
    answer since the last sign of life of any. With another worker serving there was no outage: its candidates
    went on, and this worker's reconnected to it. Workers that start together after a power cut each find
    themselves alone: the first to get here makes the time up, and the others (``starting_at``: when this
    one began starting) find its row started since and make up nothing again."""
    row = _row_of(session, worker)
    others = session.scalars(select(ServerHeartbeat).where(ServerHeartbeat.worker != worker)).all()
    recovered_by_another = starting_at is not None and any(other.started_at >= starting_at for other in others)
    recoveries = []
    down_since = _last_sign_of_life(session, [r for r in (row, *others) if r is not None])
    if alone and not recovered_by_another and down_since is not None and now > down_since:
        lost_s = math.ceil((now - down_since).total_seconds())
        for room in session.scalars(select(Room).where(Room.started_at.isnot(None)).order_by(Room.id)):
            if room_clock(session, room, down_since).running:
                recoveries.append(_recover_room(session, room, down_since, lost_s, now))
    if row is None:
        session.add(ServerHeartbeat(worker=worker, beat_at=now, started_at=now))
    else:
        row.beat_at = row.started_at = now
    return recoveries


def _last_sign_of_life(session, rows: list[ServerHeartbeat]) -> datetime | None:
    """When the server was last known alive: the last heartbeat of any worker, or a candidate's activity stored
    later. A busy server's heartbeat waits its turn for the database behind the events it serves (after a
    restart, a whole centre's reconnections), so the heartbeat alone could make an outage look longer."""
    if not rows:
        return None
    last_beat = max(row.beat_at for row in rows)
    active = session.scalar(select(func.max(Attempt.last_seen_at)))
    return max(last_beat, active) if active is not None else last_beat


def dead_workers(session, worker: str, now: datetime) -> list[ServerHeartbeat]:
    """The other workers silent for over :data:`DEAD_AFTER_S`: they died (or were stopped) without a goodbye."""
    query = select(ServerHeartbeat).where(
        ServerHeartbeat.worker != worker, ServerHeartbeat.beat_at < now - timedelta(seconds=DEAD_AFTER_S)
    )
    return list(session.scalars(query))


def bury(session, worker: str, now: datetime) -> list[Attempt]:
    """Let go of the dead workers' sockets and heartbeats. Their candidates have reconnected to a live worker
    by now (nginx sends them on), so most still count as connected; the others show as disconnected since
    their worker's last beat. Returns those."""
    gone = []
    for row in dead_workers(session, worker, now):
        gone.extend(release_worker(session, row.worker, row.beat_at))
        session.delete(row)
    return gone


def _recover_room(session, room: Room, down_since: datetime, lost_s: int, now: datetime) -> Recovery:
    lost = duration_text(lost_s)
    what = f"服务器中断 {lost}（{local(down_since):%H:%M:%S} 至 {local(now):%H:%M:%S}），考生无法作答"
    limit = minutes_text(room.session.make_up_max_s)
    made_up = lost_s <= room.session.make_up_max_s
    if made_up:
        reason = f"服务器中断 {lost}，自动补足耽误的考试时间"
        record_clock(session, room.id, None, "extend", None, reason, now, seconds=lost_s)
        feed.record(session, room.id, "extend", f"全场补时 {lost}：{reason}", now)
        decision = f"中断不超过 {limit}，已为全场自动补足 {lost}"
    else:
        reason = f"服务器中断 {lost}，超过 {limit}，等待主考决定"
        record_clock(session, room.id, None, "pause", None, reason, now, at=down_since)
        feed.record(session, room.id, "pause", f"全场暂停计时：{reason}", now)
        decision = f"中断超过 {limit}：全场暂停计时，由主考决定继续考试（补足时间）、结束考试或另行安排考试"
    record_incident(session, room, what, decision, None, None, now)
    return Recovery(room.id, lost_s, made_up)


def room_dropped(session, room: Room, now: datetime, worker: str) -> bool:
    """After an exam client's last socket closed: pause the room if all of its computers went silent together."""
    seats = select(Attempt).join(Candidate).where(Candidate.room_id == room.id, Attempt.status == "confirmed")
    if _stopping or session.scalar(  # first the cheap question, asked at every socket's close: anyone left?
        select(seats.where((Attempt.connections > 0) | Attempt.disconnected_at.is_(None)).exists())
    ):
        return False
    if not _running_now(session, room, now):
        return False
    attempts = session.scalars(seats).all()
    if len(attempts) < ROOM_MIN_SEATS:
        return False
    since = min(a.disconnected_at for a in attempts)
    if now - since > timedelta(seconds=SILENT_WITHIN_S):
        return False
    serving = _row_of(session, worker)
    if serving is not None and since <= serving.started_at:
        return False  # silent since this server started: that outage was made up at the start already
    reason = f"{NETWORK_DOWN}：全场 {len(attempts)} 台考试机同时断线"
    record_clock(session, room.id, None, "pause", None, reason, now, at=since)
    feed.record(session, room.id, "pause", f"全场暂停计时：{reason}", now)
    what = f"{NETWORK_DOWN}：全场 {len(attempts)} 台考试机自 {local(since):%H:%M:%S} 起同时断线"
    limit = minutes_text(room.session.make_up_max_s)
    decision = f"全场暂停计时；恢复连接后 {limit}内自动补足时间，超过 {limit}由主考决定"
    record_incident(session, room, what, decision, None, None, now)
    return True


def room_back(session, room: Room, now: datetime) -> bool:
    """A computer of the room reconnected: a room paused for its network resumes, the time made up."""
    last = last_pause(session, room.id, None, now)
    if last is None or last.kind != "pause" or not last.reason.startswith(NETWORK_DOWN):
        return False
    lost_s = math.ceil((now - last.at).total_seconds())
    if lost_s > room.session.make_up_max_s:
        return False  # the chief examiner decides, as after a long server outage
    lost = duration_text(lost_s)
    reason = f"考场网络恢复，中断 {lost}，自动补足"
    record_clock(session, room.id, None, "resume", None, reason, now)
    feed.record(session, room.id, "resume", f"全场恢复计时：{reason}", now)
    record_incident(
        session, room, f"考场网络恢复（中断 {lost}）", f"全场恢复计时，中断的 {lost} 已补足", None, None, now
    )
    return True


def awaiting_chief(session, room: Room, now: datetime) -> bool:
    """Whether the room's pause stands for the chief examiner (see :func:`waits_for_chief`)."""
    return waits_for_chief(last_pause(session, room.id, None, now), now, room.session.make_up_max_s)


def waits_for_chief(last: ClockEvent | None, now: datetime, limit_s: int) -> bool:
    """``last`` (the latest pause or resume of a room) is a pause the server made (an outage, a dropped
    network) that has lasted more than ``limit_s`` (the sitting's make-up limit, 30 minutes by default), so its
    time is no longer made up by itself."""
    if last is None or last.kind != "pause" or last.actor_id is not None:
        return False
    return now - last.at > timedelta(seconds=limit_s)


def last_pause(session, room_id: int, attempt_id: int | None, now: datetime) -> ClockEvent | None:
    """The latest pause or resume up to ``now`` of the room's clock (``attempt_id`` None) or of one
    candidate's own; None if it was never paused."""
    owner = ClockEvent.attempt_id.is_(None) if attempt_id is None else ClockEvent.attempt_id == attempt_id
    return session.scalar(
        select(ClockEvent)
        .where(ClockEvent.room_id == room_id, owner, ClockEvent.kind.in_(("pause", "resume")), ClockEvent.at <= now)
        .order_by(ClockEvent.at.desc(), ClockEvent.id.desc())
        .limit(1)
    )


def _running_now(session, room: Room, now: datetime) -> bool:
    """The room's clock read afresh, not from the unit of work's memo: when two sockets close at once, the
    second must see the pause the first just recorded."""
    ticks = read_ticks(session, room.id, None)
    return clock_state(timedelta(seconds=room.session.duration_s), ticks, now).running
