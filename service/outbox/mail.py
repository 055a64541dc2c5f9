"""E-mail as the outbox sends it: a `Mailer` port and a file-based mailer that is idempotent.

`FileMailer` writes one `.eml` file per message id (atomically, by rename), so delivering the same
outbox message twice leaves one e-mail. It is the development and test mailer and the drop folder
for an MTA. `SmtpMailer` (service/outbox/smtp.py) sends through a mail server; `mailer_from`
picks the one the settings ask for.
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


class FileMailer:
    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    def send(self, message_id: str, to: str, subject: str, body: str) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self._sender, to, subject
        mail["Message-ID"] = f"<{message_id}@adviestraject>"
        mail.set_content(body)
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
