"""Anchors of the log's head outside the database (filled by issue 12's anchor work).

Revision ID: 0012_anchors
Revises: 0011_conformance
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0012_anchors"
down_revision: str | None = "0011_conformance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
