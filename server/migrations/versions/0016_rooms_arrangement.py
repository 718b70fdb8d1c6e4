"""rooms set up by the exam admin (number, location), the sitting's site and chief examiner, and the seat each
registrant was given by the room arrangement

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-21

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=128), server_default="", nullable=False))
        batch_op.add_column(sa.Column("chief_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_exam_session_chief_id_account"), "account", ["chief_id"], ["id"])
    with op.batch_alter_table("room") as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("location", sa.String(length=128), server_default="", nullable=False))
    with op.batch_alter_table("candidate") as batch_op:
        batch_op.add_column(sa.Column("registrant_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_candidate_registrant_id_registrant"), "registrant", ["registrant_id"], ["id"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_candidate_registrant_id"), ["registrant_id"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("candidate") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_candidate_registrant_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_candidate_registrant_id_registrant"), type_="foreignkey")
        batch_op.drop_column("registrant_id")
    with op.batch_alter_table("room") as batch_op:
        batch_op.drop_column("location")
        batch_op.drop_column("number")
    with op.batch_alter_table("exam_session") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_exam_session_chief_id_account"), type_="foreignkey")
        batch_op.drop_column("chief_id")
        batch_op.drop_column("site")
