"""closing a sitting: rooms closed with their room record kept, and the results' publication

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "room_closing",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_closing_room_id_room")),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room_closing")),
    )
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.add_column(sa.Column("published_at", server.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.drop_column("published_by")
        batch_op.drop_column("published_at")
    op.drop_table("room_closing")
