"""presence of exam clients and the rooms' event feed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "room_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("at", server.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.String(length=512), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["candidate_id"], ["candidate.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("room_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_event_room_id"), ["room_id"], unique=False)

    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("connections", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("disconnected_at", server.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("focus_lost", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("focus_lost")
        batch_op.drop_column("disconnected_at")
        batch_op.drop_column("connections")

    with op.batch_alter_table("room_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_event_room_id"))

    op.drop_table("room_event")
