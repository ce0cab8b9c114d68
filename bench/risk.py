"""The food-safety index (食安指数) at province scale: first run and incremental run on PostgreSQL.

    .venv/bin/python bench/risk.py [--database-url postgresql://postgres@127.0.0.1:5432/kitchen_risk_bench]
                                   [--schools 10000] [--violations-per-month 4] [--changed 100]

Recreates the database, migrates it, and seeds in bulk SQL (``INSERT … SELECT … FROM generate_series`` inside
PostgreSQL) a province of ``--schools`` schools (bench/console_seed.py's regions, schools, canteens and two
cameras each) with a year of inputs: ``--violations-per-month`` violations per school and month (half AI
alarms, most reviewed: confirmed, escalated or false positive; classes 1/2/3; most closed, some late), a
``risk_daily_fact`` row per school and day (records completeness and camera seconds, as the nightly job
writes them) up to the day before yesterday, and an inspection finding per school and quarter. Then, timed:

1. one night's facts: ``fill_daily_facts`` for yesterday over every canteen and camera (the real rules of
   ``records/completeness.py`` and ``monitoring/camera_uptime.py``);
2. the first run: ``refresh(now, backfill_months=12)``: the current month and the twelve before it, every
   school (target ≤ 60 s for facts and index together);
3. three sets of ``--changed`` schools get a change in a past month (a new violation, a closing, a late
   review), then the incremental run: the current month for every school plus only the changed (school,
   month) pairs;
4. a run with nothing changed since (the current month, and again the pairs changed within the 10-minute
   safety margin before the last run's start: ``CHANGE_MARGIN``).

Prints each time, the rows written, and checks that the incremental run's rows equal a full recomputation.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import bench_env, recreate_database  # noqa: E402
from bench.console_seed import PROVINCE_CODE, REGIONS, SCHOOLS, _run  # noqa: E402

# A year of violations: per school and month, spread over the month's days by a hash of the row.
VIOLATIONS = """
CREATE TEMP TABLE bench_school AS
  SELECT row_number() OVER (ORDER BY s.id) - 1 AS n, s.id AS school_id, c.id AS canteen_id
  FROM school s JOIN canteen c ON c.school_id = s.id;
INSERT INTO violation (school_id, canteen_id, kind, source, status, title, evidence, details, idempotency_key,
                       occurred_at, created_at, due_at, escalation_level, closed_at, resolution, risk_class)
  SELECT m.school_id, m.canteen_id, v.kind, v.source,
         CASE WHEN v.closed THEN 'closed' ELSE 'rectifying' END, '压测问题', '{}', '{}',
         'bench-' || m.school_id || '-' || v.g, v.at, v.at, v.at + v.hours * interval '1 hour', 0,
         CASE WHEN v.closed THEN v.at + (v.hours * v.speed) * interval '1 hour' END,
         CASE WHEN v.closed THEN CASE WHEN v.g % 23 = 0 THEN 'dismissed' ELSE 'rectified' END END, v.risk_class
  FROM bench_school m
  CROSS JOIN LATERAL (
    SELECT g, now() - ((g * 657000 + m.n * 104729) % 31536000) * interval '1 second' AS at,
           (ARRAY['no_mask', 'no_hat', 'smoking', 'rodent', 'sample_missing', 'reported'])[1 + (g % 6)::int] AS kind,
           (ARRAY['ai', 'ai', 'ai', 'record_rule', 'report', 'report'])[1 + ((g + m.n) % 6)::int] AS source,
           (ARRAY[3, 3, 2, 1, 1, 2])[1 + (g % 6)::int] AS risk_class,
           (ARRAY[48, 48, 12, 12, 24, 48])[1 + (g % 6)::int] AS hours,
           (g + m.n) % 10 <> 0 AS closed,
           ((g * 31 + m.n) % 13) / 10.0 AS speed
    FROM generate_series(1, :per_school) g
  ) v;
INSERT INTO user_account (openid, nickname, is_admin, created_at)
  VALUES ('bench-risk-reviewer', '压测审核员', false, now());
INSERT INTO alarm_review (violation_id, verdict, reviewer_id, reviewed_at)
  SELECT v.id, CASE WHEN v.id % 10 = 0 THEN 'false_positive' WHEN v.id % 10 = 1 THEN 'escalated'
                    ELSE 'confirmed' END, u.id, v.occurred_at + interval '2 hours'
  FROM violation v, user_account u
  WHERE u.openid = 'bench-risk-reviewer' AND v.source = 'ai' AND v.id % 7 <> 0
"""

# A fact per school and day up to the day before yesterday, written the night after the day (02:30).
FACTS = """
INSERT INTO risk_daily_fact (school_id, day, canteens, canteens_complete, online_seconds, known_seconds,
                             computed_at)
  SELECT s.id, d::date, 1, CASE WHEN (s.id * 31 + extract(doy FROM d)::int) % 17 = 0 THEN 0 ELSE 1 END,
         172800 - (s.id * 7 + extract(doy FROM d)::int) % 5 * 3600, 172800,
         (d + interval '1 day 2 hours 30 minutes') AT TIME ZONE 'Asia/Shanghai'
  FROM school s,
       generate_series((now() AT TIME ZONE 'Asia/Shanghai')::date - 366,
                       (now() AT TIME ZONE 'Asia/Shanghai')::date - 2, interval '1 day') d
"""

FINDINGS = """
INSERT INTO inspection_round (region_id, title, planned_at, status, created_by_id, created_at)
  SELECT r.id, '压测检查', now(), 'completed', u.id, now()
  FROM region r, user_account u WHERE r.code = :code AND u.openid = 'bench-risk-reviewer';
INSERT INTO inspection_finding (round_id, canteen_id, inspector_id, kind, severity, description, photos,
                                created_at)
  SELECT ir.id, c.id, u.id, 'hygiene', (ARRAY['minor', 'major', 'critical'])[1 + ((c.id + q) % 3)::int],
         '压测发现', '[]', now() - ((c.id * 7 + q * 91) % 365) * interval '1 day' - interval '1 day'
  FROM canteen c, generate_series(0, 3) q, inspection_round ir, user_account u
  WHERE ir.title = '压测检查' AND u.openid = 'bench-risk-reviewer'
"""

# The changes of the incremental run, each in past months of ``changed`` schools: a new class-1 violation, an
# open violation closed (its event), a pending AI alarm escalated by a reviewer.
CHANGES = """
INSERT INTO violation (school_id, canteen_id, kind, source, status, title, evidence, details, idempotency_key,
                       occurred_at, created_at, due_at, escalation_level, risk_class)
  SELECT m.school_id, m.canteen_id, 'rodent', 'report', 'rectifying', '压测新问题', '{}', '{}',
         'bench-new-' || m.school_id, now() - interval '95 days', now(),
         now() - interval '95 days' + interval '12 hours', 0, 1
  FROM bench_school m WHERE m.n < :changed;
WITH owed AS (
  SELECT DISTINCT ON (v.school_id) v.id FROM violation v JOIN bench_school m ON m.school_id = v.school_id
  WHERE m.n >= :changed AND m.n < 2 * :changed AND v.status <> 'closed' AND v.occurred_at < now() - interval '40 days'
  ORDER BY v.school_id, v.id)
UPDATE violation SET status = 'closed', closed_at = now(), resolution = 'rectified' WHERE id IN (SELECT id FROM owed);
INSERT INTO violation_event (violation_id, at, action, from_status, to_status, details)
  SELECT id, now(), 'close', 'rectifying', 'closed', '{}' FROM violation
  WHERE closed_at > now() - interval '1 minute' AND idempotency_key NOT LIKE 'bench-new-%';
INSERT INTO alarm_review (violation_id, verdict, reviewer_id, reviewed_at)
  SELECT DISTINCT ON (v.school_id) v.id, 'escalated', u.id, now()
  FROM violation v JOIN bench_school m ON m.school_id = v.school_id, user_account u
  WHERE m.n >= 2 * :changed AND m.n < 3 * :changed AND u.openid = 'bench-risk-reviewer' AND v.source = 'ai'
    AND v.occurred_at < now() - interval '40 days'
    AND NOT EXISTS (SELECT 1 FROM alarm_review r WHERE r.violation_id = v.id)
  ORDER BY v.school_id, v.id
"""


def _timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label}: {time.perf_counter() - started:.1f} s  {result if not isinstance(result, list) else len(result)}",
          flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/kitchen_risk_bench"))
    parser.add_argument("--schools", type=int, default=10_000)
    parser.add_argument("--violations-per-month", type=int, default=4)
    parser.add_argument("--changed", type=int, default=100, help="schools changed per kind of change")
    args = parser.parse_args()

    url = recreate_database(args.database_url)
    os.environ.update(bench_env(url, "risk"))
    from flask_migrate import upgrade

    from backend.app import create_worker_app
    from backend.extensions import db
    from backend.risk import index as risk_index
    from backend.risk.models import RiskIndex
    from backend.timeutil import utcnow

    app = create_worker_app()
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        with db.engine.begin() as conn:
            _run(conn, REGIONS, code=PROVINCE_CODE, cities=11, counties=9)
            _run(conn, SCHOOLS, schools=args.schools, source_url="rtsp://10.0.0.1/stream1")
            _run(conn, VIOLATIONS, per_school=12 * args.violations_per_month)
            _run(conn, FACTS)
            _run(conn, FINDINGS, code=PROVINCE_CODE)
            conn.execute(sa.text("ANALYZE"))
            counts = conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM school), (SELECT count(*) FROM violation), "
                "(SELECT count(*) FROM alarm_review), (SELECT count(*) FROM risk_daily_fact), "
                "(SELECT count(*) FROM inspection_finding)")).one()
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts[0]} schools, {counts[1]} violations, "
              f"{counts[2]} alarm reviews, {counts[3]} daily facts, {counts[4]} inspection findings", flush=True)

        now = utcnow()
        first = time.perf_counter()
        _timed("one night's facts (yesterday, every canteen and camera)", risk_index.fill_daily_facts, now, days=1)
        _timed("first run (13 months × every school)", risk_index.refresh, now, backfill_months=12)
        print(f"first run total: {time.perf_counter() - first:.1f} s", flush=True)

        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS bench_school AS SELECT row_number() OVER "
                                 "(ORDER BY s.id) - 1 AS n, s.id AS school_id, c.id AS canteen_id FROM school s "
                                 "JOIN canteen c ON c.school_id = s.id"))
            _run(conn, CHANGES, changed=args.changed)
        later = utcnow()
        _timed(f"incremental run ({args.changed} schools × 3 kinds of change in past months)",
               risk_index.refresh, later, backfill_months=12)
        _timed("run with nothing changed", risk_index.refresh, utcnow() + timedelta(seconds=1), backfill_months=12)

        # The incremental rows equal a full recomputation of the same months.
        stored = {(r.school_id, r.month): r.score for r in db.session.scalars(sa.select(RiskIndex))}
        months = sorted({m for _, m in stored})
        full = {}
        for month in months[:-1]:
            for (school_id, _), inputs in risk_index.month_inputs(
                    {month: risk_index.as_of(month, later)}, None).items():
                from backend.risk.index_formula import score

                full[(school_id, month)] = score(inputs)
        differing = sum(1 for key, value in full.items() if stored.get(key) != value)
        print(f"check: {len(full)} past school-months recomputed in full, {differing} differ from the stored rows")


if __name__ == "__main__":
    main()
