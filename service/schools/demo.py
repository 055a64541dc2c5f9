"""A ready-to-try demo school: one groep 8 in the current school year, some advice given.

Seeding is idempotent: ids are derived from fixed names, and each step checks what is already
there, so a second run adds nothing. The names are invented.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.accounts.accounts import Accounts
from service.accounts.roles import Role, Scope
from service.advice.trajectories import Actor, CommandContext, Trajectories
from service.scheduling.availability import publish
from service.schools.register import Pupil, Register, School
from service.store.port import EventStore
from workflows.availability import PublishedWindow
from workflows.calendar import SchoolYear
from workflows.commands import EnrolPupil, GiveProvisionalAdvice
from workflows.lifecycle import Status
from workflows.scale import SchoolAdvice

_NAMESPACE = uuid.UUID("6f1c2a2e-3d5b-4c59-9a51-2f4f0e0c8d11")
DEMO_SCHOOL = School(
    id=str(uuid.uuid5(_NAMESPACE, "school/99ZZ")), brin="99ZZ", name="OBS De Vuurtoren (demo)"
)
# (given name, family name, voorlopig advies already given or None)
_PUPILS: tuple[tuple[str, str, SchoolAdvice | None], ...] = (
    ("Noor", "de Vries", SchoolAdvice.HAVO),
    ("Daan", "Jansen", SchoolAdvice.VMBO_GLTL_TM_HAVO),
    ("Sara", "El Amrani", SchoolAdvice.VMBO_KB_MET_LWOO),
    ("Luuk", "Bakker", None),
    ("Fenna", "Visser", None),
    ("Milan", "Smit", None),
    ("Yara", "Mulder", None),
    ("Bram", "de Boer", None),
)
DEMO_CLASS = "8A"
DEMO_ACTOR = Actor(id="demo-seed", role="beheer")
# Demo accounts, documented in the README; the passwords are for the demo school only.
DEMO_TEACHER = "leerkracht@demo.adviestraject.nl"
DEMO_DIRECTOR = "directie@demo.adviestraject.nl"
DEMO_IB = "ib@demo.adviestraject.nl"
DEMO_BOARD = "bestuur@demo.adviestraject.nl"
DEMO_ACCOUNTS = (DEMO_TEACHER, DEMO_IB, DEMO_DIRECTOR, DEMO_BOARD)
DEMO_PASSWORD = "demo-vuurtoren-8A"  # noqa: S105 - public, for the demo school only
DEMO_ROOM = "lokaal 8A"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def demo_parents(given_name: str, family_name: str) -> list[tuple[str, str, str]]:
    """(id, name, e-mail) of a demo pupil's parents: Noor has two (one joint talk), the others
    one. The addresses are on the demo domain; in development mail is written to files."""
    slug = family_name.lower().replace(" ", "")
    names = [f"ouder van {given_name} {family_name}"]
    if given_name == "Noor":
        names = [f"Anouk {family_name}", f"Peter {family_name}"]
    return [
        (
            str(uuid.uuid5(_NAMESPACE, f"parent/{given_name} {family_name}/{n}")),
            name,
            f"ouder{n + 1}.{given_name.lower()}.{slug}@demo.adviestraject.nl",
        )
        for n, name in enumerate(names)
    ]


def demo_pupil_id(given_name: str, family_name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"pupil/{DEMO_SCHOOL.brin}/{given_name} {family_name}")


def demo_pupil_ids() -> list[uuid.UUID]:
    return [demo_pupil_id(given, family) for given, family, _ in _PUPILS]


@dataclass
class SeedReport:
    school_added: bool = False
    pupils_added: int = 0
    events_appended: int = 0
    users_added: int = 0


def seed_demo_users(accounts: Accounts) -> int:
    """The demo school's teacher (class 8A), intern begeleider, director and board member,
    unless they are there already: every role a school uses, to try."""
    known = {user.email for user in accounts.list_users()}
    wanted = [
        (DEMO_TEACHER, "Juf Demi (demo)", Role.LEERKRACHT, Scope(DEMO_SCHOOL.id, DEMO_CLASS)),
        (DEMO_IB, "Ilse de Groot (demo)", Role.IB, Scope(DEMO_SCHOOL.id)),
        (DEMO_DIRECTOR, "Meester Dirk (demo)", Role.DIRECTIE, Scope(DEMO_SCHOOL.id)),
        (DEMO_BOARD, "Bram Bestuur (demo)", Role.BESTUUR, Scope(DEMO_SCHOOL.id)),
    ]
    added = 0
    for email, name, role, scope in wanted:
        if email not in known:
            accounts.add_user(email, name, role, [scope], DEMO_PASSWORD)
            added += 1
    return added


DEMO_EDU_TO = "0000000700099ZZ00530"  # the demo school's routing in the doorstroomtoets chain
DEMO_OIN = "0000000700099ZZ00000"


def seed_demo(register: Register, trajectories: Trajectories, today: date) -> SeedReport:
    report = SeedReport(school_added=register.add_school(DEMO_SCHOOL))
    if register.routing_of(DEMO_SCHOOL.id) is None:
        register.set_routing(DEMO_SCHOOL.id, DEMO_EDU_TO, DEMO_OIN)
    year = SchoolYear.containing(today)
    context = CommandContext(actor=DEMO_ACTOR, correlation_id="seed-demo")
    for given, family, advice in _PUPILS:
        pupil_id = demo_pupil_id(given, family)
        pupil = Pupil(str(pupil_id), DEMO_SCHOOL.id, given, family, DEMO_CLASS)
        report.pupils_added += register.add_pupil(pupil)
        for parent_id, name, address in demo_parents(given, family):
            register.add_parent(str(pupil_id), parent_id, name, address)
        state = trajectories.load(pupil_id)
        if state.status is Status.NOT_ENROLLED:
            enrol = EnrolPupil(
                school_id=DEMO_SCHOOL.id,
                school_year=str(year),
                groep=8,
                enrolled_on=year.first_day,
            )
            report.events_appended += len(
                trajectories.execute(pupil_id, enrol, context).event_types
            )
            state = trajectories.load(pupil_id)
        if advice is not None and state.status is Status.AWAITING_PROVISIONAL_ADVICE:
            give = GiveProvisionalAdvice(advice=advice, given_on=today)
            report.events_appended += len(trajectories.execute(pupil_id, give, context).event_types)
    return report


def seed_demo_availability(
    store: EventStore, accounts: Accounts, clock: Callable[[], datetime]
) -> bool:
    """The demo teacher's time for the heroverweging talks: Tuesday to Thursday afternoons,
    13:00-16:00 in lokaal 8A, from 15 March until the deadline week of the current school year
    (only what is still to come). False when that is published already (nothing stored)."""
    teacher = next((u for u in accounts.list_users() if u.email == DEMO_TEACHER), None)
    if teacher is None:
        return False
    now = clock()
    year = SchoolYear.containing(now.astimezone(AMSTERDAM).date())
    first = date(year.start_year + 1, 3, 15)
    windows = []
    for offset in range(10):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, time(13), AMSTERDAM)
        if day.isoweekday() in (2, 3, 4) and start > now:
            end = datetime.combine(day, time(16), AMSTERDAM)
            windows.append(PublishedWindow(start, end, DEMO_ROOM))
    if not windows:
        return False
    return publish(
        store,
        clock,
        DEMO_SCHOOL.id,
        teacher.user_id,
        "reconsideration",
        windows,
        actor=DEMO_ACTOR.id,
        actor_name="demo",
        role=DEMO_ACTOR.role,
    )
