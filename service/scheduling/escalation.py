"""Directie warned about a talk at risk, by e-mail, through the outbox (topic `talk_escalation`).

A `talk_escalated` event (the worker's loop, `service.scheduling.loop`: no slot before the latest
end, no proposal within a working day, no answer from the parents in time) routes to
`talk_escalation`. In two steps, like the notices (`service.notices.reconsideration`), so every
directie member gets one e-mail however often a step is tried again:
1. `fan_out_escalation` finds the school's active directie accounts and writes one
   `talk_escalation_mail` message per person, once per event (a second run finds them there);
   a school without directie fails the message with that reason, to retry once one exists.
2. `send_escalation` sends that person's e-mail, keyed on the message id.
The e-mail names no pupil: the class, what blocks the talk, the deadline, and links to the list
of talks at risk and the pupil page (after logging in).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from service.notices.reconsideration import recipients
from service.outbox.fanout import insert_once
from service.outbox.mail import Mailer
from service.outbox.outbox import GiveUpError, Handler, Message
from service.scheduling import views
from service.schools.register import Register
from workflows.policy import Recipients

ESCALATION_TOPIC = "talk_escalation"
MAIL_TOPIC = "talk_escalation_mail"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_DIRECTIE = Recipients(class_teachers=False, ib=False, directie=True)


def fan_out_escalation(
    engine: Engine, register: Register, clock: Callable[[], datetime]
) -> Handler:
    def handle(message: Message) -> None:
        talk_id = message.stream_id.removeprefix("conversation-")
        row = views.talk(engine, talk_id)
        if row is None:
            raise GiveUpError(f"talk {talk_id} is not in the talks read model")
        found = [r for r in recipients(engine, row.school_id, "", _DIRECTIE) if r.role]
        if not found:
            raise GiveUpError(
                f"school {row.school_id} has no active directie account to warn about talk "
                f"{talk_id} (add one, then 'adviestraject outbox --retry-failed')"
            )
        pupil = register.pupil(row.pupil_id)
        school = register.school(row.school_id)
        data = message.payload["data"]
        payloads = [
            {
                "to": who.email,
                "name": who.name,
                "talk_id": talk_id,
                "pupil_id": row.pupil_id,
                "class_name": pupil.class_name if pupil else "",
                "school_name": school.name if school else "",
                "kind": row.kind.label,
                "round": row.round_key,
                "code": data["code"],
                "message": data["message"],
                "deadline": row.deadline.isoformat(),
                "source": message.id,
            }
            for who in found
        ]
        insert_once(engine, message, MAIL_TOPIC, payloads, clock())

    return handle


def send_escalation(mailer: Mailer, public_url: str) -> Handler:
    def handle(message: Message) -> None:
        subject, body = escalation_mail(message.payload, public_url)
        mailer.send(f"outbox-{message.id}", message.payload["to"], subject, body)

    return handle


def escalation_mail(payload: dict[str, Any], public_url: str) -> tuple[str, str]:
    """Subject and body (Dutch) of the warning to one directie member."""
    base = public_url.rstrip("/")
    class_name = payload.get("class_name") or ""
    who = f"een leerling van groep {class_name}" if class_name else "een leerling"
    school = payload.get("school_name") or ""
    where = f" ({school})" if school else ""
    # the deadline is the end of its day (the next midnight): the last day is the one before
    last_day = (datetime.fromisoformat(payload["deadline"]) - timedelta(seconds=1)).astimezone(
        AMSTERDAM
    )
    subject = f"Gesprek in gevaar: {who}"
    body = (
        f"Beste {payload.get('name') or 'directie'},\n\n"
        f"Het {payload.get('kind') or 'gesprek'} met de ouders van {who}{where} komt niet "
        "vanzelf op tijd rond:\n\n"
        f"  {payload['message']}\n\n"
        f"Het gesprek moet uiterlijk {last_day:%d-%m-%Y} gevoerd zijn. Kijk wat er nodig is "
        "(bijvoorbeeld meer beschikbaarheid, of de ouders bellen).\n\n"
        f"Gesprekken in gevaar (na inloggen):\n{base}/gesprekken/risico\n"
        f"Beschikbaarheid van de leerkrachten:\n{base}/beschikbaarheid?ronde="
        f"{quote(payload.get('round') or 'reconsideration')}\n"
        f"De leerling:\n{base}/leerlingen/{payload['pupil_id']}\n\n"
        "U krijgt dit bericht als directie van de school. De naam van de leerling staat bewust "
        "niet in deze e-mail.\n\n"
        "Met vriendelijke groet,\nadviestraject\n"
    )
    return subject, body
