"""Several server processes (workers) over one database (docs/deployment.md): each counts the sockets it holds,
a dead one's are let go by the others, and one starting beside a serving one makes up no outage that was not.

The workers are named here as ``jikao serve`` names them; the real processes run in test_scale_out.py."""

from sqlalchemy import select

from server.db import write_transaction
from server.exam import outage, service
from server.exam.models import Attempt, Incident, ServerHeartbeat, SocketPresence
from server.extensions import db
from tests.helpers import remaining_s, started

HERE = "local"  # the worker the test client's sockets are on (the app's default name)


def beat(app, clock, *workers):
    with app.app_context(), write_transaction(db.session):
        for worker in workers:
            outage.beat(db.session, clock(), worker)


def recover(app, clock, worker, **how):
    with app.app_context(), write_transaction(db.session):
        return outage.recover(db.session, clock(), worker, **how)


def incidents(app) -> list[Incident]:
    with app.app_context():
        return db.session.scalars(select(Incident)).all()


def test_a_worker_starting_beside_a_serving_one_makes_up_no_time(candidate, proctor, app, clock):
    started(candidate, proctor)
    clock.advance(minutes=10)
    beat(app, clock, HERE)
    clock.advance(seconds=40)  # the other worker was killed 40 s ago; this one kept serving
    before = remaining_s(app, clock)
    assert recover(app, clock, "vm:5002", alone=False) == []
    assert remaining_s(app, clock) == before
    assert incidents(app) == []


def test_workers_starting_together_after_a_power_cut_make_the_time_up_once(candidate, proctor, app, clock):
    started(candidate, proctor)
    clock.advance(minutes=10)
    beat(app, clock, "vm:5001", "vm:5002")
    before = remaining_s(app, clock)
    clock.advance(minutes=5)  # the power cut
    starting_at = clock()
    [recovery] = recover(app, clock, "vm:5001", alone=True, starting_at=starting_at)
    assert recovery.lost_s == 300
    clock.advance(seconds=2)
    assert recover(app, clock, "vm:5002", alone=True, starting_at=starting_at) == []  # the first one made it up
    assert remaining_s(app, clock) == before - 2
    assert len(incidents(app)) == 1


def test_a_dead_workers_sockets_are_let_go_and_its_candidates_shown_disconnected(make_candidate, proctor, app, clock):
    moved, stranded = (make_candidate(ticket) for ticket in app.site.tickets[:2])
    for candidate in (moved, stranded):
        candidate.login().connect()  # both on this worker
    beat(app, clock, HERE, "vm:5002")
    last_beat = clock()
    clock.advance(seconds=5)  # this worker dies; one computer reconnects to the other worker
    with app.app_context(), write_transaction(db.session):
        attempts = {a.candidate.ticket: a for a in db.session.scalars(select(Attempt))}
        service.connected(db.session, attempts[moved.ticket], clock(), "vm:5002")
    clock.advance(seconds=outage.DEAD_AFTER_S)
    beat(app, clock, "vm:5002")  # the other worker beats on, and finds this one dead
    with app.app_context():
        assert [row.worker for row in outage.dead_workers(db.session, "vm:5002", clock())] == [HERE]
        with write_transaction(db.session):
            gone = outage.bury(db.session, "vm:5002", clock())
        assert [attempt.candidate.ticket for attempt in gone] == [stranded.ticket]
        attempts = {a.candidate.ticket: a for a in db.session.scalars(select(Attempt))}
        assert (attempts[moved.ticket].connections, attempts[moved.ticket].disconnected_at) == (1, None)
        assert (attempts[stranded.ticket].connections, attempts[stranded.ticket].disconnected_at) == (0, last_beat)
        assert db.session.scalars(select(ServerHeartbeat.worker)).all() == ["vm:5002"]
        assert [(p.worker, p.attempt_id) for p in db.session.scalars(select(SocketPresence))] == [
            ("vm:5002", attempts[moved.ticket].id)
        ]
    seats = {seat["ticket"]: seat for seat in proctor.watch()["seats"]}
    assert seats[moved.ticket]["disconnected_at"] is None
    assert seats[stranded.ticket]["disconnected_at"] is not None


def test_a_restarting_worker_lets_go_of_its_own_sockets_only(make_candidate, app, clock):
    mine, theirs = (make_candidate(ticket) for ticket in app.site.tickets[:2])
    mine.login().connect()
    theirs.login()
    with app.app_context(), write_transaction(db.session):
        attempt = db.session.scalar(select(Attempt).where(Attempt.connections == 0))
        service.connected(db.session, attempt, clock(), "vm:5002")  # the other computer is on the other worker
    clock.advance(seconds=3)
    with app.app_context(), write_transaction(db.session):
        service.reset_presence(db.session, clock(), HERE, alone=False)  # as ``jikao serve`` starting beside it
    with app.app_context():
        connections = {a.candidate.ticket: a.connections for a in db.session.scalars(select(Attempt))}
    assert connections == {mine.ticket: 0, theirs.ticket: 1}
