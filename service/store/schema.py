"""The tables as SQLAlchemy Core sees them. Alembic migrations alone create them in a database.

The events table is append-only (triggers reject UPDATE and DELETE on both databases); the
register tables hold personal data and are deliberately mutable and erasable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
Position = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column(
        "position",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("stream_id", String(64), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Json, nullable=False),
    Column("metadata", Json, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
)

schools = Table(
    "schools",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("brin", String(8), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("edu_route", String(20), unique=True),  # edu-to: the chain's routeringskenmerk
    Column("oin", String(20)),  # edu-from: the school's OIN
    # the school as the chain's Deelnemersgroep (instellingscode is the BRIN), and where its
    # test provider receives the Deelnemerslijst and Schooladviezenlijst
    Column("vestigingscode", String(2)),
    Column("onderwijsaanbiedercode", String(8)),
    Column("onderwijslocatiecode", String(8)),
    Column("administratienr", String(10)),
    Column("provider_url", String(500)),
)

pupils = Table(
    "pupils",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("school_id", String(36), ForeignKey("schools.id"), nullable=False, index=True),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),  # as written: "van het Hof"
    Column("class_name", String(20), nullable=False, server_default=""),
    # the voorvoegsel as the school administration gave it ("van het"; "" none; NULL not given)
    Column("surname_prefix", String(10)),
    # what the chain's Deelnemerslijst needs (Demografisch): voorletters, birth date, geslacht
    Column("initials", String(6)),
    Column("birth_date", Date),
    Column("sex", Integer),  # the standard's Geslachttype: 1, 2 or 9
)

parents = Table(
    "parents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("pupil_id", String(36), ForeignKey("pupils.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(40)),
    Index("ix_parents_pupil", "pupil_id"),
)

log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("position", Position, nullable=False),
    Column("hash", String(64), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("stream_id", String(64), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("response", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("position", Position, nullable=False),
    Column("stream_id", String(64), nullable=False),
    Column("topic", String(100), nullable=False),
    Column("payload", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("available_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_until", UTCDateTime),
    Column("done_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_outbox_pending", "done_at", "failed_at", "available_at"),
)

projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Position, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

trajectories = Table(
    "trajectories",
    metadata,
    Column("stream_id", String(64), primary_key=True),
    Column("school_id", String(36)),
    Column("school_year", String(9)),
    Column("groep", Integer),
    Column("status", String(40), nullable=False),
    Column("conversation", String(20), nullable=False),
    Column("provisional_advice", String(40)),
    Column("provisional_given_on", Date),
    Column("provisional_timeliness", String(10)),
    Column("test_advice", String(40)),
    Column("final_advice", String(40)),
    Column("final_basis", String(30)),
    Column("final_given_on", Date),
    Column("reconsideration_deadline", Date),
    Column("late", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Position, nullable=False),
    Index("ix_trajectories_school", "school_id", "school_year"),
    Index("ix_trajectories_status", "status"),
)

compliance_streams = Table(
    "compliance_streams",
    metadata,
    Column("stream_id", String(64), primary_key=True),
    Column("school_id", String(36), nullable=False),
    Column("school_year", String(9), nullable=False),
)

late_actions = Table(
    "late_actions",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("stream_id", String(64), nullable=False),
    Column("school_id", String(36), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_late_actions_school", "school_id", "school_year"),
)

pupil_keys = Table(
    "pupil_keys",
    metadata,
    Column("pupil_id", String(36), primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200)),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
)

user_schools = Table(
    "user_schools",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("school_id", String(36), ForeignKey("schools.id"), primary_key=True),
    Column("class_name", String(20), primary_key=True, server_default=""),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    # who made it: a user id, "cli" (the server's command line) or "client:<client id>"
    Column("issued_by", String(64)),
    Index("ix_api_tokens_user", "user_id"),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("role", String(20), nullable=False),
    Column("pupil_id", String(36), nullable=False),
    Column("what", String(100), nullable=False),
    Column("request_id", String(64)),
    Index("ix_access_log_pupil", "pupil_id"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's value
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the link's token
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),  # replaced by a newer link, or the account disabled
    Column("created_by", String(64), nullable=False),  # a user id, or "cli"
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("account", String(320), nullable=False),
    Column("address", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("endpoint", String(10), nullable=False, server_default="web"),  # web | oauth
    Index("ix_login_attempts_account", "account", "at"),
    Index("ix_login_attempts_address", "address", "at"),
)

throttle_counters = Table(
    "throttle_counters",
    metadata,
    Column("key", String(400), primary_key=True),  # endpoint:account:… or endpoint:address:…
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
)

client_credentials = Table(
    "client_credentials",
    metadata,
    Column("client_id", String(40), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),  # sha256 of the secret
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

result_deliveries = Table(
    "result_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("school_id", String(36), ForeignKey("schools.id"), nullable=False),
    Column("sender", String(36), nullable=False),  # the machine client's user id
    Column("provider", String(40), nullable=False),  # toetsdefinitie: ICE, ROUTE_8, ...
    Column("pupil_ref", String(256), nullable=False),  # the LAS-key (or ECK-iD) as sent
    Column("payload", Text, nullable=False),  # the Leerlingresultaat as received
    Column("payload_hash", String(64), nullable=False),
    Column("state", String(20), nullable=False),  # pending, processed, unknown_pupil, refused
    Column("outcome", Text),
    Column("pupil_id", String(36)),
    Column("processed_at", UTCDateTime),
    Index("ix_result_deliveries_state", "state", "id"),
    Index("ix_result_deliveries_school", "school_id", "id"),
)

talks = Table(  # the talks read model (service/projections/talks.py), one row per talk
    "talks",
    metadata,
    Column("talk_id", String(36), primary_key=True),
    Column("school_id", String(36), nullable=False),
    Column("school_year", String(9), nullable=False),
    Column("pupil_id", String(36), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("round_key", String(100), nullable=False),
    Column("status", String(30), nullable=False),
    Column("starts_at", UTCDateTime),
    Column("ends_at", UTCDateTime),
    Column("room", String(100)),
    Column("staff", Json, nullable=False),
    Column("requested_staff", Json, nullable=False),
    Column("family", String(64), nullable=False),
    Column("parents", Json, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("with_pupil", Boolean, nullable=False),
    Column("online", Boolean, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("latest_end", UTCDateTime, nullable=False),
    Column("requested_on", UTCDateTime, nullable=False),
    Column("proposed_on", UTCDateTime),
    Column("answered_on", UTCDateTime),
    Column("sequence", Integer, nullable=False),
    Column("reminded", Boolean, nullable=False),
    Column("at_risk_reason", Text),
    Column("escalations", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Position, nullable=False),
    Index("ix_talks_school_start", "school_id", "starts_at"),
    Index("ix_talks_school_status", "school_id", "status"),
    Index("ix_talks_pupil", "pupil_id"),
)

talk_staff = Table(  # who of the school attends a planned talk (a person's week)
    "talk_staff",
    metadata,
    Column("talk_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("school_id", String(36), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Index("ix_talk_staff_user_start", "user_id", "starts_at"),
)

parent_tokens = Table(  # the parents' links (service/scheduling/tokens.py): one talk, one parent
    "parent_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the link's token
    Column("talk_id", String(36), nullable=False),
    Column("parent_id", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("replaced_at", UTCDateTime),  # a newer e-mail about the talk carries a newer link
    Index("ix_parent_tokens_talk_parent", "talk_id", "parent_id"),
)

integrity_checks = Table(  # each full check of the hash chain (service/audit/integrity.py)
    "integrity_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("checked_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("full", Boolean, nullable=False),  # the anchor file was read (not --no-anchor)
    Column("events", Position, nullable=False),  # events whose hash was found right
    Column("verified_to", Position, nullable=False),  # the last position found intact
    Column("first_bad_position", Position),
    Column("stream_id", String(64)),
    Column("reason", Text),  # verify's reason (English, for the administrator)
    Column("anchors_checked", Integer, nullable=False),
    Column("source", String(20), nullable=False),  # "worker", "cli", …
    Index("ix_integrity_checks_checked_at", "checked_at"),
)

report_facts = Table(  # the reports' catch-up read model (service/projections/report_facts.py)
    "report_facts",
    metadata,
    Column("stream_id", String(64), primary_key=True),
    Column("exemption", String(40)),
    Column("hero", Boolean, nullable=False),
    Column("outcome", String(20)),
    Column("reason", String(40)),
    Column("decision_late", Boolean, nullable=False),
    Column("talk", String(10)),
    Column("registered_provisional", String(40)),
    Column("registered_final", String(40)),
    Column("position", Position, nullable=False),
)


admin_trail = Table(  # who changed an account, token, client, school (service/audit/admin_trail.py)
    "admin_trail",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", String(36)),  # None: the bootstrap of a fresh installation
    Column("actor", String(400), nullable=False),  # "Name <e-mail>", or the bootstrap's OS user
    Column("actor_role", String(20)),
    Column("via", String(10), nullable=False),  # web | cli | api
    Column("action", String(40), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("before", Json),
    Column("after", Json),
    Index("ix_admin_trail_subject", "subject_id"),
)

admin_trail_schools = Table(  # the schools a trail row concerns (directie sees its own)
    "admin_trail_schools",
    metadata,
    Column("entry_id", Integer, ForeignKey("admin_trail.id"), primary_key=True),
    Column("school_id", String(36), primary_key=True),
    Index("ix_admin_trail_schools_school", "school_id"),
)

pupil_erasures = Table(  # erased pupils: school, class, when, label (service/schools/erasures.py)
    "pupil_erasures",
    metadata,
    Column("pupil_id", String(36), primary_key=True),
    Column("school_id", String(36), nullable=False),
    Column("class_name", String(20)),
    Column("erased_at", UTCDateTime, nullable=False),
    Column("label", String(20), nullable=False),
)
