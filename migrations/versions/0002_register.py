"""The register of schools and pupils: personal data kept apart from the log, mutable, erasable.

Revision ID: 0002_register
Revises: 0001_events
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_register"
down_revision: str | None = "0001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("brin", sa.String(8), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "pupils",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
    )
    op.create_index("ix_pupils_school_id", "pupils", ["school_id"])


def downgrade() -> None:
    op.drop_index("ix_pupils_school_id", table_name="pupils")
    op.drop_table("pupils")
    op.drop_table("schools")
