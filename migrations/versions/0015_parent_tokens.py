"""Parents' tokens: the secret of the link in a talk's e-mail to one parent (`/ouders/{token}`),
single purpose (one talk, one parent), expiring; only its sha256 is stored.

Revision ID: 0015_parent_tokens
Revises: 0014_talks
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_parent_tokens"
down_revision: str | None = "0014_talks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parent_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("talk_id", sa.String(36), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_parent_tokens_talk_parent", "parent_tokens", ["talk_id", "parent_id"])


def downgrade() -> None:
    op.drop_index("ix_parent_tokens_talk_parent", table_name="parent_tokens")
    op.drop_table("parent_tokens")
