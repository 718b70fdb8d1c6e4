"""The exam clock as a pure function of recorded events and ``now``.

Nothing here reads the system time: the caller passes ``now``. A clock starts with a ``start`` event;
``pause``/``resume`` stop and restart it (the paused span is added to the deadline), ``extend``
adds seconds, and ``end`` stops it for good (the chief examiner ending a sitting early, SPEC.md "Faults").
Remaining time is never negative.

A candidate's clock merges the room's ticks with their own, each tick naming its ``scope`` ("room" or
the candidate's): the clock stands still while either is paused, and resuming one scope does not end a
pause of the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("start", "pause", "resume", "extend", "end")


@dataclass(frozen=True)
class Tick:
    kind: str
    at: datetime
    seconds: int = 0
    scope: str = "room"


@dataclass(frozen=True)
class ClockState:
    started_at: datetime | None
    deadline: datetime | None  # None until started; while paused, the deadline if resumed now
    paused: bool
    remaining: timedelta

    @property
    def running(self) -> bool:
        return self.started_at is not None and not self.paused and self.remaining > timedelta(0)

    @property
    def over(self) -> bool:
        return self.started_at is not None and self.remaining <= timedelta(0)


def clock_state(duration: timedelta, ticks: list[Tick], now: datetime) -> ClockState:
    ticks = sorted((t for t in ticks if t.at <= now), key=lambda t: t.at)
    started_at = next((t.at for t in ticks if t.kind == "start"), None)
    if started_at is None:
        return ClockState(None, None, False, duration)
    paused_scopes: set[str] = set()
    paused_since: datetime | None = None
    paused_total = timedelta(0)
    extra = timedelta(0)
    for tick in ticks:
        if tick.at < started_at:
            continue
        if tick.kind == "pause":
            if not paused_scopes:
                paused_since = tick.at
            paused_scopes.add(tick.scope)
        elif tick.kind == "resume" and tick.scope in paused_scopes:
            paused_scopes.discard(tick.scope)
            if not paused_scopes:
                paused_total += tick.at - paused_since
                paused_since = None
        elif tick.kind == "extend":
            extra += timedelta(seconds=tick.seconds)
        elif tick.kind == "end":
            return ClockState(started_at, tick.at, False, timedelta(0))
    base_deadline = started_at + duration + extra + paused_total
    if paused_since is not None:
        remaining = max(base_deadline - paused_since, timedelta(0))
        return ClockState(started_at, now + remaining, True, remaining)
    return ClockState(started_at, base_deadline, False, max(base_deadline - now, timedelta(0)))
