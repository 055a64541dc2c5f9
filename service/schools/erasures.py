"""What is kept of an erased pupil: the school and class (not personal data), when the erasure
was, and a stable pseudonymous label, so that the access log can still show who read the
pupil's data — without the name the erasure removed.

The label is derived from the pupil's id by a one-way hash: the same pupil always reads the same
("gewiste leerling (3F2A-9C1E)"), and the label does not lead back to the id in the events.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from service.store.schema import pupil_erasures, pupils

PREFIX = "gewiste leerling"


def pseudonym(pupil_id: str) -> str:
    """Eight hex digits of the id's sha256, in two groups: "3F2A-9C1E"."""
    digest = hashlib.sha256(f"adviestraject-erased:{pupil_id}".encode()).hexdigest()[:8].upper()
    return f"{digest[:4]}-{digest[4:]}"


def label_of(code: str) -> str:
    return f"{PREFIX} ({code})"


def record_erasure(conn: Connection, pupil_id: str, at: datetime) -> None:
    """Note the erasure of a pupil still in the register, in the erasure's own transaction (a
    pupil erased again after an import brought it back keeps one row, with the latest date)."""
    found = conn.execute(
        select(pupils.c.school_id, pupils.c.class_name).where(pupils.c.id == pupil_id)
    ).first()
    if found is None:
        return
    values = {"school_id": found.school_id, "class_name": found.class_name, "erased_at": at}
    done = conn.execute(
        update(pupil_erasures).where(pupil_erasures.c.pupil_id == pupil_id).values(**values)
    ).rowcount
    if not done:
        conn.execute(
            insert(pupil_erasures).values(pupil_id=pupil_id, label=pseudonym(pupil_id), **values)
        )
