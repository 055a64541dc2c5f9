"""Settings from the environment (prefix ADVIESTRAJECT_), read once by the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, field_validator
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
    public_url: str = "http://127.0.0.1:8000"
    """Where people open the service (https://adviestraject.bestuur.nl): the links in e-mail."""

    smtp_host: str | None = None
    """The mail server that sends e-mail; unset, e-mail goes to `.eml` files in `mail_dir`."""
    smtp_port: int | None = None
    """Default by `smtp_security`: 587 for starttls, 465 for ssl, 25 for none."""
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    """starttls: plain connection upgraded to TLS (required); ssl: TLS from the first byte
    (SMTPS); none: no TLS at all (a mail catcher or relay on the same host only)."""
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30.0
    """Seconds to wait for the mail server; a server that does not answer is tried again later."""

    embedded_worker: Literal["auto", "on", "off"] = "auto"
    """Whether `serve` runs the worker (results in, e-mail out) beside itself. auto: on for
    SQLite (the single-machine default of `make run`), off for PostgreSQL, where `worker` runs
    as its own process."""

    chain_token: str | None = None
    """Bearer token for the test providers' chain APIs (the Schooladviezenlijst and the
    Deelnemerslijst we send); none when the provider authenticates otherwise."""
    chain_timeout: float = 30.0

    max_body_bytes: int = 1024 * 1024
    """The largest request body the JSON API and the web forms accept (413 above it)."""
    max_chain_body_bytes: int = 2 * 1024 * 1024
    """The largest body the chain standard's endpoint accepts (one pupil's result: a few KB)."""
    body_timeout: float = 30.0
    """Seconds a request body may take to arrive whole (408 after it: no trickling clients)."""
    forwarded_allow_ips: str = "127.0.0.1"
    """The reverse proxy's addresses (comma-separated IPs or networks) whose X-Forwarded-For
    and X-Forwarded-Proto `serve` believes; the login throttle counts per client address."""

    database_connect_timeout: float = 5.0
    """Seconds to wait for a new PostgreSQL connection: a frozen server cannot hang requests."""
    database_statement_timeout: float = 30.0
    """Seconds one PostgreSQL statement may run before the server cancels it (0: no limit)."""

    key_file: Path = Path("var") / "keys" / "pupil-keys.kek"
    """The key-encryption keys that wrap every pupil's key (`id:base64` per line, the first wraps
    new keys). Keep it out of the database and its backups: a secret in production. In
    development a missing file is made; in production it must exist."""

    log_format: Literal["plain", "json"] = "plain"
    log_level: str = "INFO"
    worker_status_dir: Path = Path("var") / "worker"
    """Where each worker process writes its loops' status (last success, last error, backlog)
    for `/health` and `adviestraject worker status` to read."""

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

    @property
    def smtp_port_or_default(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {"starttls": 587, "ssl": 465, "none": 25}[self.smtp_security]

    @property
    def runs_embedded_worker(self) -> bool:
        """Whether `serve` runs the worker beside itself (see `embedded_worker`)."""
        if self.embedded_worker == "auto":
            return self.database_url.startswith("sqlite")
        return self.embedded_worker == "on"
