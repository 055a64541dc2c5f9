"""What the chain needs to send: the school's identity in the standard, and pupils' demographics.

A Deelnemerslijst and a Schooladviezenlijst name the school as a `Deelnemersgroep` (instellings-
code = BRIN, vestigingscode, onderwijsaanbiedercode, onderwijslocatiecode, administratienr) and
go to the school's test provider (`provider_url`, the base of its chain API). A Deelnemerslijst
carries each pupil's voorletters, birth date and geslacht (1, 2 or 9 as the standard codes it):
register data, erased with the pupil, never in events.

Revision ID: 0009_chain_out
Revises: 0008_intake
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_chain_out"
down_revision: str | None = "0008_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("vestigingscode", sa.String(2)))
        batch.add_column(sa.Column("onderwijsaanbiedercode", sa.String(8)))
        batch.add_column(sa.Column("onderwijslocatiecode", sa.String(8)))
        batch.add_column(sa.Column("administratienr", sa.String(10)))
        batch.add_column(sa.Column("provider_url", sa.String(500)))
    with op.batch_alter_table("pupils") as batch:
        batch.add_column(sa.Column("initials", sa.String(6)))
        batch.add_column(sa.Column("birth_date", sa.Date))
        batch.add_column(sa.Column("sex", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("pupils") as batch:
        batch.drop_column("sex")
        batch.drop_column("birth_date")
        batch.drop_column("initials")
    with op.batch_alter_table("schools") as batch:
        for column in (
            "provider_url",
            "administratienr",
            "onderwijslocatiecode",
            "onderwijsaanbiedercode",
            "vestigingscode",
        ):
            batch.drop_column(column)
