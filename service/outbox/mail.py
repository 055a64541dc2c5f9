"""E-mail as the outbox sends it: a `Mailer` port and a file-based mailer that is idempotent.

`FileMailer` writes one `.eml` file per message id (atomically, by rename), so delivering the same
outbox message twice leaves one e-mail. It is the development and test mailer and the drop folder
for an MTA. `SmtpMailer` (service/outbox/smtp.py) sends through a mail server; `mailer_from`
picks the one the settings ask for. `send` is a plain-text notice; `send_message` sends a whole
`EmailMessage` (an invitation with its calendar, built by `calendar_mail`, RFC 6047 iMIP): the
mailer sets From, Date and the Message-ID derived from the message id.
"""

from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from service.outbox.smtp import SmtpMailer
from service.settings import Settings


class Mailer(Protocol):
    def send(self, message_id: str, to: str, subject: str, body: str) -> None: ...

    def send_message(self, message_id: str, mail: EmailMessage) -> None: ...


def calendar_mail(
    to: str, subject: str, text: str, calendar: bytes, method: str, *, filename: str = "invite.ics"
) -> EmailMessage:
    """An iMIP e-mail (RFC 6047): multipart/alternative of the Dutch text and the
    `text/calendar; method=...` part that agendas act on, inside multipart/mixed with the same
    calendar as an .ics attachment (what Outlook and webmail show as "open in agenda")."""
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"an invitation is REQUEST or CANCEL, not {method!r}")
    mail = EmailMessage()
    mail["To"], mail["Subject"] = to, subject
    mail.set_content(text)
    mail.add_alternative(calendar.decode(), subtype="calendar", params={"method": method})
    mail.make_mixed()
    mail.add_attachment(calendar, maintype="application", subtype="ics", filename=filename)
    return mail


class FileMailer:
    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    def send(self, message_id: str, to: str, subject: str, body: str) -> None:
        mail = EmailMessage()
        mail["To"], mail["Subject"] = to, subject
        mail.set_content(body)
        self.send_message(message_id, mail)

    def send_message(self, message_id: str, mail: EmailMessage) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        del mail["From"], mail["Message-ID"]
        mail["From"] = self._sender
        mail["Message-ID"] = f"<{message_id}@adviestraject>"
        target = self._directory / f"{message_id}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(mail.as_bytes())
        os.replace(temporary, target)


def mailer_from(settings: Settings) -> Mailer:
    """SMTP when ADVIESTRAJECT_SMTP_HOST is set, else `.eml` files in ADVIESTRAJECT_MAIL_DIR."""
    if not settings.smtp_host:
        return FileMailer(settings.mail_dir, settings.mail_from)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port_or_default,
        settings.mail_from,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=password,
        timeout=settings.smtp_timeout,
    )
