"""What happens per outbox topic (composition: the capability that handles each one). Every
handler is idempotent: its effect is keyed on the message id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from service.chain.messages import (
    ADVICE_PATH,
    REGISTER_PATH,
    ChainPupil,
    ChainSchool,
    advice_list,
    chain_pupil,
    chain_school,
    participants_list,
)
from service.chain.sending import send
from service.notices.reconsideration import MAIL_TOPIC, fan_out_reconsideration, send_notice
from service.outbox.mail import Mailer
from service.outbox.outbox import GiveUpError, Handler, Message
from service.scheduling import escalation, invitations
from service.scheduling.manager import both, cancel_talks, request_reconsideration_talk
from service.scheduling.talks import Talks
from service.schools.policies import PolicyLookup
from service.schools.register import Register
from service.store.port import EventStore

log = logging.getLogger("adviestraject.outbox")


def _chain_target(engine: Engine, message: Message) -> tuple[ChainSchool, str, ChainPupil] | None:
    """The school, school year and pupil a chain message is about; None when there is nothing
    to send (not in groep 8, the pupil's register data gone, or no chain link)."""
    found = chain_pupil(engine, message.stream_id.removeprefix("trajectory-"))
    if found is None:
        return None
    school_id, year, pupil = found
    school = chain_school(engine, school_id)
    if school is None or not school.provider_url:
        log.info("school %s has no chain link: nothing sent for %s", school_id, pupil.id)
        return None
    return school, year, pupil


def send_participant(
    engine: Engine, clock: Callable[[], datetime], token: str | None, timeout: float
) -> Handler:
    """A groep 8 pupil to the school's test provider (a Deelnemerslijst of one), as the register
    holds the pupil when sending. Without a birth date the provider cannot take the pupil: the
    message fails at once, saying so, until the school completes the register and retries."""

    def handle(message: Message) -> None:
        target = _chain_target(engine, message)
        if target is None:
            return
        school, year, pupil = target
        participants, left_out = participants_list(school, [pupil], year, clock())
        if participants is None:
            raise GiveUpError(
                f"{pupil.given_name} {pupil.family_name} ({pupil.id}): {left_out[0][1]}"
            )
        send(school, REGISTER_PATH, participants, token=token, timeout=timeout)

    return handle


def send_provisional_advice(
    engine: Engine, clock: Callable[[], datetime], token: str | None, timeout: float
) -> Handler:
    """The pupil's current voorlopig advies to the school's test provider (a Schooladviezenlijst
    of one). What is sent is read when sending, so a retry sends the latest advice, and a pupil
    erased meanwhile is not sent. A school without a chain link has nothing to send."""

    def handle(message: Message) -> None:
        target = _chain_target(engine, message)
        if target is None:
            return
        school, year, pupil = target
        advices = advice_list(school, [pupil], year, clock())
        if advices is not None:
            send(school, ADVICE_PATH, advices, token=token, timeout=timeout)

    return handle


def default_handlers(
    mailer: Mailer,
    register: Register,
    *,
    engine: Engine,
    clock: Callable[[], datetime],
    policies: PolicyLookup,
    public_url: str,
    chain_token: str | None = None,
    chain_timeout: float = 30.0,
    store: EventStore | None = None,
    talks: Talks | None = None,
    mail_from: str = "",
) -> dict[str, Handler]:
    handlers = {
        # a heroverweging: one e-mail per teacher of the class and IB of the school
        # (service/notices/reconsideration.py), each its own outbox message
        "notify_reconsideration_required": fan_out_reconsideration(
            engine, register, policies, clock
        ),
        MAIL_TOPIC: send_notice(mailer, public_url),
        "chain_participant": send_participant(engine, clock, chain_token, chain_timeout),
        "chain_provisional_advice": send_provisional_advice(
            engine, clock, chain_token, chain_timeout
        ),
    }
    if store is not None and talks is not None:
        # the parents' e-mails about a talk (service/scheduling/invitations.py): the talk's
        # event fans out one `talk_mail` message per invited parent, each sent on its own
        fan_out = invitations.send_invitations(engine, store, clock)
        handlers[invitations.INVITATION_TOPIC] = fan_out
        handlers[invitations.REMINDER_TOPIC] = fan_out
        handlers[invitations.MAIL_TOPIC] = invitations.send_talk_mail(
            invitations.MailSetup(
                mailer, engine, store, register, talks, clock, public_url, mail_from
            )
        )
    if talks is not None:
        # the heroverweging talk (service/scheduling/manager.py): requested and planned with the
        # notice, both idempotent; directie warned about a talk at risk, one e-mail per person
        handlers["notify_reconsideration_required"] = both(
            handlers["notify_reconsideration_required"], request_reconsideration_talk(talks)
        )
        handlers[escalation.ESCALATION_TOPIC] = escalation.fan_out_escalation(
            engine, register, clock
        )
        handlers[escalation.MAIL_TOPIC] = escalation.send_escalation(mailer, public_url)
        handlers["talks_cancelled_by_trajectory"] = cancel_talks(talks)
    return handlers
