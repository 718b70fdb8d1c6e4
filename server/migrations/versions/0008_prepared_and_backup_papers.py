"""papers assembled ahead of the start, backup papers, and paper replacement

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "prepared_paper",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("seat_no", sa.Integer(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", server.db.UTCDateTime(), nullable=True),
        sa.Column("void_reason", sa.String(length=256), nullable=True),
        sa.Column("created_at", server.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["attempt.id"]),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["exam_session.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prepared_paper", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prepared_paper_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paper_no", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("paper_replaced_at", server.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table("exam_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assembly_report", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("exam_session", schema=None) as batch_op:
        batch_op.drop_column("assembly_report")

    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("paper_replaced_at")
        batch_op.drop_column("paper_no")

    with op.batch_alter_table("prepared_paper", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prepared_paper_session_id"))

    op.drop_table("prepared_paper")
