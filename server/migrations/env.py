"""Alembic environment: runs on the connection the app hands over (see ``server.db.upgrade``)."""

from alembic import context

import server.models  # noqa: F401  (every table known to the metadata)
from server.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
