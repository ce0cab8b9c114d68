"""live view: open a batch of view sessions with one count per camera and school when no cap is near

``live_open_sessions`` (0006_live) judges every play of a batch alone: two counting queries and one insert per
play. Almost every batch is far from the caps, so this revision puts a set-based path in front of it: after
the school locks, one statement checks that every camera and school of the batch stays within its cap even if
all of the batch's plays are admitted (the open sessions are counted once per camera and school, with the
batch's oldest idle cut-off, so the check can only over-count), and one INSERT then opens them all. Any batch
that could reach a cap, or that carries one token twice, goes through the unchanged per-play function, now
named ``live_open_sessions_in_order``; its answers are exactly the old ones.

Revision 0008_live_open_fast_path after 0007_notice_log_retention, written 2026-11-22.
"""
from alembic import op


revision = '0008_live_open_fast_path'
down_revision = '0007_notice_log_retention'

SIGNATURE = "(jsonb, integer, integer)"

FAST_PATH_FUNCTION = """
CREATE FUNCTION live_open_sessions(p_batch jsonb, p_camera_cap integer, p_school_cap integer)
RETURNS integer[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    answers integer[];
    school integer;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR school IN SELECT DISTINCT (e->>3)::integer AS s FROM jsonb_array_elements(p_batch) AS e ORDER BY s LOOP
        PERFORM pg_advisory_xact_lock(1279874629, school);
    END LOOP;
    -- A fresh snapshot, taken after the locks: no other batch can open a seat in these schools until we commit.
    IF EXISTS (
        WITH plays AS (SELECT e->>0 AS token_id, (e->>2)::integer AS camera_id, (e->>3)::integer AS school_id,
                              (e->>4)::boolean AS privileged, to_timestamp((e->>9)::double precision) AS cutoff
                       FROM jsonb_array_elements(p_batch) AS e),
             cameras AS (SELECT camera_id, count(*) AS plays, min(cutoff) AS cutoff FROM plays
                         GROUP BY camera_id HAVING NOT bool_and(privileged)),
             schools AS (SELECT school_id, count(*) AS plays, min(cutoff) AS cutoff FROM plays
                         GROUP BY school_id HAVING NOT bool_and(privileged))
        SELECT 1 FROM plays GROUP BY token_id HAVING count(*) > 1
        UNION ALL
        SELECT 1 FROM cameras c
        WHERE c.plays + (SELECT count(*) FROM (SELECT 1 FROM live_view_session v
                                                WHERE v.camera_id = c.camera_id AND v.closed_at IS NULL
                                                  AND v.last_seen_at >= c.cutoff
                                                LIMIT p_camera_cap) AS seats) > p_camera_cap
        UNION ALL
        SELECT 1 FROM schools s
        WHERE s.plays + (SELECT count(*) FROM (SELECT 1 FROM live_view_session v
                                                WHERE v.school_id = s.school_id AND v.closed_at IS NULL
                                                  AND v.last_seen_at >= s.cutoff
                                                LIMIT p_school_cap) AS seats) > p_school_cap
    ) THEN
        RETURN live_open_sessions_in_order(p_batch, p_camera_cap, p_school_cap);
    END IF;
    WITH plays AS (SELECT n, e->>0 AS token_id, (e->>1)::integer AS user_id, (e->>2)::integer AS camera_id,
                          (e->>3)::integer AS school_id, (e->>4)::boolean AS privileged, e->>5 AS protocol,
                          e->>6 AS client_addr, e->>7 AS media_client_id,
                          to_timestamp((e->>8)::double precision) AS now
                   FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS x(e, n)),
         opened AS (INSERT INTO live_view_session (token_id, user_id, camera_id, school_id, privileged, protocol,
                                                  client_addr, media_client_id, opened_at, last_seen_at,
                                                  policy_checked_at)
                    SELECT token_id, user_id, camera_id, school_id, privileged, protocol, client_addr,
                           media_client_id, now, now, now FROM plays ORDER BY n
                    ON CONFLICT (token_id) DO NOTHING
                    RETURNING token_id, id)
    -- A token that already opened a session is refused as reused (-1), as the per-play function answers it.
    SELECT array_agg(coalesce(o.id, -1) ORDER BY p.n) INTO answers FROM plays p LEFT JOIN opened o USING (token_id);
    RETURN answers;
END
$$;
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite opens sessions with one INSERT … SELECT per play (backend/live/sessions.py)
    op.execute(f"ALTER FUNCTION live_open_sessions{SIGNATURE} RENAME TO live_open_sessions_in_order")
    op.execute(FAST_PATH_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION live_open_sessions{SIGNATURE}")
    op.execute(f"ALTER FUNCTION live_open_sessions_in_order{SIGNATURE} RENAME TO live_open_sessions")
