"""recording clips: the MP4 clips cut from recordings, kept until LIVE_CLIP_RETENTION_DAYS removes them

Until now a clip lived only in the object store (``clips/…``), named by its audit row ``live.clip_download``, and
nothing ever removed it. Each clip now has a row the retention job reads; the clips made before this revision get
theirs from their audit rows (details.key, start, end), so they are purged like the new ones.

Revision 0028_recording_clips after 0027_receiving_expired_reason, written 2026-12-06 14:10:00.
"""
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op
from migrations.columns import bigint, foreign_key, integer, moment, primary_key, string, unique

revision = '0028_recording_clips'
down_revision = '0027_receiving_expired_reason'

# The signed URL of a clip ran ten minutes from its making (backend/live/clips.py URL_SECONDS then).
URL_SECONDS = 600


def _moment(value):
    """A datetime from the database or an ISO text of the audit details."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def upgrade():
    op.create_table('recording_clip', integer('id'), integer('camera_id'), integer('school_id'),
        integer('created_by', null=True), string('object_key', 300), moment('started_at'), moment('ended_at'),
        bigint('size_bytes', null=True), moment('created_at'), moment('url_expires_at'),
        foreign_key('recording_clip', 'camera_id', 'camera'), foreign_key('recording_clip', 'school_id', 'school'),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], ondelete='SET NULL',
                                name=op.f('fk_recording_clip_created_by_user_account')),
        primary_key('recording_clip'), unique('recording_clip', 'object_key'))
    with op.batch_alter_table('recording_clip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_clip_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_clip_school_id'), ['school_id'], unique=False)

    bind = op.get_bind()
    audit = sa.table('audit_log', sa.column('at', sa.DateTime(timezone=True)), sa.column('actor_id', sa.Integer),
                     sa.column('school_id', sa.Integer), sa.column('action', sa.String),
                     sa.column('target_id', sa.Integer), sa.column('details', sa.JSON))
    clips = sa.table('recording_clip', sa.column('camera_id', sa.Integer), sa.column('school_id', sa.Integer),
                     sa.column('created_by', sa.Integer), sa.column('object_key', sa.String),
                     sa.column('started_at', sa.DateTime(timezone=True)),
                     sa.column('ended_at', sa.DateTime(timezone=True)),
                     sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('url_expires_at', sa.DateTime(timezone=True)))
    rows, seen = [], set()
    for at, actor, school, camera, details in bind.execute(sa.select(
            audit.c.at, audit.c.actor_id, audit.c.school_id, audit.c.target_id, audit.c.details)
            .where(audit.c.action == 'live.clip_download')):
        key = (details or {}).get('key')
        if not key or key in seen or camera is None or school is None:
            continue
        seen.add(key)
        made = _moment(at)
        rows.append({'camera_id': camera, 'school_id': school, 'created_by': actor, 'object_key': key,
                     'started_at': _moment(details.get('start') or made), 'ended_at': _moment(details.get('end') or made),
                     'created_at': made, 'url_expires_at': made + timedelta(seconds=URL_SECONDS)})
    if rows:
        bind.execute(sa.insert(clips), rows)


def downgrade():
    op.drop_table('recording_clip')
