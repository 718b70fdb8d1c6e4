"""The sweeper's every-second look (``anything_due``) reads a row per room, not per seat. It must find
exactly what the seat-by-seat reading (``running_clocks``) finds, also for seats with clocks of their own."""

from datetime import timedelta

from server.exam import service
from server.exam.sweeper import sweep
from server.extensions import db


def seat_by_seat(now) -> bool:
    return any(r.time_up or r.warning_due for r in service.running_clocks(db.session, now))


def test_the_look_per_room_finds_what_the_look_per_seat_finds(proctor, candidate, make_candidate, clock, app):
    paused, extended = make_candidate(app.site.tickets[1]), make_candidate(app.site.tickets[2])
    for screen in (candidate, paused, extended):
        screen.login().connect()
    proctor.watch()
    for screen in (candidate, paused, extended):
        assert proctor.confirm(screen.ticket)["ok"]
    assert proctor.start()["ok"]
    start = clock()
    paused_id = proctor.seat(paused.ticket)["candidate_id"]
    extended_id = proctor.seat(extended.ticket)["candidate_id"]
    assert proctor.emit("extend", {"candidate_id": extended_id, "minutes": 10, "reason": "补足换机时间"})["ok"]
    clock.advance(minutes=70)
    assert proctor.emit("pause_candidate", {"candidate_id": paused_id, "reason": "电脑故障"})["ok"]
    found = []
    for minute in range(0, 121):
        at = start + timedelta(minutes=minute, seconds=30)
        with app.app_context():
            assert service.anything_due(db.session, at) == seat_by_seat(at), f"minute {minute}"
            found.append(service.anything_due(db.session, at))
            db.session.rollback()
    assert not found[0] and found[80]  # nothing due at the start; the warnings from minute 75 on

    def sweep_at(minute: int) -> tuple[bool, bool]:
        """Whether anything was due at that minute, and whether anything still is once swept."""
        at = start + timedelta(minutes=minute, seconds=30)
        seen = []
        with app.app_context():
            for swept in (False, True):
                if swept:
                    sweep(at)
                seen.append(service.anything_due(db.session, at))
                assert seen[-1] == seat_by_seat(at), f"minute {minute}"
                db.session.rollback()
        return seen[0], seen[1]

    # The extended seat has 100 minutes, the paused seat's clock stands from minute 70, the room's own runs 90.
    assert sweep_at(75) == (True, False)  # the room's running seat is warned; the others are not due
    assert sweep_at(85) == (True, False)  # the extended seat's notice
    assert sweep_at(90) == (True, False)  # the room's seat is submitted
    assert candidate.state()["phase"] == "submitted" and extended.state()["phase"] == "answering"
    assert sweep_at(100) == (True, False)  # the extended seat is submitted; the paused one stands still
    assert extended.state()["phase"] == "submitted" and paused.state()["phase"] == "paused"
