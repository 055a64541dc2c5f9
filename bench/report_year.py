"""A generated groep 8 school year, made through the real command paths, for the report test
(tests/e2e/test_report_figures.py) and the reports bench (bench/reports.py).

Schools and pupils go into the register (class, and gender as a school administration gives it);
every pupil's year is decided by a seeded random generator and recorded on its own in a
`PupilPath` — what the generator did, never what the service derived — then sent as the
service's own commands, phase by phase, through `Trajectories.batch()` with the injected clock
set to the phase's day: enrolment, the voorlopig advies (early, on time, late), exemption,
a missed test without result, the results, the heroverweging conversation (held, declined, not
held where the school's setting is off), raised fully or partly or kept with a reason (on time
or after 24 March), the definitief advies, a result review beside vso, the registrations with DUO
(sent or not), and leaving the school. The results go through the intake as a test provider
delivers them (one Leerlingresultaat per pupil into the inbox, then the worker's
`process_pending`). The steps of the advice scales are written out here from
DOMAIN.md, apart from `workflows.scale`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text

from service.advice.batch import BatchItem
from service.bootstrap import Container
from service.intake.processing import process_pending
from service.schools.register import School
from service.shared.context import Actor, CommandContext
from workflows.calendar import SchoolYear
from workflows.commands import (
    Command,
    EnrolPupil,
    GiveFinalAdvice,
    GiveProvisionalAdvice,
    GrantExemption,
    KeepAdvice,
    RaiseAdvice,
    ReceiveTestResult,
    RecordConversationDeclined,
    RecordConversationHeld,
    RecordLeaving,
    RecordNationalRegistration,
    RecordNoTestResult,
    RecordTestMissed,
)
from workflows.enums import AdviceKind, ConversationParty, ExemptionGround, KeepReason
from workflows.policy import SchoolPolicy
from workflows.scale import SchoolAdvice, TestAdvice

YEAR = SchoolYear.parse("2025-2026")
TODAY = date(2026, 4, 3)
S = SchoolAdvice
# DOMAIN.md "Two advice scales", in half steps (pro 0 ... vwo 10); lwoo keeps the step.
SCHOOL_STEP: dict[SchoolAdvice, int] = {
    S.PRAKTIJKONDERWIJS: 0,
    S.VMBO_BB: 2,
    S.VMBO_BB_MET_LWOO: 2,
    S.VMBO_BB_TM_VMBO_KB: 3,
    S.VMBO_BB_TM_VMBO_KB_MET_LWOO: 3,
    S.VMBO_KB: 4,
    S.VMBO_KB_MET_LWOO: 4,
    S.VMBO_KB_TM_VMBO_GLTL: 5,
    S.VMBO_KB_TM_VMBO_GLTL_MET_LWOO: 5,
    S.VMBO_GLTL: 6,
    S.VMBO_GLTL_MET_LWOO: 6,
    S.VMBO_GLTL_TM_HAVO: 7,
    S.HAVO: 8,
    S.HAVO_TM_VWO: 9,
    S.VWO: 10,
}
TEST_STEP: dict[TestAdvice, int] = {
    TestAdvice.PRO_VMBO_BB: 1,
    TestAdvice.VMBO_BB_VMBO_KB: 3,
    TestAdvice.VMBO_KB_VMBO_GLTL: 5,
    TestAdvice.VMBO_GLTL_HAVO: 7,
    TestAdvice.HAVO_VWO: 9,
    TestAdvice.VWO: 10,
}
# The advice a full raise gives: the toetsadvies' own level.
FULL_RAISE = {
    TestAdvice.VMBO_BB_VMBO_KB: S.VMBO_BB_TM_VMBO_KB,
    TestAdvice.VMBO_KB_VMBO_GLTL: S.VMBO_KB_TM_VMBO_GLTL,
    TestAdvice.VMBO_GLTL_HAVO: S.VMBO_GLTL_TM_HAVO,
    TestAdvice.HAVO_VWO: S.HAVO_TM_VWO,
    TestAdvice.VWO: S.VWO,
}
LEVEL_AT = {2: S.VMBO_BB, 3: S.VMBO_BB_TM_VMBO_KB, 4: S.VMBO_KB, 5: S.VMBO_KB_TM_VMBO_GLTL}
LEVEL_AT |= {6: S.VMBO_GLTL, 7: S.VMBO_GLTL_TM_HAVO, 8: S.HAVO, 9: S.HAVO_TM_VWO}


def is_higher(test: TestAdvice, advice: SchoolAdvice) -> bool:
    """DOMAIN.md: higher when its step is greater, except pro/vmbo-bb beside pro."""
    if advice not in SCHOOL_STEP:
        return False
    if advice is S.PRAKTIJKONDERWIJS and test is TestAdvice.PRO_VMBO_BB:
        return False
    return TEST_STEP[test] > SCHOOL_STEP[advice]


def day(month: int, d: int, year: SchoolYear = YEAR) -> date:
    """The day in `year` (August to July)."""
    return date(year.start_year + (1 if month < 8 else 0), month, d)


# the phases, in the order (and on the day) the generator runs them
ENROL, PROVISIONAL, EXEMPT, NO_RESULT, RESULTS, TALKS = range(6)
DECIDE, FINAL, DECIDE_LATE, FINAL_LATE, REGISTER, LEAVE = range(6, 12)
PHASE_DAY = {
    ENROL: (9, 1),
    PROVISIONAL: (2, 4),
    EXEMPT: (2, 5),
    NO_RESULT: (3, 2),
    RESULTS: (3, 10),
    TALKS: (3, 16),
    DECIDE: (3, 18),
    FINAL: (3, 20),
    DECIDE_LATE: (3, 27),
    FINAL_LATE: (3, 28),
    REGISTER: (4, 1),
    LEAVE: (4, 2),
}
PROVISIONAL_DAY = {"early": (1, 5), "on_time": (1, 20), "late": (2, 3)}


@dataclass
class PupilPath:
    """What the generator did for one pupil (the test's own record)."""

    pupil_id: str
    school_id: str
    class_name: str
    sex: int | None
    provisional: SchoolAdvice | None = None
    provisional_when: str | None = None  # early, on_time, late
    exemption: ExemptionGround | None = None
    no_result: bool = False
    test: TestAdvice | None = None
    hero: bool = False
    talk: str | None = None  # held, declined
    outcome: str | None = None  # raised_fully, raised_partly, kept
    reason: KeepReason | None = None
    decision_late: bool = False
    review: bool = False
    final: SchoolAdvice | None = None
    final_late: bool = False
    registered_provisional: bool = False
    registered_final: bool = False
    left: bool = False
    year: SchoolYear = YEAR
    commands: dict[int, list[Command]] = field(default_factory=dict)

    def do(self, phase: int, *commands: Command) -> None:
        self.commands.setdefault(phase, []).extend(commands)


PROVISIONAL_CHOICES = [*SCHOOL_STEP, S.VSO, S.GEEN_SPECIFIEK_ADVIES_MOGELIJK]
PROVISIONAL_WEIGHTS = [3, 4, 1, 3, 1, 4, 1, 3, 1, 8, 1, 8, 12, 10, 10, 2, 1]


def plan_pupil(path: PupilPath, rng: random.Random, conversation_on: bool) -> None:
    """Choose this pupil's year and the commands that make it."""
    path.do(
        ENROL,
        EnrolPupil(
            school_id=path.school_id,
            school_year=str(path.year),
            groep=8,
            enrolled_on=day(8, 25, path.year),
        ),
    )
    if rng.random() < 0.03:
        return  # still waiting for a voorlopig advies
    advice = rng.choices(PROVISIONAL_CHOICES, PROVISIONAL_WEIGHTS)[0]
    when = rng.choices(["early", "on_time", "late"], [6, 86, 8])[0]
    path.provisional, path.provisional_when = advice, when
    path.do(
        PROVISIONAL,
        GiveProvisionalAdvice(advice=advice, given_on=day(*PROVISIONAL_DAY[when], path.year)),
    )
    if rng.random() < 0.9:
        path.registered_provisional = True
        path.do(
            EXEMPT,
            RecordNationalRegistration(kind=AdviceKind.PROVISIONAL, sent_on=day(2, 5, path.year)),
        )
    roll = rng.random()
    if roll < 0.05:
        ground = rng.choice(list(ExemptionGround))
        path.exemption, path.final = ground, advice
        path.do(
            EXEMPT,
            GrantExemption(ground=ground, decided_on=day(2, 5, path.year), parents_consulted=True),
        )
    elif roll < 0.08:
        path.no_result, path.final = True, advice
        path.do(
            NO_RESULT,
            RecordTestMissed(missed_on=day(2, 10, path.year), reason="Ziek tijdens de toets"),
            RecordNoTestResult(recorded_on=day(3, 2, path.year), reason="Inhalen lukte niet"),
        )
    elif roll < 0.10:
        pass  # the result has not come
    else:
        _with_result(path, rng, conversation_on)
    if path.final is not None and rng.random() < 0.85:
        path.registered_final = True
        path.do(
            REGISTER,
            RecordNationalRegistration(kind=AdviceKind.FINAL, sent_on=day(4, 1, path.year)),
        )
    if rng.random() < 0.03:
        path.left = True
        path.do(LEAVE, RecordLeaving(left_on=day(4, 2, path.year)))


def _with_result(path: PupilPath, rng: random.Random, conversation_on: bool) -> None:
    advice = path.provisional
    assert advice is not None  # noqa: S101 - set by the caller
    tests = list(TestAdvice)
    higher = [t for t in tests if is_higher(t, advice)]
    if advice not in SCHOOL_STEP:  # vso, geen specifiek advies: a person reviews the result
        test = rng.choice(tests)
        path.test, path.review = test, True
        path.do(RESULTS, _result(path, test))
        if rng.random() < 0.6:
            path.final = advice
            path.do(FINAL, GiveFinalAdvice(given_on=day(3, 20, path.year), advice=advice))
        return
    if higher and rng.random() < 0.4:
        test = rng.choice(higher)
    else:
        test = rng.choice([t for t in tests if not is_higher(t, advice)])
    path.test = test
    path.do(RESULTS, _result(path, test))
    if not is_higher(test, advice):
        path.final = advice
        return
    path.hero = True
    talk = rng.choices(
        [None, "held", "declined"], [12, 63, 25] if conversation_on else [75, 20, 5]
    )[0]
    path.talk = talk
    if talk == "held":
        path.do(
            TALKS,
            RecordConversationHeld(
                held_on=day(3, 16, path.year),
                attendees=(ConversationParty.PARENTS, ConversationParty.PUPIL),
            ),
        )
    elif talk == "declined":
        path.do(TALKS, RecordConversationDeclined(declined_on=day(3, 16, path.year)))
    if talk is None and conversation_on:
        return  # the decision waits for the conversation
    _decide(path, rng, advice, test)


def _decide(path: PupilPath, rng: random.Random, advice: SchoolAdvice, test: TestAdvice) -> None:
    outcome = rng.choices([None, "raised_fully", "raised_partly", "kept"], [8, 52, 18, 22])[0]
    between = [
        LEVEL_AT[s] for s in range(SCHOOL_STEP[advice] + 1, TEST_STEP[test]) if s in LEVEL_AT
    ]
    if outcome == "raised_partly" and not between:
        outcome = "raised_fully"
    if outcome is None:
        return
    late = rng.random() < 0.12
    decided_on = day(3, 27, path.year) if late else day(3, 18, path.year)
    phase = DECIDE_LATE if late else DECIDE
    path.outcome, path.decision_late = outcome, late
    if outcome == "raised_fully":
        new = FULL_RAISE[test]
        path.do(phase, RaiseAdvice(advice=new, decided_on=decided_on))
    elif outcome == "raised_partly":
        new = rng.choice(between)
        path.reason = rng.choice(list(KeepReason))
        path.do(
            phase,
            RaiseAdvice(
                advice=new,
                decided_on=decided_on,
                reason=path.reason,
                motivation="Werkhouding wisselend",
            ),
        )
    else:
        new = advice
        path.reason = rng.choice(list(KeepReason))
        path.do(
            phase,
            KeepAdvice(
                decided_on=decided_on, reason=path.reason, motivation="Past beter bij de leerling"
            ),
        )
    if rng.random() < 0.1:
        return  # decided, the definitief advies not yet recorded
    final_late = late or rng.random() < 0.08
    path.final, path.final_late = new, final_late
    given_on = day(3, 28, path.year) if final_late else day(3, 20, path.year)
    path.do(FINAL_LATE if final_late else FINAL, GiveFinalAdvice(given_on=given_on))


def _result(path: PupilPath, test: TestAdvice) -> Command:
    return ReceiveTestResult(
        provider="IEP",
        delivery_id=f"iep-{path.pupil_id}",
        test_advice=test,
        received_on=day(3, 10, path.year),
    )


def _through_the_intake(container: Container, paths: Sequence[PupilPath]) -> None:
    """The results as the test provider delivers them: one Leerlingresultaat per pupil into the
    inbox, then the worker's intake (`process_pending`) turns them into the pupils' events."""
    for path in paths:
        for command in path.commands.get(RESULTS, ()):
            assert isinstance(command, ReceiveTestResult)  # noqa: S101 - the plan's only kind
            message = {
                "resultatenscores": {
                    "toetsdefinitie": command.provider,
                    "id": command.delivery_id,
                    "deelnemerref": [{"label": "LAS-key", "onderwijsdeelnemerID": path.pupil_id}],
                    "resultaten": {
                        "resultaten": [
                            {"label": "Toetsadvies", "waarde": command.test_advice.value}
                        ]
                    },
                }
            }
            container.inbox.accept(path.school_id, "client:iep-koppeling", message)
    while process_pending(container):
        pass
    with container.engine.connect() as conn:
        states: dict[str, int] = dict(
            conn.execute(text("SELECT state, count(*) FROM result_deliveries GROUP BY state")).all()
        )
    if set(states) - {"processed"}:
        raise RuntimeError(f"deliveries not processed: {states}")


@dataclass
class GeneratedYear:
    schools: list[School]
    paths: list[PupilPath]
    conversation_off: set[str]
    today: date = TODAY
    year: SchoolYear = YEAR
    """The report's day: after every deadline of the year (3 April)."""


def generate(
    container: Container,
    set_clock: Callable[[datetime], None],
    *,
    schools: int | Sequence[School],
    pupils_per_school: int,
    seed: int,
    conversation_off: int = 1,
    after_phase: Callable[[int], None] | None = None,
    year: SchoolYear = YEAR,
) -> GeneratedYear:
    """Make the year in `container`'s database; the last `conversation_off` schools have the
    heroverweging conversation setting off; `after_phase(phase)` runs after each phase (e.g. the
    worker's catch-up of the read models half-way). `schools`: how many new ones, or schools
    made before (another `year` of them)."""
    rng = random.Random(seed)
    made = (
        list(schools)
        if not isinstance(schools, int)
        else [
            School(
                f"school-{k:02d}-{uuid.UUID(int=rng.getrandbits(128))}"[:36],
                f"{k:02d}RP{seed % 100:02d}",
                f"Basisschool {k + 1:02d}",
            )
            for k in range(schools)
        ]
    )
    off = {s.id for s in made[len(made) - conversation_off :]} if conversation_off else set()
    set_clock(datetime(year.start_year, 8, 25, 8, tzinfo=UTC))
    for school in made:
        container.register.add_school(school)
        if school.id in off:
            container.policies.change(
                school.id,
                year,
                SchoolPolicy(conversation_required=False),
                user_id="generator",
                user_name="Generator",
                role="directie",
                expected_version=container.policies.settings(school.id, fresh=True).version,
            )
    paths: list[PupilPath] = []
    for school in made:
        classes = ["8A", "8B"] if pupils_per_school > 30 else ["8"]
        for _ in range(pupils_per_school):
            pupil_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            sex = rng.choices([1, 2, 9, None], [48, 48, 2, 2])[0]
            path = PupilPath(pupil_id, school.id, rng.choice(classes), sex, year=year)
            plan_pupil(path, rng, school.id not in off)
            paths.append(path)
    with container.engine.begin() as conn:
        for school in made:
            mine = [p for p in paths if p.school_id == school.id]
            conn.execute(
                text(
                    "INSERT INTO pupils (id, school_id, given_name, family_name, class_name, sex) "
                    "VALUES (:id, :school, :given, :family, :class_name, :sex)"
                ),
                [
                    {
                        "id": p.pupil_id,
                        "school": p.school_id,
                        "given": "Leerling",
                        "family": f"Gen {k:04d}",
                        "class_name": p.class_name,
                        "sex": p.sex,
                    }
                    for k, p in enumerate(mine)
                ],
            )
    context = CommandContext(actor=Actor("user:generator", "leerkracht"))
    for phase, (month, d) in sorted(PHASE_DAY.items()):
        on = day(month, d, year)
        set_clock(datetime(on.year, on.month, on.day, 15, tzinfo=UTC))
        if phase == RESULTS:
            _through_the_intake(container, paths)
            if after_phase is not None:
                after_phase(phase)
            continue
        items = [
            BatchItem(uuid.UUID(p.pupil_id), p.commands[phase], context)
            for p in paths
            if p.commands.get(phase)
        ]
        for start in range(0, len(items), 1000):
            with container.trajectories.batch() as batch:
                outcomes = batch.execute(items[start : start + 1000])
            refused = [
                (i.pupil_id, o.error)
                for i, o in zip(items[start:], outcomes, strict=False)
                if o.error
            ]
            if refused:
                raise RuntimeError(f"phase {phase}: {len(refused)} refused, e.g. {refused[:3]}")
        if after_phase is not None:
            after_phase(phase)
    today = day(TODAY.month, TODAY.day, year)
    set_clock(datetime(today.year, today.month, today.day, 9, tzinfo=UTC))
    return GeneratedYear(made, paths, off, today, year)
