"""Batched units of work: many greenlets' ORM units of work in one durable transaction, each caller told only
once it is stored, a refusal told to its caller alone.

Run with real greenlets and gevent's real thread pool on a real SQLite file, as ``jikao serve`` runs it.
"""

import gevent
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.orm import scoped_session, sessionmaker

from server.db import UnitBatch
from server.errors import ExamError

metadata = MetaData()
rows = Table("row", metadata, Column("x", Integer, unique=True))


@pytest.fixture
def sessions(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'batch.db'}")
    metadata.create_all(engine)
    scoped = scoped_session(sessionmaker(engine), scopefunc=gevent.getcurrent)  # a session per greenlet
    yield scoped
    scoped.remove()
    engine.dispose()


def stored(sessions) -> list[int]:
    with sessions.session_factory.kw["bind"].connect() as connection:
        return sorted(connection.scalars(select(rows.c.x)))


def writer(x: int):
    def work(session):
        session.execute(insert(rows).values(x=x))
        return x

    return work


def test_many_submissions_share_transactions_and_each_is_told_once_stored(sessions):
    batch = UnitBatch(sessions, limit=8, batching=True)

    def one(x):
        result = batch.run(writer(x))
        assert x in stored(sessions)  # acknowledged means already committed, readable from another connection
        return result

    greenlets = [gevent.spawn(one, x) for x in range(40)]
    gevent.joinall(greenlets, raise_error=True)
    assert [g.value for g in greenlets] == list(range(40))
    assert stored(sessions) == list(range(40))
    assert batch.items == 40
    assert batch.batches == 5  # all queued before the first batch ran: 8 to a transaction


def test_a_refusal_goes_to_its_caller_alone(sessions):
    batch = UnitBatch(sessions, batching=True)

    def refused(session):
        raise ExamError("too_early", "开考 30 分钟后才可以交卷。")

    outcomes = {}

    def one(name, work):
        try:
            outcomes[name] = batch.run(work)
        except ExamError as exc:
            outcomes[name] = exc.code

    gevent.joinall(
        [gevent.spawn(one, "a", writer(1)), gevent.spawn(one, "b", refused), gevent.spawn(one, "c", writer(2))]
    )
    assert outcomes == {"a": 1, "b": "too_early", "c": 2}
    assert stored(sessions) == [1, 2]


def test_a_failure_rolls_the_whole_batch_back_and_every_caller_learns_it(sessions):
    batch = UnitBatch(sessions, batching=True)
    errors = []

    def one(work):
        try:
            batch.run(work)
        except Exception as exc:  # noqa: BLE001  (what each caller is told)
            errors.append(type(exc).__name__)

    gevent.joinall([gevent.spawn(one, writer(1)), gevent.spawn(one, writer(1))])  # the second breaks the unique x
    assert errors == ["IntegrityError", "IntegrityError"]
    assert stored(sessions) == []
    gevent.spawn(one, writer(3)).join()  # the next batch starts afresh
    assert stored(sessions) == [3]
