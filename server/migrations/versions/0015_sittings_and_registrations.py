"""sittings set up by the exam admin: the timing policy's entry and make-up limits, and the registration list

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.add_column(sa.Column("entry_before_s", sa.Integer(), server_default="1200", nullable=False))
        batch_op.add_column(sa.Column("make_up_max_s", sa.Integer(), server_default="1800", nullable=False))
    op.create_table(
        "registrant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=16), nullable=False),
        sa.Column("id_number", sa.String(length=32), nullable=False),
        sa.Column("work_unit", sa.String(length=128), nullable=False),
        sa.Column("photo", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("imported_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_registrant_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrant")),
        sa.UniqueConstraint("session_id", "id_number", name=op.f("uq_registrant_session_id")),
    )
    with op.batch_alter_table("registrant") as batch_op:
        batch_op.create_index(batch_op.f("ix_registrant_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("registrant") as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrant_session_id"))
    op.drop_table("registrant")
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.drop_column("make_up_max_s")
        batch_op.drop_column("entry_before_s")
