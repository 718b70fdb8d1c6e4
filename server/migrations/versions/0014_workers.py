"""several server processes over one database: a heartbeat per worker, and which worker holds which socket

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("server_heartbeat") as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=100), server_default="", nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_server_heartbeat_worker"), ["worker"])
    op.create_table(
        "socket_presence",
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempt.id"], name=op.f("fk_socket_presence_attempt_id_attempt")),
        sa.PrimaryKeyConstraint("worker", "attempt_id", name=op.f("pk_socket_presence")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("socket_presence")
    with op.batch_alter_table("server_heartbeat") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_server_heartbeat_worker"), type_="unique")
        batch_op.drop_column("worker")
