"""PostgreSQL: `adviestraject_append`, one command's whole append in one statement.

Called in autocommit, the function's transaction is the statement itself: it takes the append
lock, checks the expected version, gives the events the next positions and chains their hashes
(from content hashes the client computed before), writes the pupil's read-model row and the
outbox rows, remembers the idempotency key, moves the head, and commits — one round trip. It
raises SQLSTATE AT001 (version conflict, current version in the message) or AT002 (idempotency
key already used) and then nothing is written. SQLite does the same steps in Python under
BEGIN IMMEDIATE.

Revision ID: 0004_append_function
Revises: 0003_store
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_append_function"
down_revision: str | None = "0003_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION adviestraject_append(
    p_stream text, p_expected integer, p_types text[], p_schema_versions integer[],
    p_data jsonb[], p_metadata jsonb, p_recorded_at timestamptz, p_contents text[],
    p_read_model jsonb, p_outbox_topics text[], p_idempotency_key text,
    p_fingerprint text
) RETURNS TABLE (event_position bigint, event_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    v_current integer;
    v_position bigint;
    v_hash text;
    v_positions bigint[] := '{}';
    i integer;
BEGIN
    PERFORM pg_advisory_xact_lock(27413532478108532);  -- service.store.sqlio.APPEND_LOCK_KEY
    IF p_idempotency_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM idempotency_keys WHERE key = p_idempotency_key) THEN
        RAISE EXCEPTION 'idempotency key already used' USING ERRCODE = 'AT002';
    END IF;
    SELECT COALESCE(MAX(stream_version), 0) INTO v_current FROM events
        WHERE stream_id = p_stream;
    IF v_current <> p_expected THEN
        RAISE EXCEPTION '%', v_current USING ERRCODE = 'AT001';
    END IF;
    SELECT position, hash INTO v_position, v_hash FROM log_head WHERE id = 1;
    FOR i IN 1 .. coalesce(array_length(p_types, 1), 0) LOOP
        v_position := v_position + 1;
        v_hash := encode(sha256(convert_to(v_hash || p_contents[i], 'UTF8')), 'hex');
        INSERT INTO events (position, stream_id, stream_version, event_type, schema_version,
                            data, metadata, recorded_at, hash)
        VALUES (v_position, p_stream, p_expected + i, p_types[i], p_schema_versions[i],
                p_data[i], p_metadata, p_recorded_at, v_hash);
        v_positions := v_positions || v_position;
        IF p_outbox_topics[i] IS NOT NULL THEN
            INSERT INTO outbox (position, stream_id, topic, payload, created_at, available_at,
                                attempts)
            VALUES (v_position, p_stream, p_outbox_topics[i],
                    jsonb_build_object('event_type', p_types[i], 'data', p_data[i]),
                    p_recorded_at, p_recorded_at, 0);
        END IF;
        event_position := v_position;
        event_hash := v_hash;
        RETURN NEXT;
    END LOOP;
    IF p_read_model IS NOT NULL AND v_position IS NOT NULL THEN
        INSERT INTO trajectories
        SELECT * FROM jsonb_populate_record(NULL::trajectories,
                                            p_read_model || jsonb_build_object(
                                                'position', v_position))
        ON CONFLICT (stream_id) DO UPDATE SET
            school_id = excluded.school_id, school_year = excluded.school_year,
            groep = excluded.groep, status = excluded.status,
            conversation = excluded.conversation,
            provisional_advice = excluded.provisional_advice,
            provisional_given_on = excluded.provisional_given_on,
            provisional_timeliness = excluded.provisional_timeliness,
            test_advice = excluded.test_advice, final_advice = excluded.final_advice,
            final_basis = excluded.final_basis, final_given_on = excluded.final_given_on,
            reconsideration_deadline = excluded.reconsideration_deadline,
            late = excluded.late, version = excluded.version, position = excluded.position;
    END IF;
    IF p_idempotency_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (key, stream_id, fingerprint, response, created_at)
        VALUES (p_idempotency_key, p_stream, p_fingerprint,
                jsonb_build_object('stream_version',
                                   p_expected + coalesce(array_length(p_types, 1), 0),
                                   'event_types', to_jsonb(coalesce(p_types, '{}')),
                                   'positions', to_jsonb(v_positions)),
                p_recorded_at);
    END IF;
    IF array_length(v_positions, 1) > 0 THEN
        UPDATE log_head SET position = v_position, hash = v_hash WHERE id = 1;
    END IF;
END;
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION adviestraject_append")
