"""The administration trail and the register of erased pupils.

`admin_trail` holds one row per change to accounts, API tokens, machine clients and schools:
who (the account, or the bootstrap of a fresh installation with the OS user named as such), how
(web, cli), what, to whom, when, and the before and after of role, schools and classes.
`admin_trail_schools` names the schools each row concerns, so that directie sees the rows about
its own school. Both are append-only: triggers reject UPDATE and DELETE on both databases.

`pupil_erasures` keeps, per erased pupil, the school and class (not personal data), the moment
of the erasure and a pseudonymous label, so that the access log can still show who read an
erased pupil's data, without the name that the erasure removed.

Revision ID: 0018_admin_trail
Revises: 0017_report_facts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0018_admin_trail"
down_revision: str | None = "0017_report_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
APPEND_ONLY = ("admin_trail", "admin_trail_schools")


def upgrade() -> None:
    op.create_table(
        "admin_trail",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("actor_role", sa.String(20)),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("before", JSON),
        sa.Column("after", JSON),
    )
    op.create_index("ix_admin_trail_subject", "admin_trail", ["subject_id"])
    op.create_table(
        "admin_trail_schools",
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("admin_trail.id"), primary_key=True),
        sa.Column("school_id", sa.String(36), primary_key=True),
    )
    op.create_index("ix_admin_trail_schools_school", "admin_trail_schools", ["school_id"])
    op.create_table(
        "pupil_erasures",
        sa.Column("pupil_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("class_name", sa.String(20)),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(20), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION admin_trail_is_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the administration trail is append-only: % is not allowed', TG_OP
                    USING ERRCODE = 'restrict_violation';
            END;
            $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION admin_trail_is_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION admin_trail_is_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the administration trail is append-only: "
                    f"{operation} is not allowed'); END"
                )


def downgrade() -> None:
    op.drop_table("pupil_erasures")
    op.drop_table("admin_trail_schools")
    op.drop_table("admin_trail")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION admin_trail_is_append_only()")
