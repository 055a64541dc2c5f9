"""docker/compose.yaml: the app and the worker send e-mail over SMTP, by default to the Mailpit
mail catcher beside them, and every default of the mail settings is one the service accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.outbox.mail import mailer_from
from service.outbox.smtp import SmtpMailer
from service.settings import Settings

COMPOSE = Path(__file__).parents[1] / "docker" / "compose.yaml"
DEFAULT = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def with_defaults(value: str) -> str:
    """A compose value with every `${VAR:-default}` at its default (nothing set by the host)."""
    return DEFAULT.sub(lambda m: m.group(1), value)


@pytest.mark.parametrize("service", ["app", "worker"])
def test_the_service_mails_through_the_mail_catcher_by_default(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    mailpit = compose["services"]["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert "127.0.0.1:8025:8025" in mailpit["ports"], "its web inbox only on the host itself"
    environment = compose["services"][service]["environment"]
    mail = [n for n in environment if "SMTP" in n or "MAIL" in n or n.endswith("PUBLIC_URL")]
    assert len(mail) == 7
    for name in mail:
        monkeypatch.setenv(name, with_defaults(str(environment[name])))
    settings = Settings()
    assert (settings.smtp_host, settings.smtp_port_or_default, settings.smtp_security) == (
        "mailpit",
        1025,
        "none",
    )
    assert isinstance(mailer_from(settings), SmtpMailer)
    assert settings.public_url == "http://localhost"
