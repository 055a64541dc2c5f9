"""Security: throttle counters, token issuers, the endpoint of a login attempt.

`throttle_counters` holds one row per throttle key (endpoint, account or address): the number of
attempts in the current window, raised by one atomic upsert before any password is checked, so
that a parallel burst cannot get past the limit. `api_tokens.issued_by` records who made a token
(a user id, `cli` for the server's command line, `client:<id>` for a machine client's exchange;
NULL for tokens made before this revision). `login_attempts.endpoint` says whether an attempt was
a web login or an OAuth token exchange: their throttles are separate.

Revision ID: 0010_security
Revises: 0009_chain_out
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_security"
down_revision: str | None = "0009_chain_out"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("issued_by", sa.String(64)))
    with op.batch_alter_table("login_attempts") as batch:
        batch.add_column(sa.Column("endpoint", sa.String(10), nullable=False, server_default="web"))


def downgrade() -> None:
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("endpoint")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("issued_by")
    op.drop_table("throttle_counters")
