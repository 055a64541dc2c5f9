"""The rules from enrolment to the definitief advies: advices, the test and its paths beside.

Each function takes the decision's `Context` and one command and returns the events that follow,
or raises a `DomainError` naming the rule. The life cycle's state and guard checks have already
passed when these run; what they check is the content of the command. What a received result
means for the advice (a heroverweging or not) is the heroverweging rule:
`rules_reconsideration.after_test_result`.
"""

from __future__ import annotations

from datetime import timedelta

from workflows.calendar import SchoolYear, school_day, timeliness_in
from workflows.codec import Event
from workflows.commands import (
    CorrectProvisionalAdvice,
    EnrolPupil,
    GiveFinalAdvice,
    GiveOrientationAdvice,
    GiveProvisionalAdvice,
    GrantExemption,
    MoveToGroep8,
    PlanCatchUpTest,
    ReceiveTestResult,
    RecordLeaving,
    RecordNationalRegistration,
    RecordNoTestResult,
    RecordOkrConversation,
    RecordTestMissed,
)
from workflows.enums import AdviceKind, ExemptionGround, FinalAdviceBasis, Timeliness
from workflows.errors import DomainError
from workflows.events import (
    CatchUpTestPlanned,
    ExemptionGranted,
    NationalRegisterRegistrationSent,
    NoTestResultRecorded,
    OkrConversationHeld,
    OrientationAdviceGiven,
    ProvisionalAdviceCorrected,
    ProvisionalAdviceGiven,
    PupilEnrolled,
    PupilEnteredGroep8,
    PupilLeftSchool,
    TestMissed,
    TestResultReceived,
)
from workflows.lifecycle import Status
from workflows.rules_common import Context, optional_text, required_text
from workflows.rules_reconsideration import after_test_result

CATCH_UP_WITHIN = timedelta(weeks=3)
REGISTER_WITHIN = timedelta(weeks=2)


def enrol(ctx: Context, cmd: EnrolPupil) -> list[Event]:
    year = SchoolYear.parse(cmd.school_year)
    if cmd.groep not in (7, 8):
        raise DomainError(
            "groep_invalid", "het traject volgt leerlingen in groep 7 en 8", field="groep"
        )
    if not cmd.school_id.strip():
        raise DomainError("school_id_missing", "de school ontbreekt", field="school_id")
    ctx.happened(cmd.enrolled_on, "enrolled_on", year)
    return [
        PupilEnrolled(
            school_id=cmd.school_id,
            school_year=str(year),
            groep=cmd.groep,
            enrolled_on=cmd.enrolled_on,
        )
    ]


def enter_groep_8(ctx: Context, cmd: MoveToGroep8) -> list[Event]:
    year = SchoolYear.parse(cmd.school_year)
    if year.start_year != ctx.year.start_year + 1:
        raise DomainError(
            "school_year_not_next",
            f"na groep 7 in {ctx.year} volgt groep 8 in {SchoolYear(ctx.year.start_year + 1)}",
            field="school_year",
        )
    ctx.happened(cmd.entered_on, "entered_on", year)
    return [PupilEnteredGroep8(school_year=str(year), entered_on=cmd.entered_on)]


def give_orientation_advice(ctx: Context, cmd: GiveOrientationAdvice) -> list[Event]:
    ctx.happened(cmd.given_on, "given_on")
    return [OrientationAdviceGiven(advice=cmd.advice, given_on=cmd.given_on)]


def give_provisional_advice(ctx: Context, cmd: GiveProvisionalAdvice) -> list[Event]:
    if ctx.state.groep != 8:
        raise DomainError(
            "provisional_advice_needs_groep_8",
            "een voorlopig schooladvies wordt in groep 8 gegeven",
        )
    ctx.happened(cmd.given_on, "given_on")
    window = ctx.calendar.provisional_advice_window
    events: list[Event] = [
        ProvisionalAdviceGiven(
            advice=cmd.advice,
            given_on=cmd.given_on,
            timeliness=timeliness_in(cmd.given_on, window.first, window.last),
            motivation=optional_text(cmd.motivation, "motivation"),
        )
    ]
    if ctx.state.exemption is not None:
        events.append(ctx.final_advice(cmd.advice, cmd.given_on, FinalAdviceBasis.EXEMPT))
    return events


def correct_provisional_advice(ctx: Context, cmd: CorrectProvisionalAdvice) -> list[Event]:
    ctx.happened(cmd.corrected_on, "corrected_on")
    reason = required_text(
        cmd.reason, "reason", "correction_needs_reason", "een correctie vraagt om een reden"
    )
    given = ctx.state.provisional_advice
    if given is not None and given.advice is cmd.advice:
        raise DomainError(
            "correction_changes_nothing",
            "het gecorrigeerde advies is gelijk aan het gegeven advies",
            field="advice",
        )
    window = ctx.calendar.provisional_advice_window
    return [
        ProvisionalAdviceCorrected(
            advice=cmd.advice,
            corrected_on=cmd.corrected_on,
            reason=reason,
            timeliness=timeliness_in(cmd.corrected_on, None, window.last),
        )
    ]


def record_okr_conversation(ctx: Context, cmd: RecordOkrConversation) -> list[Event]:
    ctx.happened(cmd.held_on, "held_on")
    return [
        OkrConversationHeld(
            held_on=cmd.held_on,
            parents_saw_okr=cmd.parents_saw_okr,
            parents_view=optional_text(cmd.parents_view, "parents_view"),
        )
    ]


def grant_exemption(ctx: Context, cmd: GrantExemption) -> list[Event]:
    ctx.happened(cmd.decided_on, "decided_on")
    if cmd.ground is ExemptionGround.NEWCOMER and not cmd.parents_consulted:
        raise DomainError(
            "parents_not_consulted",
            "bij vrijstelling wegens korte verblijfsduur in Nederland worden de ouders eerst "
            "geraadpleegd",
            field="parents_consulted",
        )
    events: list[Event] = [
        ExemptionGranted(
            ground=cmd.ground, decided_on=cmd.decided_on, parents_consulted=cmd.parents_consulted
        )
    ]
    given = ctx.state.provisional_advice
    if given is not None:
        events.append(ctx.final_advice(given.advice, cmd.decided_on, FinalAdviceBasis.EXEMPT))
    return events


def record_test_missed(ctx: Context, cmd: RecordTestMissed) -> list[Event]:
    ctx.happened(cmd.missed_on, "missed_on")
    reason = required_text(cmd.reason, "reason", "reason_missing", "geef de reden van verhindering")
    return [TestMissed(missed_on=cmd.missed_on, reason=reason)]


def plan_catch_up_test(ctx: Context, cmd: PlanCatchUpTest) -> list[Event]:
    ctx.within_year(cmd.planned_on, "planned_on")
    window = ctx.calendar.test_window
    late = window is not None and cmd.planned_on > window.last + CATCH_UP_WITHIN
    return [CatchUpTestPlanned(planned_on=cmd.planned_on, late=late)]


def record_no_test_result(ctx: Context, cmd: RecordNoTestResult) -> list[Event]:
    ctx.happened(cmd.recorded_on, "recorded_on")
    reason = required_text(
        cmd.reason, "reason", "reason_missing", "geef aan waarom er geen toetsuitslag komt"
    )
    given = ctx.state.provisional_advice
    if given is None:
        raise DomainError("provisional_advice_missing", "er is nog geen voorlopig advies")
    return [
        NoTestResultRecorded(recorded_on=cmd.recorded_on, reason=reason),
        ctx.final_advice(given.advice, cmd.recorded_on, FinalAdviceBasis.NO_TEST_RESULT),
    ]


def receive_test_result(ctx: Context, cmd: ReceiveTestResult) -> list[Event]:
    state = ctx.state
    previous = state.test_delivery
    if previous is not None and (
        previous.provider,
        previous.delivery_id,
        previous.test_advice,
        previous.reference_levels,
    ) == (cmd.provider, cmd.delivery_id, cmd.test_advice, cmd.reference_levels):
        return []  # the same delivery again: standlevering changes nothing
    ctx.happened(cmd.received_on, "received_on")
    if not cmd.provider.strip() or not cmd.delivery_id.strip():
        raise DomainError("delivery_incomplete", "toetsaanbieder en leverings-id zijn verplicht")
    result = TestResultReceived(
        provider=cmd.provider,
        delivery_id=cmd.delivery_id,
        test_advice=cmd.test_advice,
        reference_levels=cmd.reference_levels,
        received_on=cmd.received_on,
    )
    return [result, *after_test_result(ctx, result)]


def give_final_advice(ctx: Context, cmd: GiveFinalAdvice) -> list[Event]:
    state = ctx.state
    ctx.happened(cmd.given_on, "given_on")
    delivery = state.test_delivery
    if delivery is not None and cmd.given_on < delivery.received_on:
        raise DomainError(
            "final_advice_before_result",
            "het definitief advies kan niet vóór de toetsuitslag gegeven zijn",
            field="given_on",
        )
    if state.status is Status.RESULT_REVIEW_REQUIRED:
        if cmd.advice is None:
            raise DomainError(
                "final_advice_needs_level",
                "kies het definitief advies na beoordeling van de uitslag",
                field="advice",
            )
        return [ctx.final_advice(cmd.advice, cmd.given_on, FinalAdviceBasis.RESULT_REVIEWED)]
    decision = state.decision
    if decision is None:  # the guard has made sure it is not
        raise DomainError("reconsideration_not_decided", "de heroverweging is nog niet beslist")
    if cmd.advice is not None and cmd.advice is not decision.advice:
        raise DomainError(
            "final_advice_differs_from_decision",
            f"de heroverweging besloot tot {decision.advice.label}; leg een nieuw besluit vast "
            "om daarvan af te wijken",
            field="advice",
        )
    if cmd.given_on < decision.decided_on:
        raise DomainError(
            "final_advice_before_decision",
            "het definitief advies kan niet vóór het besluit gegeven zijn",
            field="given_on",
        )
    return [ctx.final_advice(decision.advice, cmd.given_on, FinalAdviceBasis.RECONSIDERED)]


def leave_school(ctx: Context, cmd: RecordLeaving) -> list[Event]:
    if cmd.left_on > school_day(ctx.now):
        raise DomainError(
            "date_in_future", "leg een vertrek vast als het gebeurd is", field="left_on"
        )
    return [
        PupilLeftSchool(
            left_on=cmd.left_on, destination=optional_text(cmd.destination, "destination")
        )
    ]


def send_national_registration(ctx: Context, cmd: RecordNationalRegistration) -> list[Event]:
    ctx.happened(cmd.sent_on, "sent_on")
    given = {
        AdviceKind.PROVISIONAL: ctx.state.provisional_advice,
        AdviceKind.FINAL: ctx.state.final_advice,
    }.get(cmd.kind)
    if given is None:
        raise DomainError(
            "nothing_to_register",
            f"er is geen {cmd.kind.label} om aan DUO te leveren",
            field="kind",
        )
    if cmd.sent_on < given.given_on:
        raise DomainError(
            "registration_before_advice",
            "een advies wordt aangeleverd nadat het gegeven is",
            field="sent_on",
        )
    timeliness = (
        Timeliness.LATE if cmd.sent_on > given.given_on + REGISTER_WITHIN else Timeliness.ON_TIME
    )
    return [
        NationalRegisterRegistrationSent(
            kind=cmd.kind, advice=given.advice, sent_on=cmd.sent_on, timeliness=timeliness
        )
    ]
