"""the server's heartbeat (outages are measured from it), incidents the system records, and time to make up
after a candidate's computer failed

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "server_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beat_at", server.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", server.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_heartbeat")),
    )
    with op.batch_alter_table("incident") as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("attempt") as batch_op:
        batch_op.add_column(sa.Column("make_up_s", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.add_column(sa.Column("auto_make_up", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.drop_column("auto_make_up")
    with op.batch_alter_table("attempt") as batch_op:
        batch_op.drop_column("make_up_s")
    with op.batch_alter_table("incident") as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("server_heartbeat")
