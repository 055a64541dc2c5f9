"""The two messages a school administration sends in the chain, built from the register and the
trajectories read model: the `Deelnemerslijst` (`/registreren`: who takes the test) and the
`Schooladviezenlijst` (`/registreren-schooladviezen`: their voorlopige adviezen).

Both are "mutatieleveringen": each adds to or changes what the provider has, so a list of one
pupil (the outbox, after an advice) and the whole school (the command line) are both valid.
Every message is checked against the standard's own schema before it leaves; a pupil the
Deelnemerslijst cannot carry (no birth date in the register) is left out and named, not sent
half. Names come from the register at the moment of sending: an erased pupil is not sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, select

from service.intake.standard import VERSION, errors_in
from service.schools.register import surname_parts
from service.store.schema import pupils, schools, trajectories

AUTHOR = "adviestraject"
REGISTER_PATH = "/registreren"
ADVICE_PATH = "/registreren-schooladviezen"
CODES = ("vestigingscode", "onderwijsaanbiedercode", "onderwijslocatiecode", "administratienr")


class InvalidMessageError(Exception):
    """What we built does not satisfy the standard: a bug or missing school data; not sent."""


@dataclass(frozen=True)
class ChainSchool:
    id: str
    brin: str
    name: str
    oin: str | None
    edu_route: str | None
    codes: dict[str, str | None]
    provider_url: str | None

    def missing(self) -> list[str]:
        """What the school still needs before anything can be sent."""
        missing = [name for name, value in self.codes.items() if not value]
        if not self.oin or not self.edu_route:
            missing.append("ketenroutering (edu-to/OIN)")
        if not self.provider_url:
            missing.append("provider_url")
        return missing

    def group(self) -> dict[str, str]:
        return {"instellingscode": self.brin, **{k: str(v or "") for k, v in self.codes.items()}}


@dataclass(frozen=True)
class ChainPupil:
    id: str
    given_name: str
    family_name: str
    class_name: str
    groep: int
    surname_prefix: str | None
    initials: str | None
    birth_date: date | None
    sex: int | None
    provisional_advice: str | None


def chain_school(engine: Engine, school_id: str) -> ChainSchool | None:
    with engine.connect() as conn:
        r = conn.execute(select(schools).where(schools.c.id == school_id)).first()
    if r is None:
        return None
    return ChainSchool(
        id=r.id,
        brin=r.brin,
        name=r.name,
        oin=r.oin,
        edu_route=r.edu_route,
        codes={name: getattr(r, name) for name in CODES},
        provider_url=r.provider_url,
    )


def chain_pupils(engine: Engine, school_id: str, school_year: str) -> list[ChainPupil]:
    """The school's groep 8 pupils of that year (who take the doorstroomtoets), with their
    register data and voorlopig advies."""
    where = and_(pupils.c.school_id == school_id, trajectories.c.school_year == school_year)
    return [pupil for pupil, _, _ in _chain_rows(engine, where)]


def chain_pupil(engine: Engine, pupil_id: str) -> tuple[str, str, ChainPupil] | None:
    """(school id, school year, the pupil) of one groep 8 pupil; None when not in groep 8 or
    no longer in the register."""
    found = _chain_rows(engine, pupils.c.id == pupil_id)
    return (found[0][1], found[0][2], found[0][0]) if found else None


def _chain_rows(engine: Engine, where: Any) -> list[tuple[ChainPupil, str, str]]:
    join = pupils.join(trajectories, trajectories.c.stream_id == "trajectory-" + pupils.c.id)
    query = (
        select(
            pupils,
            trajectories.c.groep,
            trajectories.c.school_year,
            trajectories.c.provisional_advice,
        )
        .select_from(join)
        .where(and_(where, trajectories.c.groep == 8))
        .order_by(pupils.c.class_name, pupils.c.family_name, pupils.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        (
            ChainPupil(
                id=r.id,
                given_name=r.given_name,
                family_name=r.family_name,
                class_name=r.class_name,
                groep=r.groep,
                surname_prefix=r.surname_prefix,
                initials=r.initials,
                birth_date=r.birth_date,
                sex=r.sex,
                provisional_advice=r.provisional_advice,
            ),
            r.school_id,
            r.school_year,
        )
        for r in rows
    ]


def _header(school: ChainSchool, school_year: str, now: datetime, profile: str) -> dict[str, Any]:
    return {
        "datumtijd": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "auteur": AUTHOR,
        "versie": VERSION,
        "profiel": profile,
        "schooljaar": school_year,
        "deelnemersgroep": school.group(),
    }


def _ref(pupil: ChainPupil) -> list[dict[str, str]]:
    # our pupil id is the LAS-key the provider sends the result back with
    return [{"label": "LAS-key", "onderwijsdeelnemerID": pupil.id}]


# The standard's Groep.id: "betekenisloze identifier, minimaal uniek binnen de scope van de
# doorstroomtoets", which the LAS keeps unique across its exchanges and the issue asks to be
# stable within a school year. Derived, not stored: the same school, year and class give the same
# id in every message (outbox of one or the whole school), another school or year another one,
# and the id says nothing (a class name did: "stamgroep-8A"). Case and spaces of the class name
# do not make another group ("8a" is "8A").
GROUPS = uuid.UUID("5d0c7f0e-8b7a-4e59-93c1-2a6f4b1d9e37")


def group_id(school_id: str, school_year: str, class_name: str) -> str:
    return str(uuid.uuid5(GROUPS, f"{school_id}/{school_year}/{class_name.strip().casefold()}"))


def participants_list(
    school: ChainSchool, pupils_: list[ChainPupil], school_year: str, now: datetime
) -> tuple[dict[str, Any] | None, list[tuple[ChainPupil, str]]]:
    """The Deelnemerslijst, and the pupils left out with the reason (None when nobody is left)."""
    left_out = [(p, "geen geboortedatum in de administratie") for p in pupils_ if not p.birth_date]
    sent = [p for p in pupils_ if p.birth_date]
    if not sent:
        return None, left_out
    groups: dict[str, dict[str, Any]] = {}
    for pupil in sorted(sent, key=lambda p: (p.class_name, p.groep)):
        groups[group_id(school.id, school_year, pupil.class_name)] = {
            "label": "Stamgroep",
            "id": group_id(school.id, school_year, pupil.class_name),
            "omschrijving": (pupil.class_name or "zonder klas")[:64],
            "niveau": {"label": "Jaargroep", "niveau": str(pupil.groep)},
        }
    participants = []
    for pupil in sent:
        prefix, surname = surname_parts(pupil.family_name, pupil.surname_prefix)
        entry: dict[str, Any] = {
            "label": "Leerling",
            "deelnemerref": _ref(pupil),
            "achternaam": surname[:70],
            "roepnaam": pupil.given_name[:64],
            "groep": group_id(school.id, school_year, pupil.class_name),
            "niveau": {"label": "Jaargroep", "niveau": str(pupil.groep)},
            "extensie": {
                "label": "Demografisch",
                "voorletters": (pupil.initials or pupil.given_name[:1]).upper()[:6],
                "geboortedatum": str(pupil.birth_date),
                "geslacht": pupil.sex if pupil.sex in (1, 2, 9) else 9,
            },
        }
        if prefix:  # at most 10 characters: the register's column, or split_surname's limit
            entry["voorvoegsel"] = prefix
        participants.append(entry)
    message = _header(school, school_year, now, "Toetsdeelnemers") | {
        "groepen": list(groups.values()),
        "deelnemers": participants,
    }
    _check("Deelnemerslijst", message)
    return message, left_out


def advice_list(
    school: ChainSchool, pupils_: list[ChainPupil], school_year: str, now: datetime
) -> dict[str, Any] | None:
    """The Schooladviezenlijst of every pupil with a voorlopig advies (None when none has)."""
    advices = [
        {"deelnemerref": _ref(p), "advies": p.provisional_advice}
        for p in pupils_
        if p.provisional_advice
    ]
    if not advices:
        return None
    message = _header(school, school_year, now, "Schooladviezen") | {
        "voorlopigSchooladviezen": advices
    }
    _check("Schooladviezenlijst", message)
    return message


def _check(name: str, message: dict[str, Any]) -> None:
    errors = errors_in(name, message)
    if errors:
        first = errors[0]
        raise InvalidMessageError(
            f"{name} voldoet niet aan de standaard: {first['field']}: {first['message']}"
        )
