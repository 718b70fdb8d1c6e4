"""absence (缺考), the late-entry cutoff, and moving a candidate to another computer (换机)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("exam_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("late_entry_s", sa.Integer(), server_default="1800", nullable=False))

    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("absent_at", server.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("absent_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_candidate_absent_by_account", "account", ["absent_by"], ["id"])

    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("move_allowed", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_column("move_allowed")

    with op.batch_alter_table("candidate", schema=None) as batch_op:
        batch_op.drop_constraint("fk_candidate_absent_by_account", type_="foreignkey")
        batch_op.drop_column("absent_by")
        batch_op.drop_column("absent_at")

    with op.batch_alter_table("exam_session", schema=None) as batch_op:
        batch_op.drop_column("late_entry_s")
