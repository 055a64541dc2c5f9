"""Enrolment, one pupil or a class at once: register rows and events in one commit.

The use case owns its atomicity: the pupils' register rows (names, class: personal data, kept
out of the log) and their `pupil_enrolled` events are written in one unit of work on an exclusive
store session. A refused enrolment (the domain says no for any pupil) or a failed commit leaves
nothing in the register and nothing in the log. With an idempotency key the pupils' ids derive
from it, so a retried request, even several racing at once, finds the first request's answer
under the lock and replays it instead of inserting the rows again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from service.advice.batch import Batch, BatchItem, BatchOutcome
from service.advice.trajectories import Trajectories
from service.schools.register import Pupil, insert_pupils
from service.shared.context import CommandContext, fingerprint
from workflows.commands import EnrolPupil
from workflows.errors import DomainError

_KEYED = uuid.UUID("0b7a3c5e-2d41-4f0e-9a63-5c1e8f2d7b90")  # namespace for keyed pupil ids


@dataclass(frozen=True)
class Enrolment:
    """One pupil to enrol: the register's row (its id is made here) and the command."""

    pupil: Pupil
    command: EnrolPupil


@dataclass(frozen=True)
class Enrolled:
    pupil_id: uuid.UUID
    outcome: BatchOutcome


class EnrolmentRefusedError(Exception):
    """The domain refused one or more pupils: nothing was stored. (index, error) per pupil."""

    def __init__(self, refusals: list[tuple[int, DomainError]]) -> None:
        super().__init__("; ".join(f"{i}: {e.message}" for i, e in refusals))
        self.refusals = refusals


def pupil_id_for(school_id: str, key: str | None) -> uuid.UUID:
    """A keyed request's pupil id (the same on every retry), else a new random one."""
    return uuid.uuid5(_KEYED, f"{school_id}/{key}") if key else uuid.uuid4()


def enrol(
    trajectories: Trajectories,
    school_id: str,
    rows: Sequence[tuple[Pupil, EnrolPupil]],
    context: CommandContext,
    key: str | None,
) -> list[Enrolled]:
    """Enrol every row or none. `key` (the request's idempotency key, scoped to the caller)
    makes the ids and the remembered answers of a retry; row i is keyed `key` itself for a
    single pupil and `key/i` in a class."""
    keys = [key if len(rows) == 1 else f"{key}/{i}" for i in range(len(rows))] if key else []
    items, pupils = [], []
    for index, (pupil, command) in enumerate(rows):
        row_key = keys[index] if key else None
        pupil_id = pupil_id_for(school_id, row_key) if key else uuid.UUID(pupil.id)
        pupils.append(Pupil(**{**pupil.__dict__, "id": str(pupil_id)}))
        items.append(
            BatchItem(
                pupil_id,
                [command],
                context,
                row_key,
                fingerprint(pupil_id, command) if row_key else "",
                None if row_key else 0,
            )
        )
    with trajectories.batch() as batch:
        outcomes = enrol_in(batch, list(zip(pupils, items, strict=True)))
        refusals = [
            (i, o.error) for i, o in enumerate(outcomes) if isinstance(o.error, DomainError)
        ]
        if refusals:
            raise EnrolmentRefusedError(refusals)  # leaves the block: nothing is committed
        for outcome in outcomes:
            if outcome.error is not None:
                raise outcome.error
    return [Enrolled(i.pupil_id, o) for i, o in zip(items, outcomes, strict=True)]


def enrol_in(
    batch: Batch,
    enrolments: Sequence[tuple[Pupil, BatchItem]],
    registered: Collection[str] = (),
) -> list[BatchOutcome]:
    """The enrolment step of every entry point (one pupil, a class, a CSV file), inside the
    caller's unit of work: the domain decides each pupil's `EnrolPupil` item, and each accepted
    pupil that is new (not a replayed answer, not among `registered`, the ids the register
    already holds) gets its register row in the same commit. Refused items are the caller's
    to report; it decides whether the unit commits."""
    outcomes = batch.execute([item for _, item in enrolments])
    insert_pupils(
        batch.io,
        [
            pupil
            for (pupil, _), outcome in zip(enrolments, outcomes, strict=True)
            if outcome.accepted and not outcome.replayed and pupil.id not in registered
        ],
    )
    return outcomes
