"""Alembic environment: runs on the connection the app hands over (see ``server.db.upgrade``)."""

from alembic import context

import server.models  # noqa: F401  (every table known to the metadata)
from server.db import Base

connection = context.config.attributes["connection"]
sqlite = connection.dialect.name == "sqlite"
if sqlite:
    # SQLite alters a table by copying it and dropping the old one; with foreign keys enforced the drop
    # fails wherever another table refers to it. Enforcement is off while migrating (it can only change
    # outside a transaction, which is where this runs) and the whole database is checked before it is on again.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=sqlite,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
if sqlite:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"schema upgrade left rows pointing nowhere: {broken[:5]}")
    # Enforcement comes back with fresh connections: server.db.upgrade disposes of this one's pool.
