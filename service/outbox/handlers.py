"""What the outbox does per topic. Every handler is idempotent: its effect is keyed on the id."""

from __future__ import annotations

from datetime import date

from service.outbox.mail import Mailer
from service.outbox.outbox import Handler, Message
from service.schools.register import Register
from workflows.scale import SchoolAdvice, TestAdvice


def notify_reconsideration_required(mailer: Mailer, register: Register, to: str) -> Handler:
    def handle(message: Message) -> None:
        data = message.payload["data"]
        pupil_id = message.stream_id.removeprefix("trajectory-")
        pupil = register.pupil(pupil_id)
        who = pupil.display_name if pupil else "een leerling (gegevens gewist)"
        deadline = date.fromisoformat(data["deadline"])
        current = SchoolAdvice(data["current_advice"]).label
        test = TestAdvice(data["test_advice"]).label
        mailer.send(
            f"outbox-{message.id}",
            to,
            f"Heroverweging nodig: {who}",
            f"Het toetsadvies van {who} ({test}) is hoger dan het schooladvies ({current}).\n\n"
            "De school moet het advies heroverwegen en bijstellen, tenzij dat niet in het belang "
            "van de leerling is; leg dan de moverende redenen vast. Voer het gesprek met de "
            f"ouders en de leerling. Het definitief advies is uiterlijk {deadline:%d-%m-%Y} nodig."
            "\n",
        )

    return handle


def default_handlers(mailer: Mailer, register: Register, notify_to: str) -> dict[str, Handler]:
    return {
        "notify_reconsideration_required": notify_reconsideration_required(
            mailer, register, notify_to
        ),
    }
