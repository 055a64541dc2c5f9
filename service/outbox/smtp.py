"""E-mail through an SMTP server (ADVIESTRAJECT_SMTP_HOST and friends).

One connection per message: the outbox sends a handful of notices a day, not a mailing list, and
a fresh connection needs no care for servers that drop idle ones. The `Message-ID` is derived
from the outbox message, so a message sent again after a crash between the server's "250 OK"
and the outbox's bookkeeping is recognisable as the same e-mail.

What the server answers decides what the outbox does next: a temporary refusal (4xx), a lost
connection or a server that is not there is raised as it is, so the message is tried again with
backoff; a permanent refusal (5xx: an unknown recipient, a sender the server does not accept)
is a `GiveUpError` whose reason `adviestraject outbox` shows, for an operator to fix and retry.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from service.shared.delivery import GiveUpError


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        security: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"unknown SMTP security {security!r}: starttls, ssl or none")
        self._host = host
        self._port = port
        self._sender = sender
        self._security = security
        self._user = user
        self._password = password
        self._timeout = timeout
        self._tls = tls_context or ssl.create_default_context()

    def send(self, message_id: str, to: str, subject: str, body: str) -> None:
        mail = EmailMessage()
        mail["To"], mail["Subject"] = to, subject
        mail.set_content(body)
        self.send_message(message_id, mail)

    def send_message(self, message_id: str, mail: EmailMessage) -> None:
        """A whole message (e.g. multipart with a calendar) to its `To`; From, Date and
        Message-ID are set here."""
        to = str(mail["To"])
        del mail["From"], mail["Date"], mail["Message-ID"]
        mail["From"] = self._sender
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = f"<{message_id}@adviestraject>"
        try:
            with self._connect() as server:
                if self._user:
                    server.login(self._user, self._password or "")
                server.send_message(mail)
        except smtplib.SMTPRecipientsRefused as refused:
            code, answer = next(iter(refused.recipients.values()))
            if code >= 500:
                raise GiveUpError(f"mail server refused {to}: {code} {answer!r}") from refused
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500:
                raise GiveUpError(
                    f"mail server refused the message to {to}: {error.smtp_code} "
                    f"{error.smtp_error!r}"
                ) from error
            raise

    def _connect(self) -> smtplib.SMTP:
        if self._security == "ssl":
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._tls
            )
        server = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            if self._security == "starttls":
                server.starttls(context=self._tls)
        except BaseException:
            server.close()
            raise
        return server
