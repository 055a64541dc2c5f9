"""The rules of the heroverweging and of parents' requests: when one opens, conversations,
raise or keep.

Where the heroverweging rule lives: `after_test_result` here decides what a received toetsadvies
means for the advice — a heroverweging when it is higher than the advice that counts now (the
comparison itself is `workflows.scale.compare`, the half-step rule of DOMAIN.md), the voorlopig
advies made definitief when it is not, a person's review beside an advice off the scale; and for
a replacing delivery, a heroverweging that lapses or an automatic definitief advies withdrawn.
`rules_advice.receive_test_result` checks the delivery itself and calls it.

The advice is never lowered: a raise must go up and may not pass the toetsadvies; keeping the
advice, or raising it only partly, needs a reason code and a written motivation, because that
motivation is what the klachtencommissie will read.
"""

from __future__ import annotations

from datetime import datetime

from workflows.calendar import timeliness_in
from workflows.codec import Event
from workflows.commands import (
    CancelConversation,
    DecideObjection,
    KeepAdvice,
    MoveConversation,
    PlanConversation,
    RaiseAdvice,
    ReceiveObjection,
    RecordConversationDeclined,
    RecordConversationHeld,
)
from workflows.enums import ConversationParty, FinalAdviceBasis, Timeliness
from workflows.errors import DomainError
from workflows.events import (
    AdviceKept,
    AdviceRaised,
    AutomaticFinalAdviceWithdrawn,
    ConversationCancelled,
    ConversationDeclined,
    ConversationHeld,
    ConversationMoved,
    ConversationPlanned,
    FinalAdviceGiven,
    ObjectionDecided,
    ObjectionReceived,
    ProvisionalAdviceCorrected,
    ReconsiderationLapsed,
    ReconsiderationRequired,
    ResultReviewRequired,
    TestResultReceived,
)
from workflows.lifecycle import Status
from workflows.rules_common import Context, optional_text, required_text
from workflows.scale import Comparison, SchoolAdvice, TestAdvice, compare


def after_test_result(ctx: Context, result: TestResultReceived) -> list[Event]:
    """What a received (or replacing) result means for the advice: the events after it.

    Compared with the advice that counts now (the definitief advies once given, else the
    voorlopig): higher opens a heroverweging with the 24 March deadline, also after a definitief
    advies (the advice can only go up). If that definitief advies was given automatically (the
    result replaced was not higher, or no result was expected), it is withdrawn first: a person
    now decides it through the heroverweging. Not higher makes the voorlopig advies definitief,
    or ends a heroverweging a replaced result had opened. Beside an advice off the scale (vso,
    geen specifiek advies) a person reviews the result.
    """
    state = ctx.state
    current = state.current_advice
    if current is None:
        raise DomainError("provisional_advice_missing", "er is nog geen voorlopig advies")
    comparison = compare(result.test_advice, current)
    higher = ReconsiderationRequired(
        test_advice=result.test_advice,
        current_advice=current,
        deadline=ctx.calendar.final_advice_deadline,
    )
    not_higher = ctx.final_advice(current, result.received_on, FinalAdviceBasis.TEST_NOT_HIGHER)
    final = state.final_advice
    match state.status, comparison:
        case Status.FINAL_ADVICE_GIVEN, Comparison.HIGHER if (
            final is not None and final.basis is not None and final.basis.rests_on_test_outcome
        ):
            withdrawn = AutomaticFinalAdviceWithdrawn(
                advice=final.advice,
                basis=final.basis,
                given_on=final.given_on,
                withdrawn_on=result.received_on,
                test_advice=result.test_advice,
            )
            return [withdrawn, higher]
        case _, Comparison.HIGHER if state.status is not Status.RESULT_REVIEW_REQUIRED:
            return [higher]
        case Status.AWAITING_TEST_RESULT, Comparison.NOT_COMPARABLE:
            return [ResultReviewRequired(test_advice=result.test_advice, current_advice=current)]
        case Status.AWAITING_TEST_RESULT, _:
            return [not_higher]
        case Status.RECONSIDERATION_REQUIRED, _:
            return [ReconsiderationLapsed(test_advice=result.test_advice), not_higher]
    return []


def _by_reconsideration_deadline(ctx: Context, moment: datetime) -> Timeliness:
    deadline = ctx.state.reconsideration_deadline or ctx.calendar.final_advice_deadline
    return timeliness_in(moment.date(), None, deadline)


def _future_moment(ctx: Context, moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise DomainError("time_without_zone", "geef het tijdstip met tijdzone", field="planned_at")
    if moment <= ctx.now:
        raise DomainError(
            "conversation_in_past",
            "plan een gesprek in de toekomst; een gevoerd gesprek leg je vast als gevoerd",
            field="planned_at",
        )
    return moment


def plan_conversation(ctx: Context, cmd: PlanConversation) -> list[Event]:
    moment = _future_moment(ctx, cmd.planned_at)
    return [
        ConversationPlanned(
            planned_at=moment,
            with_pupil=cmd.with_pupil,
            timeliness=_by_reconsideration_deadline(ctx, moment),
        )
    ]


def move_conversation(ctx: Context, cmd: MoveConversation) -> list[Event]:
    moment = _future_moment(ctx, cmd.planned_at)
    if moment == ctx.state.conversation_planned_at:
        raise DomainError(
            "conversation_not_moved", "het gesprek staat al op dit tijdstip", field="planned_at"
        )
    reason = required_text(cmd.reason, "reason", "reason_missing", "geef de reden van verzetten")
    return [
        ConversationMoved(
            planned_at=moment, reason=reason, timeliness=_by_reconsideration_deadline(ctx, moment)
        )
    ]


def cancel_conversation(ctx: Context, cmd: CancelConversation) -> list[Event]:
    ctx.happened(cmd.cancelled_on, "cancelled_on")
    reason = required_text(cmd.reason, "reason", "reason_missing", "geef de reden van afzeggen")
    return [ConversationCancelled(cancelled_on=cmd.cancelled_on, reason=reason)]


def hold_conversation(ctx: Context, cmd: RecordConversationHeld) -> list[Event]:
    ctx.happened(cmd.held_on, "held_on")
    if ConversationParty.PARENTS not in cmd.attendees:
        raise DomainError(
            "conversation_without_parents",
            "het heroverwegingsgesprek is met de ouders; zien zij ervan af, leg dat dan vast",
            field="attendees",
        )
    attendees = tuple(dict.fromkeys(cmd.attendees))
    return [
        ConversationHeld(
            held_on=cmd.held_on, attendees=attendees, notes=optional_text(cmd.notes, "notes")
        )
    ]


def decline_conversation(ctx: Context, cmd: RecordConversationDeclined) -> list[Event]:
    ctx.happened(cmd.declined_on, "declined_on")
    return [
        ConversationDeclined(declined_on=cmd.declined_on, notes=optional_text(cmd.notes, "notes"))
    ]


def _steps(advice: SchoolAdvice, field: str) -> int:
    steps = advice.half_steps
    if steps is None:
        raise DomainError(
            "advice_off_scale",
            f"{advice.label} staat niet op de schaal van de heroverweging",
            field=field,
        )
    return steps


def raise_choices(current: SchoolAdvice, test: TestAdvice) -> tuple[SchoolAdvice, ...]:
    """The advices a heroverweging may raise `current` to, lowest first: on the scale, higher
    than `current` and not above the toetsadvies (`raise_advice` refuses every other one).
    Empty when `current` is off the scale (vso, geen advies: a person decides, not the scale)."""
    now = current.half_steps
    if now is None:
        return ()
    return tuple(
        sorted(
            (
                advice
                for advice in SchoolAdvice
                if (steps := advice.half_steps) is not None and now < steps <= test.half_steps
            ),
            key=lambda advice: (advice.half_steps or 0, advice.lwoo),
        )
    )


def raise_advice(ctx: Context, cmd: RaiseAdvice) -> list[Event]:
    state = ctx.state
    ctx.happened(cmd.decided_on, "decided_on")
    current, test = state.current_advice, state.test_advice
    if current is None or test is None:
        raise DomainError("reconsideration_not_open", "er is geen heroverweging open")
    new = _steps(cmd.advice, "advice")
    if new <= _steps(current, "advice"):
        raise DomainError(
            "raise_not_higher",
            f"{cmd.advice.label} is niet hoger dan {current.label}; handhaaf het advies met "
            "moverende redenen als het niet omhoog gaat",
            field="advice",
        )
    if new > test.half_steps:
        raise DomainError(
            "raise_above_test_advice",
            f"{cmd.advice.label} ligt boven het toetsadvies {test.label}; dat is niet voorzien",
            field="advice",
        )
    fully = new == test.half_steps
    motivation = optional_text(cmd.motivation, "motivation")
    if not fully and (cmd.reason is None or motivation is None):
        raise DomainError(
            "partial_raise_needs_motivation",
            "wie minder ver bijstelt dan het toetsadvies, legt reden en motivering vast",
            field="motivation" if cmd.reason is not None else "reason",
        )
    return [
        AdviceRaised(
            advice=cmd.advice,
            fully=fully,
            decided_on=cmd.decided_on,
            reason=None if fully else cmd.reason,
            motivation=motivation,
            timeliness=ctx.by_final_deadline(cmd.decided_on),
        )
    ]


def keep_advice(ctx: Context, cmd: KeepAdvice) -> list[Event]:
    ctx.happened(cmd.decided_on, "decided_on")
    motivation = required_text(
        cmd.motivation,
        "motivation",
        "keeping_needs_motivation",
        "handhaven kan alleen met een geschreven motivering: waarom bijstellen niet in het "
        "belang van de leerling is",
    )
    return [
        AdviceKept(
            decided_on=cmd.decided_on,
            reason=cmd.reason,
            motivation=motivation,
            timeliness=ctx.by_final_deadline(cmd.decided_on),
        )
    ]


def receive_objection(ctx: Context, cmd: ReceiveObjection) -> list[Event]:
    ctx.happened(cmd.received_on, "received_on")
    summary = required_text(
        cmd.summary, "summary", "summary_missing", "vat het verzoek van de ouders samen"
    )
    if not cmd.objection_id.strip():
        raise DomainError(
            "objection_id_missing", "het verzoek heeft een kenmerk nodig", field="objection_id"
        )
    current = ctx.state.current_advice
    if cmd.requested_advice is not None and current is not None:
        requested, now = cmd.requested_advice.half_steps, current.half_steps
        if requested is not None and now is not None and requested <= now:
            raise DomainError(
                "objection_cannot_lower",
                "een advies wordt nooit verlaagd; vraag alleen om een hoger advies",
                field="requested_advice",
            )
    week = ctx.calendar.registration_week
    timeliness = Timeliness.LATE if cmd.received_on >= week.first else Timeliness.ON_TIME
    return [
        ObjectionReceived(
            objection_id=cmd.objection_id,
            received_on=cmd.received_on,
            requested_advice=cmd.requested_advice,
            summary=summary,
            timeliness=timeliness,
        )
    ]


def decide_objection(ctx: Context, cmd: DecideObjection) -> list[Event]:
    state = ctx.state
    ctx.happened(cmd.decided_on, "decided_on")
    open_objection = state.open_objection
    if open_objection is None or open_objection.objection_id != cmd.objection_id:
        raise DomainError("objection_unknown", "dit verzoek ligt niet open", field="objection_id")
    motivation = required_text(
        cmd.motivation,
        "motivation",
        "objection_needs_motivation",
        "een beslissing op een verzoek van ouders wordt gemotiveerd",
    )
    decided = ObjectionDecided(
        objection_id=cmd.objection_id,
        decided_on=cmd.decided_on,
        granted=cmd.granted,
        new_advice=cmd.new_advice if cmd.granted else None,
        motivation=motivation,
    )
    if not cmd.granted:
        return [decided]
    if cmd.new_advice is None:
        raise DomainError(
            "granted_without_advice", "noem het advies dat wordt toegekend", field="new_advice"
        )
    current = state.current_advice
    if current is None or _steps(cmd.new_advice, "new_advice") <= _steps(current, "new_advice"):
        raise DomainError(
            "objection_cannot_lower", "toekennen betekent een hoger advies", field="new_advice"
        )
    if (
        state.test_advice is not None
        and cmd.new_advice.half_steps is not None
        and (cmd.new_advice.half_steps > state.test_advice.half_steps)
    ):
        raise DomainError(
            "raise_above_test_advice",
            "een advies boven het toetsadvies is niet voorzien",
            field="new_advice",
        )
    if state.status is Status.AWAITING_TEST_RESULT:
        return [
            decided,
            ProvisionalAdviceCorrected(
                advice=cmd.new_advice,
                corrected_on=cmd.decided_on,
                reason=motivation,
                timeliness=timeliness_in(
                    cmd.decided_on, None, ctx.calendar.provisional_advice_window.last
                ),
            ),
        ]
    if state.status is Status.FINAL_ADVICE_GIVEN:
        return [
            decided,
            FinalAdviceGiven(
                advice=cmd.new_advice,
                given_on=cmd.decided_on,
                basis=FinalAdviceBasis.OBJECTION_GRANTED,
                timeliness=ctx.by_final_deadline(cmd.decided_on),
            ),
        ]
    raise DomainError(
        "objection_granted_via_reconsideration",
        "tijdens de heroverweging stelt de school het advies bij via het besluit van de "
        "heroverweging",
    )
