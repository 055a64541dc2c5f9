"""The register of schools and pupils: names live here, never in events, so they can be erased."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from service.store import log
from service.store.driver import Driver
from service.store.engine import single_statements
from service.store.schema import parents, pupils, schools
from service.store.sql import driver_of

# Dutch surnames sort without their tussenvoegsels: "de Vries" sorts under V.
_TUSSENVOEGSELS = (
    "van der ",
    "van den ",
    "van de ",
    "van 't ",
    "in 't ",
    "op de ",
    "van ",
    "den ",
    "der ",
    "de ",
    "ten ",
    "ter ",
    "te ",
    "'t ",
)


def surname_sort_key(family_name: str) -> str:
    return split_surname(family_name)[1].casefold()


def split_surname(family_name: str) -> tuple[str, str]:
    """("van der", "Berg") from "van der Berg": the voorvoegsel and the achternaam."""
    name = family_name.strip()
    for particle in _TUSSENVOEGSELS:
        if name.casefold().startswith(particle) and len(name) > len(particle):
            return name[: len(particle) - 1], name[len(particle) :].strip()
    return "", name


@dataclass(frozen=True)
class School:
    id: str
    brin: str
    name: str


@dataclass(frozen=True)
class Pupil:
    id: str
    school_id: str
    given_name: str
    family_name: str
    class_name: str = ""  # e.g. "8A"; "" while the school has not placed the pupil in a class

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Register:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_school(self, school: School) -> bool:
        """Add the school unless it is already there; True when it was added."""
        with self._engine.begin() as conn:
            if conn.execute(select(schools.c.id).where(schools.c.id == school.id)).first():
                return False
            conn.execute(insert(schools).values(id=school.id, brin=school.brin, name=school.name))
            return True

    def add_pupil(self, pupil: Pupil) -> bool:
        with self._engine.begin() as conn:
            if conn.execute(select(pupils.c.id).where(pupils.c.id == pupil.id)).first():
                return False
            conn.execute(
                insert(pupils).values(
                    id=pupil.id,
                    school_id=pupil.school_id,
                    given_name=pupil.given_name,
                    family_name=pupil.family_name,
                    class_name=pupil.class_name,
                )
            )
            return True

    def school(self, school_id: str) -> School | None:
        with self._engine.connect() as conn:
            r = conn.execute(select(schools).where(schools.c.id == school_id)).first()
        return None if r is None else School(id=r.id, brin=r.brin, name=r.name)

    def set_routing(self, school_id: str, edu_route: str, oin: str) -> None:
        """The chain's routeringskenmerk (edu-to) and the school's OIN (edu-from)."""
        with self._engine.begin() as conn:
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(edu_route=edu_route, oin=oin)
            )

    def school_by_route(self, edu_route: str) -> tuple[School, str | None] | None:
        """The school a chain message is addressed to (edu-to), with its OIN."""
        with single_statements(self._engine).connect() as conn:
            r = conn.execute(select(schools).where(schools.c.edu_route == edu_route)).first()
        return None if r is None else (School(id=r.id, brin=r.brin, name=r.name), r.oin)

    def set_chain_codes(self, school_id: str, codes: dict[str, str], provider_url: str) -> None:
        """The school as the chain's Deelnemersgroep, and its test provider's chain API."""
        with self._engine.begin() as conn:
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(**codes, provider_url=provider_url)
            )

    def routing_of(self, school_id: str) -> tuple[str, str] | None:
        """(edu-to, edu-from) of a school, once set."""
        with self._engine.connect() as conn:
            r = conn.execute(
                select(schools.c.edu_route, schools.c.oin).where(schools.c.id == school_id)
            ).first()
        return None if r is None or r.edu_route is None else (r.edu_route, r.oin)

    def schools(self) -> list[School]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(schools).order_by(schools.c.name)).all()
        return [School(id=r.id, brin=r.brin, name=r.name) for r in rows]

    def pupil(self, pupil_id: str) -> Pupil | None:
        with single_statements(self._engine).connect() as conn:
            r = conn.execute(select(pupils).where(pupils.c.id == pupil_id)).first()
        if r is None:
            return None
        return Pupil(
            id=r.id,
            school_id=r.school_id,
            given_name=r.given_name,
            family_name=r.family_name,
            class_name=r.class_name,
        )

    def erase_pupil(self, pupil_id: str) -> bool:
        """Erase a pupil (AVG): names and parents' details go, and so does the key to the free
        text in the pupil's events. The log itself, and its hash chain, are untouched."""
        with self._engine.begin() as conn:
            conn.execute(delete(parents).where(parents.c.pupil_id == pupil_id))
            removed = conn.execute(delete(pupils).where(pupils.c.id == pupil_id)).rowcount > 0
            erased_key = log.erase_pupil_key(driver_of(conn), pupil_id)
            return removed or erased_key

    def pupils_of(self, school_id: str) -> list[Pupil]:
        with single_statements(self._engine).connect() as conn:
            found = conn.execute(select(pupils).where(pupils.c.school_id == school_id)).all()
        rows = sorted(
            found, key=lambda r: (surname_sort_key(r.family_name), r.given_name.casefold())
        )
        return [
            Pupil(
                id=r.id,
                school_id=r.school_id,
                given_name=r.given_name,
                family_name=r.family_name,
                class_name=r.class_name,
            )
            for r in rows
        ]


def schools_of_pupils(driver: Driver, pupil_ids: list[str]) -> dict[str, str]:
    """The school of every given pupil that is in the register (inside a batch's transaction)."""
    if not pupil_ids:
        return {}
    where, ids = driver.any_of("id", pupil_ids)
    rows = driver.all(f"SELECT id, school_id FROM pupils WHERE {where}", (ids,))  # noqa: S608
    return {str(r[0]): str(r[1]) for r in rows}


def register_rows(driver: Driver, pupil_ids: list[str]) -> tuple[list[Any], list[Any]]:
    """The register's rows of these pupils and of their parents (an import compares)."""
    where, ids = driver.any_of("id", pupil_ids)
    columns = "id, school_id, given_name, family_name, class_name, initials, birth_date, sex"
    found = driver.all(f"SELECT {columns} FROM pupils WHERE {where}", (ids,))  # noqa: S608
    where, ids = driver.any_of("pupil_id", pupil_ids)
    parent_rows = driver.all(
        f"SELECT id, pupil_id, name, email, phone FROM parents WHERE {where}",  # noqa: S608
        (ids,),
    )
    return found, parent_rows


def insert_pupils(driver: Driver, new: list[Pupil]) -> None:
    """New pupils into the register inside a use case's unit of work (an enrolment): no
    check-then-insert, so a pupil already there is the unique key's error and the unit fails."""
    if not new:
        return
    columns = [f.name for f in fields(Pupil)]
    driver.run_many(
        f"INSERT INTO pupils ({', '.join(columns)}) "  # noqa: S608 - names from the dataclass
        f"VALUES ({', '.join('?' for _ in columns)})",
        [tuple(getattr(p, c) for c in columns) for p in new],
    )
