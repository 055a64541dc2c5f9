"""Report facts: the catch-up read model of what the `trajectories` row folds away and the
reports count (`service/projections/report_facts.py`): the exemption ground, the heroverweging's
outcome, reason, lateness and conversation, and the advices registered with DUO — one row per
pupil's trajectory, joined to `trajectories` on the stream.

Revision ID: 0017_report_facts
Revises: 0016_integrity_checks
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_report_facts"
down_revision: str | None = "0016_integrity_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_facts",
        sa.Column("stream_id", sa.String(64), primary_key=True),
        sa.Column("exemption", sa.String(40)),
        sa.Column("hero", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("reason", sa.String(40)),
        sa.Column("decision_late", sa.Boolean, nullable=False),
        sa.Column("talk", sa.String(10)),
        sa.Column("registered_provisional", sa.String(40)),
        sa.Column("registered_final", sa.String(40)),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_facts")
