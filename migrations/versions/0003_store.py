"""The store's own tables: log head, idempotency keys, outbox, projections, pupil keys, parents.

- `log_head`: one row holding the last position and hash of the log. Every append locks it first,
  which serialises appends (positions in commit order, no holes) and anchors the chain's tail.
- `idempotency_keys`: a retried command returns its first response and appends nothing.
- `outbox`: what must happen after an append, written in the append's transaction.
- `projection_checkpoints` and the read models `trajectories`, `compliance_streams`,
  `late_actions`.
- `pupil_keys`: per-pupil keys for free text in events; deleting one erases that text.
- `parents`: parents' names and contact details (register, erasable).

Revision ID: 0003_store
Revises: 0002_register
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_store"
down_revision: str | None = "0002_register"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("position", BIGINT, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_log_head_single_row"),
    )
    op.execute(
        "INSERT INTO log_head (id, position, hash) SELECT 1, "
        "COALESCE((SELECT position FROM events ORDER BY position DESC LIMIT 1), 0), "
        "COALESCE((SELECT hash FROM events ORDER BY position DESC LIMIT 1), "
        "'0000000000000000000000000000000000000000000000000000000000000000')"
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("position", BIGINT, nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("available_at", TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_until", TIME, nullable=True),
        sa.Column("done_at", TIME, nullable=True),
        sa.Column("failed_at", TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_pending", "outbox", ["done_at", "failed_at", "available_at"])
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", BIGINT, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "trajectories",
        sa.Column("stream_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=True),
        sa.Column("school_year", sa.String(9), nullable=True),
        sa.Column("groep", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("conversation", sa.String(20), nullable=False),
        sa.Column("provisional_advice", sa.String(40), nullable=True),
        sa.Column("provisional_given_on", sa.Date(), nullable=True),
        sa.Column("provisional_timeliness", sa.String(10), nullable=True),
        sa.Column("test_advice", sa.String(40), nullable=True),
        sa.Column("final_advice", sa.String(40), nullable=True),
        sa.Column("final_basis", sa.String(30), nullable=True),
        sa.Column("final_given_on", sa.Date(), nullable=True),
        sa.Column("reconsideration_deadline", sa.Date(), nullable=True),
        sa.Column("late", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", BIGINT, nullable=False),
    )
    op.create_index("ix_trajectories_school", "trajectories", ["school_id", "school_year"])
    op.create_index("ix_trajectories_status", "trajectories", ["status"])
    op.create_table(
        "compliance_streams",
        sa.Column("stream_id", sa.String(64), primary_key=True),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
    )
    op.create_table(
        "late_actions",
        sa.Column("position", BIGINT, primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("school_id", sa.String(36), nullable=False),
        sa.Column("school_year", sa.String(9), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("recorded_at", TIME, nullable=False),
    )
    op.create_index("ix_late_actions_school", "late_actions", ["school_id", "school_year"])
    op.create_table(
        "pupil_keys",
        sa.Column("pupil_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_table(
        "parents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("pupil_id", sa.String(36), sa.ForeignKey("pupils.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
    )
    op.create_index("ix_parents_pupil", "parents", ["pupil_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_parents_pupil", "parents"),
        ("ix_late_actions_school", "late_actions"),
        ("ix_trajectories_status", "trajectories"),
        ("ix_trajectories_school", "trajectories"),
        ("ix_outbox_pending", "outbox"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "parents",
        "pupil_keys",
        "late_actions",
        "compliance_streams",
        "trajectories",
        "projection_checkpoints",
        "outbox",
        "idempotency_keys",
        "log_head",
    ):
        op.drop_table(table)
