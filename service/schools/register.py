"""The register of schools and pupils: names live here, never in events, so they can be erased."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, insert, select, update

from service.schools.erasures import record_erasure
from service.store import log
from service.store.driver import Driver
from service.store.engine import single_statements
from service.store.schema import parents, pupils, schools
from service.store.sql import driver_of
from service.trail import Actor, write

# Dutch surnames sort without their voorvoegsel (tussenvoegsel): "de Vries" sorts under V.
# `family_name` is the surname as written ("van het Hof"); `surname_prefix` is the voorvoegsel
# as the school administration gave it ("van het"; "" for none; None when not given). Without
# it, the leading words of the surname that voorvoegsels are made of (NEN 1888) are read as one;
# "El" and "Al" are not among them: in Arabic surnames they are part of the name (El Amrani: E).
_PREFIX_WORDS = frozenset(
    (
        *("van", "de", "den", "der", "het", "'t", "te", "ten", "ter", "in", "op", "uit"),
        *("uijt", "uyt", "aan", "bij", "onder", "over", "voor", "tot", "'s", "d'", "l'"),
        *("la", "le", "les", "du", "des", "di", "da", "del", "della", "do", "dos", "das"),
        *("von", "vom", "zu", "zum", "zur", "am", "auf", "aus", "im"),
    )
)
MAX_PREFIX = 10  # the Deelnemerslijst's voorvoegsel (and NEN 1888): at most 10 characters


def surname_sort_key(family_name: str, prefix: str | None = None) -> str:
    return surname_parts(family_name, prefix)[1].casefold()


def surname_parts(family_name: str, prefix: str | None) -> tuple[str, str]:
    """(voorvoegsel, achternaam): the register's own voorvoegsel when the school gave one,
    else `split_surname`'s reading of the surname."""
    name = " ".join(family_name.split())
    if prefix is None:
        return split_surname(name)
    prefix = " ".join(prefix.split())
    if name.casefold().startswith(prefix.casefold() + " "):
        return prefix, name[len(prefix) + 1 :]
    return prefix, name  # "" (none), or a surname stored without it


def _word(word: str) -> str:
    return word.casefold().replace("\u2019", "'")  # 't typed with a typographic apostrophe


def split_surname(family_name: str) -> tuple[str, str]:
    """("van het", "Hof") from "van het Hof": the leading voorvoegsel words and the rest; a
    surname of one word, or whose leading words would pass 10 characters, is not split."""
    words = family_name.split()
    count = 0
    while count < len(words) - 1 and _word(words[count]) in _PREFIX_WORDS:
        count += 1
    prefix = " ".join(words[:count])
    if not prefix or len(prefix) > MAX_PREFIX:
        return "", " ".join(words)
    return prefix, " ".join(words[count:])


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
    surname_prefix: str | None = None  # the voorvoegsel, when the school gave it ("" for none)

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

    def add_parent(self, pupil_id: str, parent_id: str, name: str, email: str | None) -> bool:
        """One parent of a pupil, unless a parent with this id is there already."""
        with self._engine.begin() as conn:
            if conn.execute(select(parents.c.id).where(parents.c.id == parent_id)).first():
                return False
            conn.execute(
                insert(parents).values(id=parent_id, pupil_id=pupil_id, name=name, email=email)
            )
            return True

    def school(self, school_id: str) -> School | None:
        with self._engine.connect() as conn:
            r = conn.execute(select(schools).where(schools.c.id == school_id)).first()
        return None if r is None else School(id=r.id, brin=r.brin, name=r.name)

    def set_routing(
        self,
        school_id: str,
        edu_route: str,
        oin: str,
        *,
        actor: Actor | None = None,
        at: datetime | None = None,
    ) -> None:
        """The chain's routeringskenmerk (edu-to) and the school's OIN (edu-from); made for an
        `actor`, with its row in the administration trail, in one transaction."""
        with self._engine.begin() as conn:
            was = conn.execute(select(schools).where(schools.c.id == school_id)).first()
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(edu_route=edu_route, oin=oin)
            )
            if actor is not None and was is not None:
                before = {"edu-to": was.edu_route, "edu-from": was.oin} if was.edu_route else None
                after = {"edu-to": edu_route, "edu-from": oin}
                _trail(conn, actor, "school.routing", at, was, before, after)

    def school_by_route(self, edu_route: str) -> tuple[School, str | None] | None:
        """The school a chain message is addressed to (edu-to), with its OIN."""
        with single_statements(self._engine).connect() as conn:
            r = conn.execute(select(schools).where(schools.c.edu_route == edu_route)).first()
        return None if r is None else (School(id=r.id, brin=r.brin, name=r.name), r.oin)

    def set_chain_codes(
        self,
        school_id: str,
        codes: dict[str, str],
        provider_url: str,
        *,
        actor: Actor | None = None,
        at: datetime | None = None,
    ) -> None:
        """The school as the chain's Deelnemersgroep, and its test provider's chain API; made
        for an `actor`, with its row in the administration trail, in one transaction."""
        with self._engine.begin() as conn:
            conn.execute(
                update(schools)
                .where(schools.c.id == school_id)
                .values(**codes, provider_url=provider_url)
            )
            if actor is not None:
                row = conn.execute(select(schools).where(schools.c.id == school_id)).first()
                if row is not None:
                    after = {**codes, "provider": provider_url}
                    _trail(conn, actor, "school.chain", at, row, None, after)

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
            surname_prefix=r.surname_prefix,
        )

    def erase_pupil(self, pupil_id: str, at: datetime | None = None) -> bool:
        """Erase a pupil (AVG): names and parents' details go, and so does the key to the free
        text in the pupil's events. The log itself, and its hash chain, are untouched; the
        school, class and moment are kept (`pupil_erasures`) for the access log."""
        with self._engine.begin() as conn:
            record_erasure(conn, pupil_id, at or datetime.now(UTC))
            conn.execute(delete(parents).where(parents.c.pupil_id == pupil_id))
            removed = conn.execute(delete(pupils).where(pupils.c.id == pupil_id)).rowcount > 0
            erased_key = log.erase_pupil_key(driver_of(conn), pupil_id)
            return removed or erased_key

    def pupils_of(self, school_id: str) -> list[Pupil]:
        with single_statements(self._engine).connect() as conn:
            found = conn.execute(select(pupils).where(pupils.c.school_id == school_id)).all()
        rows = sorted(
            found,
            key=lambda r: (
                surname_sort_key(r.family_name, r.surname_prefix),
                r.given_name.casefold(),
            ),
        )
        return [
            Pupil(
                id=r.id,
                school_id=r.school_id,
                given_name=r.given_name,
                family_name=r.family_name,
                class_name=r.class_name,
                surname_prefix=r.surname_prefix,
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
    columns = (
        "id, school_id, given_name, family_name, class_name, initials, birth_date, sex, "
        "surname_prefix"
    )
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


def update_pupil(driver: Driver, pupil_id: str, row: Sequence[Any]) -> None:
    """A pupil's register row brought up to date inside a use case's unit of work (an import):
    `row` is (school_id, given_name, family_name, class_name, initials, birth_date, sex,
    surname_prefix)."""
    born = row[5]
    driver.run(
        "UPDATE pupils SET school_id = ?, given_name = ?, family_name = ?, class_name = ?, "
        "initials = ?, birth_date = ?, sex = ?, surname_prefix = ? WHERE id = ?",
        (*row[:5], _date_in(driver, born), *row[6:8], pupil_id),
    )


def write_parents(
    driver: Driver,
    pupil_id: str,
    parents: Sequence[tuple[str, str, str, str]],
    known: Collection[str],
    gone: Sequence[str],
) -> None:
    """A pupil's parents as the school administration lists them: (id, name, email, phone)
    each, updated where `known`, inserted otherwise; those `gone` deleted."""
    for parent_id in gone:
        driver.run("DELETE FROM parents WHERE id = ?", (parent_id,))
    for parent_id, name, email, phone in parents:
        if parent_id in known:
            driver.run(
                "UPDATE parents SET name = ?, email = ?, phone = ? WHERE id = ?",
                (name, email or None, phone or None, parent_id),
            )
        else:
            driver.run(
                "INSERT INTO parents (id, pupil_id, name, email, phone) VALUES (?, ?, ?, ?, ?)",
                (parent_id, pupil_id, name, email or None, phone or None),
            )


def _date_in(driver: Driver, day: date | None) -> Any:
    return day.isoformat() if day is not None and not driver.postgres else day


def move_to_class(driver: Driver, school_id: str, pupil_ids: list[str], class_name: str) -> None:
    """Pupils of a school into another class inside a use case's unit of work (the rollover
    from groep 7 to groep 8: the class changes with the pupils' events, in one commit)."""
    driver.run_many(
        "UPDATE pupils SET class_name = ? WHERE id = ? AND school_id = ?",
        [(class_name, pupil_id, school_id) for pupil_id in pupil_ids],
    )


def _trail(
    conn: Connection,
    actor: Actor,
    action: str,
    at: datetime | None,
    school: Row[Any],
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """A change to `school` (its row) into the administration trail, in the caller's
    transaction."""
    write(
        conn,
        actor,
        action,
        at or datetime.now(UTC),
        subject_id=school.id,
        subject=f"{school.brin} {school.name}",
        schools=[school.id],
        before=before,
        after=after,
    )
