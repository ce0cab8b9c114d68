"""live view: camera streams and publish keys, view sessions, recording segments

Revision ID: 0006_live
Revises: 0005_notices
Create Date: 2026-11-22 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


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


# revision identifiers, used by Alembic.
revision = '0006_live'
down_revision = '0005_notices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('camera_stream',
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('publish_key_hash', sa.String(length=64), nullable=True),
    sa.Column('publish_key_set_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publishing', sa.Boolean(), nullable=False),
    sa.Column('live_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_publish_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('publisher_client_id', sa.String(length=64), nullable=True),
    sa.Column('publisher_addr', sa.String(length=64), nullable=True),
    sa.Column('publisher_kind', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], name=op.f('fk_camera_stream_camera_id_camera'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('camera_id', name=op.f('pk_camera_stream'))
    )
    op.create_table('live_view_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('privileged', sa.Boolean(), nullable=False),
    sa.Column('protocol', sa.String(length=8), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=True),
    sa.Column('media_client_id', sa.String(length=64), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('policy_checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_view_session')),
    sa.UniqueConstraint('token_id', name=op.f('uq_live_view_session_token_id'))
    )
    with op.batch_alter_table('live_view_session', schema=None) as batch_op:
        batch_op.create_index('ix_live_view_session_camera_open', ['camera_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_live_view_session_school_open', ['school_id', 'closed_at'], unique=False)

    op.create_table('recording_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('source_path', sa.String(length=500), nullable=False),
    sa.Column('local_present', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('object_key', sa.String(length=300), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], name=op.f('fk_recording_segment_camera_id_camera')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_recording_segment_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_segment')),
    sa.UniqueConstraint('source_path', name=op.f('uq_recording_segment_source_path'))
    )
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
    with op.batch_alter_table('recording_segment', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_segment_status')
        batch_op.drop_index(batch_op.f('ix_recording_segment_school_id'))
        batch_op.drop_index(batch_op.f('ix_recording_segment_ended_at'))
        batch_op.drop_index('ix_recording_segment_camera_started')

    op.drop_table('recording_segment')
    with op.batch_alter_table('live_view_session', schema=None) as batch_op:
        batch_op.drop_index('ix_live_view_session_school_open')
        batch_op.drop_index('ix_live_view_session_camera_open')

    op.drop_table('live_view_session')
    op.drop_table('camera_stream')
