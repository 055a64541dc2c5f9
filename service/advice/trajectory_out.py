"""A pupil's trajectory as the API shows it: every advice, the test, the heroverweging, the
conversation, open requests and what was late — one JSON document, separate from the events."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from workflows.events import AutomaticFinalAdviceWithdrawn
from workflows.scale import SchoolAdvice
from workflows.trajectory import Decision, RecordedAdvice, Trajectory


class Advice(BaseModel):
    code: str = Field(description="DUO value (Schooladviestype_enum)", examples=["HAVO_TM_VWO"])
    label: str = Field(description="The usual Dutch spelling", examples=["havo/vwo"])

    @classmethod
    def of(cls, advice: SchoolAdvice) -> Advice:
        return cls(code=advice.value, label=advice.label)


class RecordedAdviceOut(BaseModel):
    advice: Advice
    given_on: date
    timeliness: str = Field(description="on_time, early or late against the legal window")
    basis: str | None = Field(
        default=None, description="For the definitief advies: why it is what it is"
    )

    @classmethod
    def of(cls, recorded: RecordedAdvice | None) -> RecordedAdviceOut | None:
        if recorded is None:
            return None
        return cls(
            advice=Advice.of(recorded.advice),
            given_on=recorded.given_on,
            timeliness=recorded.timeliness.value,
            basis=recorded.basis.value if recorded.basis else None,
        )


class WithdrawnAdviceOut(BaseModel):
    advice: Advice
    basis: str = Field(
        description="Why it had been given automatically", examples=["test_not_higher"]
    )
    given_on: date
    withdrawn_on: date
    test_advice: str = Field(description="The toetsadvies of the corrected result that withdrew it")

    @classmethod
    def of(cls, withdrawn: AutomaticFinalAdviceWithdrawn | None) -> WithdrawnAdviceOut | None:
        if withdrawn is None:
            return None
        return cls(
            advice=Advice.of(withdrawn.advice),
            basis=withdrawn.basis.value,
            given_on=withdrawn.given_on,
            withdrawn_on=withdrawn.withdrawn_on,
            test_advice=withdrawn.test_advice.value,
        )


class TransferTestOut(BaseModel):
    test_advice: str | None = Field(description="The toetsadvies, once the result is in")
    provider: str | None
    received_on: date | None
    exemption: str | None = Field(description="The ground of an exemption, if exempt")
    missed: bool = Field(description="The pupil missed the regular sitting (verhinderd)")
    catch_up_planned_on: date | None
    no_result: bool = Field(description="No result is possible: the voorlopig advies stands")


class DecisionOut(BaseModel):
    outcome: str = Field(description="raised (fully or partly) or kept")
    advice: Advice
    decided_on: date
    fully: bool
    reason: str | None = Field(description="The reason code when not raised fully")

    @classmethod
    def of(cls, decision: Decision | None) -> DecisionOut | None:
        if decision is None:
            return None
        return cls(
            outcome="raised" if decision.raised else "kept",
            advice=Advice.of(decision.advice),
            decided_on=decision.decided_on,
            fully=decision.fully,
            reason=decision.reason.value if decision.reason else None,
        )


class ReconsiderationOut(BaseModel):
    deadline: date | None = Field(description="The day the heroverweging must be decided by")
    decision: DecisionOut | None
    conversation: str = Field(description="Where the conversation with parents and pupil stands")
    conversation_planned_at: datetime | None


class ObjectionOut(BaseModel):
    objection_id: str
    received_on: date
    requested_advice: Advice | None


class TrajectoryOut(BaseModel):
    pupil_id: UUID
    status: str
    status_label: str
    school_id: str | None
    school_year: str | None
    groep: int | None
    orientation_advice: RecordedAdviceOut | None
    provisional_advice: RecordedAdviceOut | None
    final_advice: RecordedAdviceOut | None
    withdrawn_final_advice: WithdrawnAdviceOut | None = Field(
        default=None,
        description="The last automatic definitief advies withdrawn because a corrected result "
        "came in higher (a heroverweging decides it instead)",
    )
    current_advice: Advice | None = Field(
        description="The advice that counts now: the definitief advies once given, else the "
        "voorlopig"
    )
    test: TransferTestOut
    reconsideration: ReconsiderationOut
    okr_conversation_on: date | None
    open_objection: ObjectionOut | None
    registered_with_duo: list[str] = Field(description="Advice kinds sent to DUO's register")
    left_on: date | None
    late: list[str] = Field(description="Actions recorded after their legal deadline")
    stream_version: int

    @classmethod
    def of(cls, pupil_id: UUID, state: Trajectory) -> TrajectoryOut:
        delivery = state.test_delivery
        objection = state.open_objection
        current = state.current_advice
        return cls(
            pupil_id=pupil_id,
            status=state.status.value,
            status_label=state.status.label,
            school_id=state.school_id,
            school_year=str(state.school_year) if state.school_year else None,
            groep=state.groep,
            orientation_advice=RecordedAdviceOut.of(state.orientation_advice),
            provisional_advice=RecordedAdviceOut.of(state.provisional_advice),
            final_advice=RecordedAdviceOut.of(state.final_advice),
            withdrawn_final_advice=WithdrawnAdviceOut.of(state.final_advice_withdrawal),
            current_advice=Advice.of(current) if current else None,
            test=TransferTestOut(
                test_advice=state.test_advice.value if state.test_advice else None,
                provider=delivery.provider if delivery else None,
                received_on=delivery.received_on if delivery else None,
                exemption=state.exemption.value if state.exemption else None,
                missed=state.test_missed,
                catch_up_planned_on=state.catch_up_planned_on,
                no_result=state.no_test_result,
            ),
            reconsideration=ReconsiderationOut(
                deadline=state.reconsideration_deadline,
                decision=DecisionOut.of(state.decision),
                conversation=state.conversation.value,
                conversation_planned_at=state.conversation_planned_at,
            ),
            okr_conversation_on=state.okr_conversation_on,
            open_objection=ObjectionOut(
                objection_id=objection.objection_id,
                received_on=objection.received_on,
                requested_advice=(
                    Advice.of(objection.requested_advice) if objection.requested_advice else None
                ),
            )
            if objection
            else None,
            registered_with_duo=sorted(kind.value for kind in state.registered),
            left_on=state.left_on,
            late=list(state.late),
            stream_version=state.version,
        )
