"""The doorstroomtoets intake: each school's chain routing, and the inbox of result deliveries.

`schools.edu_route` is the routeringskenmerk a test provider addresses the school's
administration with (`edu-to`), `schools.oin` the school's OIN it sends on behalf of
(`edu-from`); both 20 characters in the standard. `result_deliveries` keeps every delivered
Leerlingresultaat as received, durable before the provider hears 202; the worker turns pending
ones into domain events and records the outcome (processed, unknown pupil, refused) — nothing a
provider sent is ever dropped.

Revision ID: 0008_intake
Revises: 0007_sessions
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_intake"
down_revision: str | None = "0007_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("edu_route", sa.String(20)))
        batch.add_column(sa.Column("oin", sa.String(20)))
        batch.create_unique_constraint("uq_schools_edu_route", ["edu_route"])
    op.create_table(
        "result_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("school_id", sa.String(36), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("sender", sa.String(36), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("pupil_ref", sa.String(256), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("payload_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("pupil_id", sa.String(36)),
        sa.Column("processed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_result_deliveries_state", "result_deliveries", ["state", "id"])
    op.create_index("ix_result_deliveries_school", "result_deliveries", ["school_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_result_deliveries_school", table_name="result_deliveries")
    op.drop_index("ix_result_deliveries_state", table_name="result_deliveries")
    op.drop_table("result_deliveries")
    with op.batch_alter_table("schools") as batch:
        batch.drop_constraint("uq_schools_edu_route", type_="unique")
        batch.drop_column("oin")
        batch.drop_column("edu_route")
