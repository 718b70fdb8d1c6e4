"""A greenlet waiting for the write lock holds no pooled connection: otherwise the lock's holder can wait for
one of them until the pool's timeout (found by the load test over PostgreSQL, where logins failed so).

Run in a process of its own with gevent's monkey-patching, as ``jikao serve`` runs: the write lock and the
pool's waits are then the event loop's, as in the server."""

import subprocess
import sys
import textwrap

SCENARIO = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import sys

    import gevent
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import scoped_session, sessionmaker

    from server.db import write_transaction

    engine = create_engine(f"sqlite:///{sys.argv[1]}", pool_size=1, max_overflow=0, pool_timeout=3)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE row (x INTEGER)"))
    sessions = scoped_session(sessionmaker(engine), scopefunc=gevent.getcurrent)
    done = []

    def reader():  # reads (taking the only pooled connection), then writes
        session = sessions()
        session.execute(text("SELECT count(*) FROM row")).scalar()
        gevent.sleep(0.1)  # meanwhile the other greenlet takes the write lock
        with write_transaction(session):
            session.execute(text("INSERT INTO row VALUES (1)"))
        done.append("reader")

    def writer():
        gevent.sleep(0.05)
        with write_transaction(sessions()) as session:  # needs a connection while holding the lock
            session.execute(text("INSERT INTO row VALUES (2)"))
        done.append("writer")

    gevent.joinall([gevent.spawn(reader), gevent.spawn(writer)], raise_error=True)
    print(sorted(done))
    """
)


def test_waiting_for_the_write_lock_gives_the_connection_back(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(tmp_path / "pool.db")], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "['reader', 'writer']"
