"""Talks: the read model of the conversations with parents (one row per talk), for the week
calendars, the worklist's talk column, the at-risk list and the planner's fixed bookings;
`talk_staff` holds who of the school attends a planned talk, for a person's week.

Revision ID: 0014_talks
Revises: 0013_invitations
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_talks"
down_revision: str | None = "0013_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "talks",
        sa.Column("talk_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("pupil_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("round_key", sa.String(100), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("room", sa.String(100)),
        sa.Column("staff", JSON, nullable=False),
        sa.Column("requested_staff", JSON, nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("parents", JSON, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False),
        sa.Column("with_pupil", sa.Boolean, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_on", sa.DateTime(timezone=True)),
        sa.Column("answered_on", sa.DateTime(timezone=True)),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("reminded", sa.Boolean, nullable=False),
        sa.Column("at_risk_reason", sa.Text),
        sa.Column("escalations", JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("position", BIGINT, nullable=False),
    )
    op.create_index("ix_talks_school_start", "talks", ["school_id", "starts_at"])
    op.create_index("ix_talks_school_status", "talks", ["school_id", "status"])
    op.create_index("ix_talks_pupil", "talks", ["pupil_id"])
    op.create_table(
        "talk_staff",
        sa.Column("talk_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_talk_staff_user_start", "talk_staff", ["user_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_talk_staff_user_start", table_name="talk_staff")
    op.drop_table("talk_staff")
    for name in ("ix_talks_pupil", "ix_talks_school_status", "ix_talks_school_start"):
        op.drop_index(name, table_name="talks")
    op.drop_table("talks")
