"""Chain conformance: voorvoegsel, stable group ids (filled by issue 12's conformance work).

Revision ID: 0011_conformance
Revises: 0010_security
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0011_conformance"
down_revision: str | None = "0010_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
