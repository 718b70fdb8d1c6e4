"""Prepared statements on the driver's cursor store and read exactly what SQLAlchemy's own execution does.

The answer path runs its statements through :class:`server.db.Prepared`; rows it writes are read back by the
ORM everywhere else, so the stored forms (UTC datetimes, JSON, a JSON null) must be the same.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    select,
)

from server.db import Prepared, UTCDateTime

metadata = MetaData()
things = Table(
    "thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("at", UTCDateTime),
    Column("data", JSON),
    Column("blob", LargeBinary),
)
with_default = Table("defaulted", metadata, Column("id", Integer, primary_key=True), Column("n", Integer, default=3))

AT = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'prepared.db'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_an_insert_stores_what_sqlalchemy_stores_and_the_commit_keeps_it(engine):
    insert = Prepared(things.insert())
    with engine.connect() as connection:
        values = {"name": "甲", "at": AT.astimezone(timezone(timedelta(hours=8))), "data": ["A", "C"], "blob": b"\0x"}
        insert.rows(connection, {"id": 1, **values})
        insert.rows(connection, {"id": 2, "name": "乙", "at": AT, "data": None, "blob": None})
        connection.execute(things.insert(), {"id": 3, **values})  # SQLAlchemy's own, to compare with
        connection.commit()  # SQLAlchemy's commit commits what the driver's cursor wrote
    with engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT id, at, data FROM thing ORDER BY id").all()
        rows = connection.execute(select(things).order_by(things.c.id)).all()
    assert raw[0][1:] == raw[2][1:] == ("2026-11-21 09:30:15.123456", '["A", "C"]')
    assert raw[1][2] == "null"  # a cleared answer: JSON null, as SQLAlchemy stores None in a JSON column
    assert rows[0] == (1, "甲", AT, ["A", "C"], b"\0x")
    assert rows[1] == (2, "乙", AT, None, None)


def test_rows_come_back_through_the_column_types(engine):
    with engine.begin() as connection:
        connection.execute(things.insert(), {"id": 1, "name": "甲", "at": AT, "data": {"k": 1}, "blob": b"z"})
    query = Prepared(select(things.c.at, things.c.data, things.c.blob).where(things.c.name == bindparam("name")))
    with engine.connect() as connection:
        assert query.rows(connection, {"name": "甲"}) == [(AT, {"k": 1}, b"z")]
        assert query.rows(connection, {"name": "无"}) == []


def test_update_returning_and_a_repeated_parameter(engine):
    with engine.begin() as connection:
        connection.execute(things.insert(), [{"id": n, "name": "x" if n < 3 else "y"} for n in (1, 2, 3)])
    up_to = select(func.count()).where(things.c.id <= bindparam("i"), things.c.name == bindparam("who"))
    touch = Prepared(
        things.update()
        .where(things.c.id == bindparam("i"))
        .values(at=bindparam("at"))
        .returning(up_to.scalar_subquery())
    )
    with engine.connect() as connection:
        assert touch.rows(connection, {"i": 2, "at": AT, "who": "x"}) == [(2,)]
        connection.commit()
        assert connection.execute(select(things.c.at).where(things.c.id == 2)).scalar_one() == AT


def test_a_statement_that_needs_python_defaults_is_refused(engine):
    with engine.connect() as connection, pytest.raises(ValueError, match="defaults"):
        Prepared(with_default.insert()).rows(connection, {"id": 1})
