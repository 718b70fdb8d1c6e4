"""Database foundations: the declarative base, UTC timestamps, SQLite durability settings, the one-writer
transaction, and schema upgrades through Alembic.

Portable SQLAlchemy only: SQLite is the embedded default, PostgreSQL the scale-out target.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Named constraints, so that Alembic migrations can alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in Python, stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


@event.listens_for(Engine, "connect")
def _sqlite_durability(dbapi_connection, connection_record) -> None:
    """WAL for concurrent readers, FULL sync so that a committed answer survives a power cut."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


# SQLite admits one writer at a time. Serialising this process's units of work keeps a greenlet from
# waiting inside SQLite's busy handler (which would block the whole event loop) and makes each
# read-check-write sequence atomic on every backend.
_write_lock = threading.RLock()
_holding = threading.local()  # per greenlet when serving: how deep in write_transaction this one is
# Reads a unit of work may remember (e.g. a room's clock events) until it writes such rows or ends.
MEMO = "jikao.memo"


def on_gevent() -> bool:
    """Serving on gevent (``jikao serve``): durable commits then wait on an OS thread, not the event loop."""
    from server.extensions import socketio

    return getattr(socketio, "async_mode", None) == "gevent"


def _dbapi(connection):
    """The driver's own connection under an SQLAlchemy one. Committing it on an OS thread does the durable
    write there; SQLAlchemy's commit afterwards finds nothing to write and runs its listeners (which emit
    to sockets) on the event loop, where they must run."""
    return connection.connection.dbapi_connection


def on_postgresql(connection) -> bool:
    return connection.dialect.name == "postgresql"


# The key of the PostgreSQL advisory lock that makes the database's writers one at a time across every
# server process of a scale-out (docs/deployment.md), as ``_write_lock`` does within one process.
WRITER_LOCK_KEY = 0x4A494B41  # "JIKA"


def one_writer(connection) -> None:
    """Wait, inside the transaction just begun, until no other server process is writing (PostgreSQL). The lock
    goes with the transaction's commit or rollback. SQLite needs nothing: it admits one writer at a time."""
    if on_postgresql(connection):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})")


def durable_commit(connection) -> None:
    """Commit the driver's transaction under ``connection``. SQLite's fsync blocks the calling thread, so when
    serving on gevent it runs on an OS thread; psycopg 3 waits for PostgreSQL cooperatively, on the event loop."""
    if on_postgresql(connection):
        _dbapi(connection).commit()
    else:
        off_loop(_dbapi(connection).commit)


def off_loop(function: Callable, *args):
    """Run ``function`` on an OS thread of gevent's pool while this greenlet waits, when serving on gevent;
    otherwise just call it. For the fsync of a commit: SQLite and the PostgreSQL driver release the GIL."""
    if on_gevent():
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


@contextmanager
def write_transaction(session) -> Iterator:
    """Run one unit of work and commit it durably; roll back on any error. The caller owns it.

    Everything read inside the block is read afresh under the lock, so its checks see committed state. The
    statements run here; the commit (the fsync) runs on an OS thread, so the event loop keeps serving.
    """
    outermost = not getattr(_holding, "depth", 0)
    if outermost and not (session.new or session.dirty or session.deleted):
        # Reads before the lock are not trusted under it anyway: end their transaction now, so that the
        # connection goes back to the pool while this waits. Otherwise greenlets waiting for the lock could
        # hold every pooled connection, and the lock's holder wait for one of them (until the pool's timeout).
        session.rollback()
    with _write_lock:
        _holding.depth = getattr(_holding, "depth", 0) + 1
        session.expire_all()
        session.info.pop(MEMO, None)  # reads remembered before the lock are not to be trusted under it
        try:
            one_writer(session.connection())
            yield session
            session.flush()  # the statements, on the event loop as always
            durable_commit(session.connection())  # the fsync, on an OS thread when serving from SQLite
            session.commit()  # nothing left to write: the bookkeeping and the listeners, here
        except BaseException:
            session.rollback()
            raise
        finally:
            _holding.depth -= 1


class Prepared:
    """A Core statement compiled once per dialect and run on the driver's own cursor.

    For the few statements of the answer path, which runs a thousand times a second: SQLAlchemy's
    per-execution bookkeeping costs about 60 µs a statement on this hardware, the driver about 5. The SQL,
    the parameter style and the type conversions (UTC datetimes, JSON) still come from SQLAlchemy: the
    statement is compiled by the dialect, and each parameter and column goes through its type's own bind and
    result processors. Only for a Core ``Connection`` inside its transaction (the ORM session's autoflush
    would be bypassed); rows come back as plain tuples.
    """

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}

    def rows(self, connection: Connection, params: dict) -> list[tuple]:
        dialect = connection.dialect
        key = (dialect.name, *params)  # an INSERT names the columns it is given
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, dialect, list(params))
        if not connection.in_transaction():
            connection.begin()  # so that SQLAlchemy's commit commits what the cursor wrote
        cursor = _dbapi(connection).cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            if cursor.description is None:
                return []
            return [compiled.result(row) for row in cursor.fetchall()]
        finally:
            cursor.close()


class _Compiled:
    def __init__(self, statement, dialect, keys: list[str]):
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("Prepared runs no Python-side column defaults; give every value")
        self.sql = compiled.string
        self.names = list(compiled.positiontup) if compiled.positional else None
        self.binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        self.construct = compiled.construct_params
        self.processors = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in statement.exported_columns
        ]
        self.plain = not any(self.processors)

    def parameters(self, params: dict):
        values = self.construct(params)
        for name, process in self.binds.items():
            if process is not None:
                values[name] = process(values[name])  # None too: a JSON null is stored as 'null'
        return values if self.names is None else [values[name] for name in self.names]

    def result(self, row: tuple) -> tuple:
        if self.plain:
            return tuple(row)
        return tuple(value if p is None else p(value) for p, value in zip(self.processors, row, strict=True))


class _Batches:
    """Work of many greenlets run in batches, one durable transaction (and one fsync) each: what
    :class:`GroupCommit` and :class:`UnitBatch` share.

    :meth:`run` queues ``work(target)`` and returns its result once the transaction holding it is durably
    committed (or raises what ``work`` raised). While one batch commits, new work gathers for the next: under
    load each fsync carries many callers' work, idle each commits at once. ``work`` must check everything
    before it writes and refuse with :class:`ExamError` before writing anything: such a refusal goes to its
    caller alone. A batch has no savepoints, so any other failure rolls the whole batch back and every caller
    in it gets the error. Batches hold this process's write lock (and on PostgreSQL the database's writer lock,
    see :func:`one_writer`). Not serving on gevent (threads: the Flask test client, the CLI), each caller's
    work is a batch of one, run at once.
    """

    limit: int | None = None  # works to a batch (None: all that wait)

    def __init__(self, app=None, batching: bool | None = None):
        self.app = app  # pushed as the app context of the greenlet that runs the batches (default: the caller's)
        self.batching = batching  # None: when serving on gevent
        self.pending: list = []
        self.flushing = False
        self.batches = 0  # counters for the benchmarks and tests
        self.items = 0

    def _transaction(self, batched: bool):
        """A context manager: the write lock, a transaction, its durable commit; yields what ``work`` gets."""
        raise NotImplementedError

    def _ahead(self, target, keys: list) -> None:
        """Read ahead, once for the batch, what its works will read (their ``key``s say what)."""

    def run(self, work: Callable, key=None):
        if not (on_gevent() if self.batching is None else self.batching):
            with self._transaction(batched=False) as target:
                self._ahead(target, [key])
                result = work(target)
            self.batches += 1
            self.items += 1
            return result
        import gevent
        from flask import current_app, has_app_context
        from gevent.event import AsyncResult

        if self.app is None and has_app_context():
            self.app = current_app._get_current_object()
        waiter = AsyncResult()
        self.pending.append((work, waiter, key))
        if not self.flushing:
            self.flushing = True
            gevent.spawn(self._flush)
        return waiter.get()

    def _flush(self) -> None:
        try:
            with self.app.app_context() if self.app is not None else contextlib.nullcontext():
                while self.pending:
                    limit = self.limit or len(self.pending)
                    batch, self.pending = self.pending[:limit], self.pending[limit:]
                    self._commit(batch)
        finally:
            self.flushing = False

    def _commit(self, batch: list) -> None:
        from server.errors import ExamError

        outcomes: list = []
        try:
            with self._transaction(batched=True) as target:
                self._ahead(target, [key for _, _, key in batch])
                for work, _, _ in batch:
                    try:
                        outcomes.append(work(target))
                    except ExamError as refused:  # checked before anything was written: the others go on
                        outcomes.append(_Refused(refused))
        except BaseException as exc:  # nothing of the batch is stored: every caller learns it
            for _, waiter, _ in batch:
                waiter.set_exception(exc)
            return
        self.batches += 1
        self.items += len(batch)
        for (_, waiter, _), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, _Refused):
                waiter.set_exception(outcome.error)
            else:
                waiter.set(outcome)


class GroupCommit(_Batches):
    """Durable writes of many greenlets in one transaction and one fsync (group commit), on a Core connection:
    ``work(connection)``. For the answer path, a thousand a second; see :class:`_Batches`."""

    def __init__(self, engine, app=None, batching: bool | None = None):
        super().__init__(app, batching)
        self.engine = engine
        self.connection: Connection | None = None  # kept between batches: a checkout costs more than a save

    @contextmanager
    def _transaction(self, batched: bool) -> Iterator[Connection]:
        with _write_lock:
            if not batched:  # a caller's own, committed here
                with self.engine.connect() as connection:
                    one_writer(connection)
                    yield connection
                    connection.commit()
                return
            if self.connection is None:
                self.connection = self.engine.connect()
            connection = self.connection
            try:
                one_writer(connection)
                yield connection
                durable_commit(connection)  # the fsync, off the event loop
                connection.commit()  # nothing left to write: the bookkeeping, on the event loop
            except BaseException:
                self.connection = None  # rolled back and given up: the next batch starts afresh
                connection.close()
                raise


class UnitBatch(_Batches):
    """Units of work of many greenlets in one write transaction and one fsync, for work that needs the ORM (a
    submission scores the paper, writes the ledger and the feed): ``work(session)``, up to ``limit`` in a
    batch. ``work`` runs in the batch's own session (the batch greenlet's), under :func:`write_transaction`, so
    it must return plain data built from what it read, never ORM objects. See :class:`_Batches`."""

    def __init__(
        self, session_of: Callable, limit: int = 32, batching: bool | None = None, ahead: Callable | None = None
    ):
        super().__init__(None, batching)
        self.session_of = session_of  # the scoped session: the batch's greenlet gets its own
        self.limit = limit
        self.read_ahead = ahead  # ``ahead(session, keys)``: what the batch's works will read, at once

    def _ahead(self, target, keys: list) -> None:
        if self.read_ahead is not None:
            self.read_ahead(target, keys)

    @contextmanager
    def _transaction(self, batched: bool):
        with write_transaction(self.session_of()) as session:
            yield session


class _Refused:
    def __init__(self, error: BaseException):
        self.error = error


def alembic_config(connection: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, keeping every row (run at every start).

    Before changing an existing SQLite database, a consistent copy is kept beside it
    (``jikao.db.before-<revision>``): SQLite applies schema changes one by one, so an upgrade that fails
    half-way can be undone by putting the copy back.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as connection:
        config = alembic_config(connection)
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(config).get_current_head()
    if current is not None and current != head and engine.dialect.name == "sqlite":
        _backup_sqlite(engine, f"before-{head}")
    with engine.begin() as connection:
        one_writer(connection)  # workers starting together over PostgreSQL upgrade one after the other
        command.upgrade(alembic_config(connection), "head")
    engine.dispose()  # every later connection starts fresh, with the connect-time pragmas (foreign keys on)


def _backup_sqlite(engine: Engine, suffix: str) -> None:
    database = engine.url.database
    if not database or database == ":memory:":
        return
    target = f"{database}.{suffix}"
    source = sqlite3.connect(database)
    try:
        with sqlite3.connect(target) as copy:
            source.backup(copy)
    finally:
        source.close()
