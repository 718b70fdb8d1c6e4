"""Group commit: many writers' work in one durable transaction, each told only once it is stored; and the same
for ORM units of work (``UnitBatch``: the submissions), a refusal told to its caller alone.

Run with real greenlets and gevent's real thread pool on a real SQLite file, as ``jikao serve`` runs it.
"""

import gevent
import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.orm import scoped_session, sessionmaker

from server.db import GroupCommit, UnitBatch
from server.errors import ExamError

metadata = MetaData()
rows = Table("row", metadata, Column("x", Integer, unique=True))


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'commit.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def stored(engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(rows.c.x)))


def writer(x: int):
    def work(connection):
        connection.execute(insert(rows).values(x=x))
        return x

    return work


def test_concurrent_writers_share_commits_and_each_is_told_once_stored(engine):
    committer = GroupCommit(engine, batching=True)
    told = []

    def one(x):
        result = committer.run(writer(x))
        told.append(x)
        assert x in stored(engine)  # acknowledged means already committed, readable from another connection
        return result

    greenlets = [gevent.spawn(one, x) for x in range(100)]
    gevent.joinall(greenlets, raise_error=True)
    assert [g.value for g in greenlets] == list(range(100))
    assert stored(engine) == list(range(100))
    assert committer.items == 100
    assert committer.batches < 100  # while one batch commits on the thread, the others gather


def test_a_refusal_goes_to_its_caller_alone(engine):
    committer = GroupCommit(engine, batching=True)

    def refused(connection):
        raise ExamError("not_in_paper", "该题不在您的试卷中。")

    greenlets = [gevent.spawn(committer.run, refused if x == 5 else writer(x)) for x in range(10)]
    gevent.joinall(greenlets)
    assert isinstance(greenlets[5].exception, ExamError)
    assert all(g.successful() for n, g in enumerate(greenlets) if n != 5)
    assert stored(engine) == [x for x in range(10) if x != 5]


def test_a_failure_after_writing_stores_nothing_of_its_batch_and_tells_every_caller(engine):
    committer = GroupCommit(engine, batching=True)
    with engine.begin() as connection:
        connection.execute(insert(rows).values(x=1000))
    assert committer.run(writer(1)) == 1
    batch = [gevent.spawn(committer.run, writer(x)) for x in (2, 1000, 3)]  # 1000 breaks the unique rule
    gevent.joinall(batch)
    assert all(g.exception is not None for g in batch)
    assert (committer.batches, committer.items) == (1, 1)  # the failed batch stored nothing
    assert stored(engine) == [1, 1000]


def test_without_batching_each_caller_commits_its_own(engine):
    committer = GroupCommit(engine, batching=False)
    assert [committer.run(writer(x)) for x in range(3)] == [0, 1, 2]
    with pytest.raises(ExamError):
        committer.run(lambda connection: (_ for _ in ()).throw(ExamError("refused", "不行")))
    assert stored(engine) == [0, 1, 2]
    assert (committer.batches, committer.items) == (3, 3)


# ---- UnitBatch: the same batching for units of work in an ORM session ----


@pytest.fixture
def sessions(engine):
    scoped = scoped_session(sessionmaker(engine), scopefunc=gevent.getcurrent)  # a session per greenlet
    yield scoped
    scoped.remove()


def test_units_of_work_share_transactions_of_at_most_limit_and_each_is_told_once_stored(sessions, engine):
    batch = UnitBatch(sessions, limit=8, batching=True)

    def one(x):
        result = batch.run(writer(x))
        assert x in stored(engine)  # acknowledged means already committed, readable from another connection
        return result

    greenlets = [gevent.spawn(one, x) for x in range(40)]
    gevent.joinall(greenlets, raise_error=True)
    assert [g.value for g in greenlets] == list(range(40))
    assert stored(engine) == list(range(40))
    assert batch.items == 40
    assert batch.batches == 5  # all queued before the first batch ran: 8 to a transaction


def test_a_units_refusal_goes_to_its_caller_alone(sessions, engine):
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
    assert stored(engine) == [1, 2]


def test_a_failing_unit_rolls_its_whole_batch_back_and_every_caller_learns_it(sessions, engine):
    batch = UnitBatch(sessions, batching=True)
    errors = []

    def one(work):
        try:
            batch.run(work)
        except Exception as exc:  # noqa: BLE001  (what each caller is told)
            errors.append(type(exc).__name__)

    gevent.joinall([gevent.spawn(one, writer(1)), gevent.spawn(one, writer(1))])  # the second breaks the unique x
    assert errors == ["IntegrityError", "IntegrityError"]
    assert stored(engine) == []
    gevent.spawn(one, writer(3)).join()  # the next batch starts afresh
    assert stored(engine) == [3]
