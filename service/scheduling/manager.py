"""The process manager of the heroverweging talk: `reconsideration_required` → a talk requested
for the pupil and planned at once; `reconsideration_lapsed` / `pupil_left_school` → its open
talks cancelled (`cancel_talks`).

It runs as part of the event's outbox message (`notify_reconsideration_required`, beside the
notice to the teachers; `both` runs the two and fails the message if either failed, so a retry
repeats both, and both are idempotent). The talk is requested with the school's settings for the
heroverweging talk (`Talks.request_all`: who attends, the family, the deadline and the latest end
before it) under ids that follow from the pupil, the kind and the school year, so a retried
message finds the talks it requested and requests nothing twice; then the planner places the
talks that are still open against the published availability and the school's bookings. A talk
the planner cannot place yet stays requested: the worker's round (`service.scheduling.loop`)
tries again when availability is published and warns directie when time runs out. A pupil whose
heroverweging is no longer open (a replacing result lapsed it) gets no talk.
"""

from __future__ import annotations

import logging
from datetime import date

from service.outbox.outbox import GiveUpError, Handler, Message
from service.scheduling import views
from service.scheduling.talks import Talks
from service.shared.context import Actor, CommandContext
from workflows.conversations import TalkKind
from workflows.errors import DomainError

log = logging.getLogger("adviestraject.scheduling")

PLANNER = Actor("talk-planner", "systeem")


def request_reconsideration_talk(talks: Talks) -> Handler:
    def handle(message: Message) -> None:
        pupil_id = message.stream_id.removeprefix("trajectory-")
        if not talks.in_reconsideration(pupil_id):
            log.info("pupil %s is no longer in heroverweging: no talk requested", pupil_id)
            return
        data = message.payload.get("data", {})
        deadline = date.fromisoformat(data["deadline"]) if data.get("deadline") else None
        context = CommandContext(PLANNER, causation_id=str(message.id))
        try:
            ids = talks.request_all(pupil_id, TalkKind.RECONSIDERATION, context, deadline=deadline)
        except DomainError as error:
            raise GiveUpError(f"pupil {pupil_id}: {error.code}: {error.message}") from error
        if ids:
            talks.plan_open(None, context, talk_ids=ids)

    return handle


LAPSED = "De heroverweging is vervallen: de nieuwe toetsuitslag is niet hoger dan het advies."
LEFT = "De leerling heeft de school verlaten."


def cancel_talks(talks: Talks) -> Handler:
    """The handler of `talks_cancelled_by_trajectory`: a heroverweging that lapsed cancels the
    pupil's open heroverweging talks, a pupil who left school all open talks (the parents get
    the cancellation). Idempotent: a cancelled talk is not open any more; a heroverweging opened
    again meanwhile keeps its talks."""

    def handle(message: Message) -> None:
        pupil_id = message.stream_id.removeprefix("trajectory-")
        left = message.payload.get("event_type") == "pupil_left_school"
        if not left and talks.in_reconsideration(pupil_id):
            return
        context = CommandContext(PLANNER, causation_id=str(message.id))
        for row in views.for_pupil(talks.engine, pupil_id):
            if row.status not in views.UNSETTLED:
                continue
            if not left and row.kind is not TalkKind.RECONSIDERATION:
                continue
            try:
                talks.cancel(row.talk_id, LEFT if left else LAPSED, context)
            except DomainError as error:  # changed meanwhile: it is no longer open
                log.info("talk %s not cancelled: %s", row.talk_id, error.code)

    return handle


def both(*handlers: Handler) -> Handler:
    """Every handler runs; the first failure is raised after all of them ran."""

    def handle(message: Message) -> None:
        failure: Exception | None = None
        for handler in handlers:
            try:
                handler(message)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    return handle
