"""A province in bulk SQL for bench/console.py: regions, schools, canteens, cameras, violations, records.

Everything is ``INSERT … SELECT … FROM generate_series`` inside PostgreSQL, so a million violations take
about a minute, not hours. ``seed`` is idempotent: a database that already holds the asked-for province is
left as it is (``seeded`` says so).

Shape: one province (code 990000) → ``cities`` cities → ``counties`` counties each; ``schools`` schools dealt
round-robin to the counties, one canteen, one kitchen area and two cameras each (5% offline, 2% never
sampled); ``violations`` spread uniformly over the last two years (older ones mostly closed); 30 days of
records for the first ``record_canteens`` canteens (entries of the chain: menu, sample, disinfection and
accompanied meal each day; hashes are placeholders, the bench reads no record). The AI alarms (half the
violations, source ``ai``) carry one of their canteen's two cameras and a confidence; the review queue's
verdicts (``alarm_review``) cover 90% of the alarms older than two weeks and 40% of the newer ones (every
alarm closed as dismissed is a false positive; of the rest 8% escalated, 12% false positive, the others
confirmed), so about a tenth of the alarms is pending review, most of them recent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

PROVINCE_CODE = "990000"


@dataclass(frozen=True)
class Shape:
    """How big the province is."""

    schools: int = 10_000
    violations: int = 1_000_000
    record_canteens: int = 1_000
    cities: int = 11
    counties: int = 9


def seeded(conn: Connection, shape: Shape) -> bool:
    """Whether the database already holds this province (same number of schools and violations)."""
    found = conn.execute(text("SELECT (SELECT count(*) FROM school), (SELECT count(*) FROM violation)")).one()
    return tuple(found) == (shape.schools, shape.violations)


REGIONS = """
INSERT INTO region (code, name, level, path) VALUES (:code, '压测省', 'province', '');
UPDATE region SET path = '/' || id || '/' WHERE code = :code;
INSERT INTO region (parent_id, code, name, level, path)
  SELECT p.id, '99' || lpad(c::text, 2, '0') || '00', '压测市' || c, 'city', ''
  FROM region p, generate_series(1, :cities) c WHERE p.code = :code;
INSERT INTO region (parent_id, code, name, level, path)
  SELECT city.id, substr(city.code, 1, 4) || lpad(k::text, 2, '0'), city.name || '第' || k || '区', 'county', ''
  FROM region city, generate_series(1, :counties) k WHERE city.level = 'city' AND city.code LIKE '99%';
UPDATE region r SET path = p.path || r.id || '/' FROM region p WHERE r.parent_id = p.id AND r.level = 'city';
UPDATE region r SET path = p.path || r.id || '/' FROM region p WHERE r.parent_id = p.id AND r.level = 'county';
"""

SCHOOLS = """
CREATE TEMP TABLE bench_county AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM region WHERE level = 'county' AND code LIKE '99%';
INSERT INTO school (region_id, name, kind, created_at)
  SELECT c.id, '压测学校' || lpad(s::text, 5, '0'), 'primary', now()
  FROM generate_series(0, :schools - 1) s
  JOIN bench_county c ON c.n = s % (SELECT count(*) FROM bench_county);
INSERT INTO canteen (school_id, name, meal_windows, live_windows, created_at)
  SELECT id, '学生食堂', '[]', '[]', now() FROM school ORDER BY id;
INSERT INTO kitchen_area (canteen_id, name, kind, public)
  SELECT id, '热菜烹饪区', 'hot_kitchen', true FROM canteen ORDER BY id;
INSERT INTO camera (area_id, name, source_kind, source_url, sampling_interval_seconds, work_hours, enabled_checks,
                    regions_of_interest, enabled, created_at)
  SELECT a.id, '摄像头' || k, 'rtsp', :source_url, 5, '[]', '[]', '[]', true, now()
  FROM kitchen_area a, generate_series(1, 2) k ORDER BY a.id, k;
INSERT INTO camera_monitor (camera_id, tuning, engine_state, rule_state, health_status, health_since,
                            last_done_slot, last_enqueued_slot, last_result, version, updated_at)
  SELECT id, '{}', '{}', '{}', CASE WHEN id % 20 = 0 THEN 'offline' ELSE 'ok' END, now(), -1, -1, '{}', 0, now()
  FROM camera WHERE id % 50 <> 7;
"""

# A school per row by a multiplicative hash of the row number (spreads rows over schools and time alike).
VIOLATIONS = """
CREATE TEMP TABLE bench_school AS
  SELECT row_number() OVER (ORDER BY s.id) - 1 AS n, s.id AS school_id, c.id AS canteen_id,
         (SELECT min(cam.id) FROM kitchen_area a JOIN camera cam ON cam.area_id = a.id
          WHERE a.canteen_id = c.id) AS camera_id
  FROM school s JOIN canteen c ON c.school_id = s.id;
INSERT INTO violation (school_id, canteen_id, camera_id, kind, source, status, title, evidence, confidence,
                       details, idempotency_key, occurred_at, created_at, due_at, escalation_level, closed_at,
                       resolution)
  SELECT m.school_id, m.canteen_id, CASE WHEN v.source = 'ai' THEN m.camera_id + v.g % 2 END, v.kind, v.source,
         CASE WHEN v.fate < v.closed_share THEN 'closed'
              ELSE (ARRAY['open', 'notified', 'rectifying', 'submitted', 'rejected'])[1 + (v.g % 5)::int] END,
         '压测问题' || v.g, '{}', CASE WHEN v.source = 'ai' THEN 0.5 + v.fate / 2 END, '{}', 'bench-' || v.g,
         v.created_at, v.created_at,
         v.created_at + interval '48 hours', CASE WHEN v.g % 7 = 0 THEN 1 ELSE 0 END,
         CASE WHEN v.fate < v.closed_share THEN least(v.created_at + v.fix, now()) END,
         CASE WHEN v.fate < v.closed_share * 0.92 THEN 'rectified' WHEN v.fate < v.closed_share THEN 'dismissed' END
  FROM (
    SELECT g, now() - (g::float / :violations) * interval '730 days' AS created_at,
           (ARRAY['no_mask', 'no_hat', 'no_uniform', 'smoking', 'phone', 'rodent', 'camera_offline',
                  'sample_missing', 'disinfection_missing', 'reported'])[1 + (g * 7 % 10)::int] AS kind,
           (ARRAY['ai', 'ai', 'ai', 'record_rule', 'inspection', 'report'])[1 + (g * 11 % 6)::int] AS source,
           ((g * 2654435761) % 1000) / 1000.0 AS fate,
           CASE WHEN g::float / :violations > 14.0 / 730 THEN 0.9 ELSE 0.4 END AS closed_share,
           ((g * 40503) % 9600) * interval '36 seconds' AS fix
    FROM generate_series(1::bigint, :violations) g
  ) v
  JOIN bench_school m ON m.n = (v.g * 48271) % :schools;
"""

RECORDS = """
INSERT INTO record_entry (canteen_id, seq, kind, record_date, created_at, prev_hash, hash)
  SELECT c.id, d * 4 + k + 1, (ARRAY['menu', 'sample', 'disinfection', 'accompanied_meal'])[k + 1],
         (now() AT TIME ZONE 'Asia/Shanghai')::date - d, now() - d * interval '1 day',
         md5(c.id || '-' || (d * 4 + k)) || md5('p'), md5(c.id || '-' || (d * 4 + k + 1)) || md5('h')
  FROM (SELECT id FROM canteen ORDER BY id LIMIT :canteens) c, generate_series(0, 29) d, generate_series(0, 3) k;
INSERT INTO record_chain_head (canteen_id, seq, hash, updated_at)
  SELECT canteen_id, max(seq), md5('head'), now() FROM record_entry GROUP BY canteen_id;
"""


# One reviewer for every verdict (the queue shows the reviewer's name: one lookup however many there are).
ALARM_REVIEWS = """
INSERT INTO user_account (openid, nickname, is_admin, created_at)
  VALUES ('bench-alarm-reviewer', '压测审核员', false, now());
INSERT INTO alarm_review (violation_id, verdict, reason, reviewer_id, reviewed_at)
  SELECT v.id,
         CASE WHEN v.resolution = 'dismissed' OR v.id * 7 % 100 < 12 THEN 'false_positive'
              WHEN v.id * 7 % 100 < 20 THEN 'escalated' ELSE 'confirmed' END,
         CASE WHEN v.resolution = 'dismissed' OR v.id * 7 % 100 < 12 THEN '压测误报' END,
         u.id, v.created_at + interval '2 hours'
  FROM violation v, user_account u
  WHERE u.openid = 'bench-alarm-reviewer' AND v.source = 'ai'
    AND (v.resolution = 'dismissed'
         OR v.id * 2654435761 % 100 < CASE WHEN v.created_at < now() - interval '14 days' THEN 90 ELSE 40 END)
"""


def _run(conn: Connection, script: str, **params: object) -> None:
    for statement in (s.strip() for s in script.split(";\n")):
        if statement:
            used = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(text(statement.rstrip(";")), used)


def seed(conn: Connection, shape: Shape, source_url: str) -> bool:
    """Fill an empty, migrated database with the province; False when it was already there."""
    if seeded(conn, shape):
        return False
    if conn.execute(text("SELECT count(*) FROM school")).scalar():
        raise SystemExit("the bench database holds other schools: use an empty one (or drop it)")
    _run(conn, REGIONS, code=PROVINCE_CODE, cities=shape.cities, counties=shape.counties)
    _run(conn, SCHOOLS, schools=shape.schools, source_url=source_url)
    _run(conn, VIOLATIONS, violations=shape.violations, schools=shape.schools)
    _run(conn, RECORDS, canteens=shape.record_canteens)
    _run(conn, ALARM_REVIEWS)
    conn.execute(text("ANALYZE"))
    return True
