"""Settings from the environment (prefix ADVIESTRAJECT_), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "adviestraject.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADVIESTRAJECT_", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    host: str = "127.0.0.1"
    port: int = 8000
    environment: Literal["development", "production"] = "development"
    mail_dir: Path = Path("var") / "mail"
    """Where the file mailer drops outgoing e-mail (one .eml per message) for an MTA to pick up."""
    mail_from: str = "adviestraject@localhost"
    notify_email: str = "directie@localhost"
    """Who is told when a heroverweging is needed (until schools have their own contacts)."""

    chain_token: str | None = None
    """Bearer token for the test providers' chain APIs (the Schooladviezenlijst and the
    Deelnemerslijst we send); none when the provider authenticates otherwise."""
    chain_timeout: float = 30.0

    anchor_dir: Path = Path("var") / "anchors"
    """Where the log's head is anchored (append-only JSON lines, one file per database). Put it
    where the database's administrators cannot rewrite it: another machine's share, WORM storage."""
    anchor_interval: float = 3600.0
    """Seconds between the anchors the worker writes (only when the log grew meanwhile)."""
    anchor_mail_to: str | None = None
    """Also mail every anchor to this address (directie), so a copy lives off this server."""

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, value: str) -> str:
        """PostgreSQL always goes through psycopg 3, whatever scheme the operator wrote."""
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value
