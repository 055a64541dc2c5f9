"""Chain conformance: a pupil's voorvoegsel (tussenvoegsel) as its own register field.

The Deelnemerslijst carries `voorvoegsel` and `achternaam` apart (NEN 1888). Until now an import
glued the tussenvoegsel to the surname and the message split it again with a fixed list, so
"van het Hof" left as voorvoegsel "van", achternaam "het Hof". `pupils.surname_prefix` keeps what
the school administration says: NULL when it did not say (older rows, a file without the column:
the message falls back to splitting the surname), "" when it said there is none. `family_name`
stays the surname as written ("van het Hof"), so every list that shows or sorts names is
unchanged. At most 10 characters, the standard's limit. Existing rows are left NULL: a backfill
could only apply the same fallback split the message applies when it is sent.

Group ids (the standard's "betekenisloze identifier", stable within a school year) need no
column: they are derived (uuid5 of school, school year and class), see service/chain/messages.py.

Revision ID: 0011_conformance
Revises: 0010_security
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_conformance"
down_revision: str | None = "0010_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pupils") as batch:
        batch.add_column(sa.Column("surname_prefix", sa.String(10)))


def downgrade() -> None:
    with op.batch_alter_table("pupils") as batch:
        batch.drop_column("surname_prefix")
