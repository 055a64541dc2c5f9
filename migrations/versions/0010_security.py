"""Security: login throttle counters, token issuers, scoped idempotency keys (filled by issue 12's security work).

Revision ID: 0010_security
Revises: 0009_chain_out
Create Date: 2026-11-30
"""

from collections.abc import Sequence

revision: str = "0010_security"
down_revision: str | None = "0009_chain_out"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
