"""The store port: wrapped pupil keys and the append function's final shape (filled by issue 12's store work).

Revision ID: 0013_store
Revises: 0012_anchors
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0013_store"
down_revision: str | None = "0012_anchors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
