"""PostgreSQL: `adviestraject_append` takes a command's events as one jsonb array.

The same steps and guarantees as 0004 (lock, version check, positions, hash chain from the
client's content hashes, read-model row, outbox rows, idempotency key, head, all in the one
statement's transaction; SQLSTATE AT001/AT002), with two changes measured on the write path:
- the events arrive as one jsonb array of [event_type, schema_version, data, content_hash,
  outbox_topic] instead of five parallel arrays, so the client sends JSON text it already has
  rather than adapting arrays element by element (psycopg's array dumper was 16 % of a
  command's client time);
- the events and their outbox rows are inserted with one statement each, not one per event.

Revision ID: 0005_append_jsonb
Revises: 0004_append_function
Create Date: 2026-11-23
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005_append_jsonb"
down_revision: str | None = "0004_append_function"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION adviestraject_append(
    p_stream text, p_expected integer, p_events jsonb, p_metadata jsonb,
    p_recorded_at timestamptz, p_read_model jsonb, p_idempotency_key text, p_fingerprint text
) RETURNS TABLE (event_position bigint, event_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    v_current integer;
    v_start bigint;
    v_hash text;
    v_hashes text[] := '{}';
    v_count integer := jsonb_array_length(p_events);
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
    SELECT position, hash INTO v_start, v_hash FROM log_head WHERE id = 1;
    FOR i IN 0 .. v_count - 1 LOOP
        v_hash := encode(sha256(convert_to(v_hash || (p_events -> i ->> 3), 'UTF8')), 'hex');
        v_hashes := v_hashes || v_hash;
    END LOOP;
    IF v_count > 0 THEN
        INSERT INTO events (position, stream_id, stream_version, event_type, schema_version,
                            data, metadata, recorded_at, hash)
        SELECT v_start + e.n, p_stream, p_expected + e.n, e.value ->> 0,
               (e.value ->> 1)::integer, e.value -> 2, p_metadata, p_recorded_at,
               v_hashes[e.n]
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, n);
        INSERT INTO outbox (position, stream_id, topic, payload, created_at, available_at,
                            attempts)
        SELECT v_start + e.n, p_stream, e.value ->> 4,
               jsonb_build_object('event_type', e.value ->> 0, 'data', e.value -> 2),
               p_recorded_at, p_recorded_at, 0
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, n)
        WHERE e.value ->> 4 IS NOT NULL;
        IF p_read_model IS NOT NULL THEN
            INSERT INTO trajectories
            SELECT * FROM jsonb_populate_record(NULL::trajectories,
                                                p_read_model || jsonb_build_object(
                                                    'position', v_start + v_count))
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
        UPDATE log_head SET position = v_start + v_count, hash = v_hash WHERE id = 1;
    END IF;
    IF p_idempotency_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (key, stream_id, fingerprint, response, created_at)
        VALUES (p_idempotency_key, p_stream, p_fingerprint,
                jsonb_build_object(
                    'stream_version', p_expected + v_count,
                    'event_types', COALESCE(
                        (SELECT jsonb_agg(e.value -> 0 ORDER BY e.n)
                         FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, n)),
                        '[]'::jsonb),
                    'positions', COALESCE(
                        (SELECT jsonb_agg(v_start + g ORDER BY g)
                         FROM generate_series(1, v_count) AS g),
                        '[]'::jsonb)),
                p_recorded_at);
    END IF;
    RETURN QUERY SELECT v_start + g, v_hashes[g] FROM generate_series(1, v_count) AS g;
END;
$$
"""

OLD_SIGNATURE = (
    "adviestraject_append(text, integer, text[], integer[], jsonb[], jsonb, timestamptz, "
    "text[], jsonb, text[], text, text)"
)
NEW_SIGNATURE = "adviestraject_append(text, integer, jsonb, jsonb, timestamptz, jsonb, text, text)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {OLD_SIGNATURE}")
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {NEW_SIGNATURE}")
        op.execute(_previous_function())


def _previous_function() -> str:
    path = Path(__file__).with_name("0004_append_function.py")
    spec = importlib.util.spec_from_file_location("append_function_0004", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: str = module.FUNCTION
    return function
