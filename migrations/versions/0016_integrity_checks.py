"""Integrity checks: every full recomputation of the hash chain (the worker's daily one and
`adviestraject verify`), with how far it got and where it broke, so that every page can show the
chain's status with one indexed SELECT (`service/audit/integrity.py`).

Revision ID: 0016_integrity_checks
Revises: 0015_parent_tokens
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_integrity_checks"
down_revision: str | None = "0015_parent_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("events", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sa.Column(
            "verified_to", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False
        ),
        sa.Column("first_bad_position", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
        sa.Column("stream_id", sa.String(64)),
        sa.Column("reason", sa.Text),
        sa.Column("anchors_checked", sa.Integer, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
    )
    op.create_index("ix_integrity_checks_checked_at", "integrity_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_integrity_checks_checked_at", table_name="integrity_checks")
    op.drop_table("integrity_checks")
