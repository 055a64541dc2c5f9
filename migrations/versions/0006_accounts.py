"""Accounts: users with a role, the schools (and classes) they work for, personal API tokens;
the class a pupil is in; and the access log (every read of a pupil's trajectory: who, when, what).

Passwords are stored only as argon2id hashes, tokens only as sha256 of the token (a token is 256
random bits, so a fast hash is enough and lets a request be checked with one index lookup).

Revision ID: 0006_accounts
Revises: 0005_append_jsonb
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_accounts"
down_revision: str | None = "0005_append_jsonb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "user_schools",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("class_name", sa.String(20), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("user_id", "school_id", "class_name"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("pupil_id", sa.String(36), nullable=False),
        sa.Column("what", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(64)),
    )
    op.create_index("ix_access_log_pupil", "access_log", ["pupil_id"])
    with op.batch_alter_table("pupils") as batch:
        batch.add_column(sa.Column("class_name", sa.String(20), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("pupils") as batch:
        batch.drop_column("class_name")
    op.drop_index("ix_access_log_pupil", table_name="access_log")
    op.drop_table("access_log")
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("user_schools")
    op.drop_table("users")
