"""The SMTP settings as an operator writes them, against a real SMTP server (aiosmtpd) that
speaks TLS with a certificate of its own and asks for a login: STARTTLS on the submission port,
TLS from the first byte (SMTPS), and a wrong password, which is a permanent refusal."""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from service.outbox.mail import mailer_from
from service.outbox.smtp import SmtpMailer
from service.settings import Settings
from service.shared.delivery import GiveUpError

USER, PASSWORD = "adviestraject", "relay-geheim-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.pem", directory / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@dataclass
class Relay:
    """What the server received, and whether each message came over TLS after a login."""

    received: list[tuple[str, list[str], bool, bool]] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        content = envelope.content.decode()
        tls = session.ssl is not None
        self.received.append((content, list(envelope.rcpt_tos), tls, session.authenticated))
        return "250 OK"


def authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers (535 when refused)


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    cert_file, key_file = self_signed(tmp_path)
    # the service trusts what the system trusts: here, this certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    return cert_file, key_file


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


@pytest.fixture(params=["starttls", "ssl"])
def relay(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[Relay, Settings]]:
    security: str = request.param
    received = Relay()
    port = free_port()
    context = server_context(*certificate)
    # over STARTTLS: no login before TLS and no mail without one. aiosmtpd counts only
    # STARTTLS as TLS for these checks, so over SMTPS (TLS from the first byte) it offers the
    # login without insisting on it; the test checks that the mailer logged in.
    common: dict[str, Any] = {
        "authenticator": authenticate,
        "auth_required": security == "starttls",
        "auth_require_tls": security == "starttls",
    }
    if security == "starttls":
        controller = Controller(
            received,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            **common,
        )
    else:
        controller = Controller(
            received,
            hostname="127.0.0.1",
            port=port,
            ssl_context=context,
            server_hostname="127.0.0.1",
            **common,
        )
    controller.start()
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=security,
        smtp_user=USER,
        smtp_password=SecretStr(PASSWORD),
        smtp_timeout=5.0,
        mail_from="adviestraject@bestuur.nl",
    )
    try:
        yield received, settings
    finally:
        controller.stop()


def test_the_mail_goes_over_tls_after_a_login(relay: tuple[Relay, Settings]) -> None:
    received, settings = relay
    mailer = mailer_from(settings)
    assert isinstance(mailer, SmtpMailer)
    mailer.send("outbox-7", "ib@school.nl", "Heroverweging nodig", "Beste Ilse,\n")
    [(content, recipients, tls, authenticated)] = received.received
    assert recipients == ["ib@school.nl"]
    assert authenticated
    # STARTTLS shows in the session; SMTPS is TLS from the first byte (no handshake, no mail)
    assert tls or settings.smtp_security == "ssl"
    assert "Message-ID: <outbox-7@adviestraject>" in content
    assert "From: adviestraject@bestuur.nl" in content


def test_a_wrong_password_is_a_refusal_for_good_with_the_servers_answer(
    relay: tuple[Relay, Settings],
) -> None:
    received, settings = relay
    wrong = settings.model_copy(update={"smtp_password": SecretStr("niet-het-wachtwoord")})
    with pytest.raises(GiveUpError, match="535"):
        mailer_from(wrong).send("outbox-8", "ib@school.nl", "Onderwerp", "Tekst\n")
    assert received.received == []


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(
    relay: tuple[Relay, Settings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    received, settings = relay
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other")  # a different certificate is trusted now
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with pytest.raises(ssl.SSLCertVerificationError):
        mailer_from(settings).send("outbox-9", "ib@school.nl", "Onderwerp", "Tekst\n")
    assert received.received == []


def test_starttls_configured_never_falls_back_to_plain_text() -> None:
    received = Relay()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)  # offers no STARTTLS
    controller.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=5.0)
        assert settings.smtp_security == "starttls"  # the default
        with pytest.raises(smtplib.SMTPNotSupportedError):
            mailer_from(settings).send("outbox-10", "ib@school.nl", "Onderwerp", "Tekst\n")
    finally:
        controller.stop()
    assert received.received == []
