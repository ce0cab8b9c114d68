"""live view: camera streams and publish keys, view sessions, recording segments

Revision 0006_live after 0005_notices, written 2026-11-22.
"""
from alembic import op
from migrations.columns import (bigint, boolean, drop_tables, foreign_key, integer, moment, primary_key, real,
    string, text, unique)


# Opening view sessions is the hot path of every play: on PostgreSQL it is this one function, called in
# autocommit mode with every play that arrived while the previous call was in flight (backend/live/
# group_open.py), as one JSON array of [token_id, user_id, camera_id, school_id, privileged, protocol,
# client_addr, media_client_id, now, cutoff] (times in unix seconds: one text parameter is far cheaper to
# send than ten typed arrays). It locks the schools of the batch in ascending order (concurrent batches never
# deadlock); each statement after the locks takes a fresh snapshot, so the caps count every session committed
# before, and those opened earlier in the batch. synchronous_commit is off for this transaction only: a crash may
# forget the last moment of view sessions, never the audit rows written when the play URL was issued.
OPEN_SESSIONS_FUNCTION = """
CREATE OR REPLACE FUNCTION live_open_sessions(p_batch jsonb, p_camera_cap integer, p_school_cap integer)
RETURNS integer[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    answers integer[] := '{}';
    new_id integer;
    school integer;
    r record;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR school IN SELECT DISTINCT (e->>3)::integer AS s FROM jsonb_array_elements(p_batch) AS e ORDER BY s LOOP
        PERFORM pg_advisory_xact_lock(1279874629, school);
    END LOOP;
    FOR r IN SELECT e->>0 AS token_id, (e->>1)::integer AS user_id, (e->>2)::integer AS camera_id,
                    (e->>3)::integer AS school_id, (e->>4)::boolean AS privileged, e->>5 AS protocol,
                    e->>6 AS client_addr, e->>7 AS media_client_id, to_timestamp((e->>8)::double precision) AS now,
                    to_timestamp((e->>9)::double precision) AS cutoff
             FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(e, n) ORDER BY n LOOP
        -- Counting stops at the cap: the work per play is bounded however many sessions are open.
        IF NOT r.privileged AND (
            (SELECT count(*) FROM (SELECT 1 FROM live_view_session
                                   WHERE camera_id = r.camera_id AND closed_at IS NULL AND last_seen_at >= r.cutoff
                                   LIMIT p_camera_cap) AS seats) >= p_camera_cap
            OR (SELECT count(*) FROM (SELECT 1 FROM live_view_session
                                      WHERE school_id = r.school_id AND closed_at IS NULL AND last_seen_at >= r.cutoff
                                      LIMIT p_school_cap) AS seats) >= p_school_cap)
        THEN
            IF EXISTS (SELECT 1 FROM live_view_session WHERE token_id = r.token_id) THEN
                answers := answers || -1;
            ELSE
                answers := answers || -2;
            END IF;
            CONTINUE;
        END IF;
        new_id := NULL;
        INSERT INTO live_view_session (token_id, user_id, camera_id, school_id, privileged, protocol, client_addr,
                                       media_client_id, opened_at, last_seen_at, policy_checked_at)
        VALUES (r.token_id, r.user_id, r.camera_id, r.school_id, r.privileged, r.protocol, r.client_addr,
                r.media_client_id, r.now, r.now, r.now)
        ON CONFLICT (token_id) DO NOTHING
        RETURNING id INTO new_id;
        answers := answers || coalesce(new_id, -1);
    END LOOP;
    RETURN answers;
END
$$;
"""
DROP_OPEN_SESSIONS_FUNCTION = "DROP FUNCTION IF EXISTS live_open_sessions(jsonb, integer, integer)"


revision = '0006_live'
down_revision = '0005_notices'


def upgrade():
    op.create_table('camera_stream', integer('camera_id'), string('publish_key_hash', 64, null=True),
        moment('publish_key_set_at', null=True), boolean('publishing'), moment('live_since', null=True),
        moment('last_event_at', null=True), moment('last_publish_done_at', null=True),
        string('publisher_client_id', 64, null=True), string('publisher_addr', 64, null=True),
        string('publisher_kind', 8, null=True),
        foreign_key('camera_stream', 'camera_id', 'camera', ondelete='CASCADE'),
        primary_key('camera_stream', 'camera_id'))
    op.create_table('live_view_session', integer('id'), string('token_id', 32), integer('user_id'),
        integer('camera_id'), integer('school_id'), boolean('privileged'), string('protocol', 8),
        string('client_addr', 64, null=True), string('media_client_id', 64, null=True), moment('opened_at'),
        moment('last_seen_at'), moment('policy_checked_at'), moment('closed_at', null=True),
        string('close_reason', 16, null=True), primary_key('live_view_session'),
        unique('live_view_session', 'token_id'))
    with op.batch_alter_table('live_view_session', schema=None) as batch_op:
        batch_op.create_index('ix_live_view_session_camera_open', ['camera_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_live_view_session_school_open', ['school_id', 'closed_at'], unique=False)

    op.create_table('recording_segment', integer('id'), integer('camera_id'), integer('school_id'),
        string('source_path', 500), boolean('local_present'), string('status', 16), moment('started_at'),
        moment('ended_at'), real('duration_seconds', null=True), bigint('size_bytes', null=True),
        integer('width', null=True), integer('height', null=True), string('object_key', 300, null=True),
        integer('attempts'), text('last_error', null=True), moment('created_at'), moment('stored_at', null=True),
        foreign_key('recording_segment', 'camera_id', 'camera'),
        foreign_key('recording_segment', 'school_id', 'school'), primary_key('recording_segment'),
        unique('recording_segment', 'source_path'))
    with op.batch_alter_table('recording_segment', schema=None) as batch_op:
        batch_op.create_index('ix_recording_segment_camera_started', ['camera_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_segment_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_segment_school_id'), ['school_id'], unique=False)
        batch_op.create_index('ix_recording_segment_status', ['status', 'id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(OPEN_SESSIONS_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_OPEN_SESSIONS_FUNCTION)
    drop_tables('recording_segment', 'live_view_session', 'camera_stream')
