"""The food-safety index (食安指数) and the early warnings (预警) at province scale: first and incremental runs
on PostgreSQL.

    .venv/bin/python bench/risk.py [--database-url postgresql://postgres@127.0.0.1:5432/kitchen_risk_bench]
                                   [--schools 10000] [--violations-per-month 4] [--changed 100]

Recreates the database, migrates it, and seeds in bulk SQL (``INSERT … SELECT … FROM generate_series`` inside
PostgreSQL) a province of ``--schools`` schools (bench/console_seed.py's regions, schools, canteens and two
cameras each) with a year of inputs: ``--violations-per-month`` violations per school and month (half AI
alarms, most reviewed: confirmed, escalated or false positive; classes 1/2/3; most closed, some late), a
``risk_daily_fact`` row per school and day (records completeness and camera seconds, as the nightly job
writes them) up to the day before yesterday, and an inspection finding per school and quarter; and what the
warning rules read: per canteen two staff with health certificates (some ending within 30 days, ended or
missing), a supplier with two licences (some ending) and a delivery from it (three days ago; every seventh
canteen's 120 days ago: a supplier it left, whose licences warn no one), fourteen days of lunch records (menu
of two dishes, their samples, tableware disinfection, morning check; every tenth canteen misses samples,
another tenth disinfection, on most of the last seven days), camera health changes (every twelfth school's
cameras offline 1–8 hours a day for nine days), every twentieth canteen with one kind of problem three times
in 25 days, and a rectification for every closed problem due in the last 60 days. Then, timed:

1. one night's facts: ``fill_daily_facts`` for yesterday over every canteen and camera (the real rules of
   ``records/completeness.py`` and ``monitoring/camera_uptime.py``);
2. the first run: ``refresh(now, backfill_months=12)``: the current month and the twelve before it, every
   school; then the first warnings run (``early_warning.compute_warnings``: every rule over every school,
   every warning raised); target ≤ 60 s for facts, index and warnings together; then the warnings again five
   minutes later (nothing changed: the open warnings refreshed);
3. three sets of ``--changed`` schools get a change in a past month (a new violation, a closing, a late
   review), then the incremental run: the current month for every school plus only the changed (school,
   month) pairs;
4. a run with nothing changed since (the current month, and again the pairs changed within the 10-minute
   safety margin before the last run's start: ``CHANGE_MARGIN``);
5. the warnings after those changes.

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

# What the warning rules read, per canteen (``bench_canteen.n`` its row number): two staff with a health
# certificate each (some expiring or expired, some missing), a supplier with two licences (some expiring) and a
# delivery from it three days ago (every seventh canteen: 120 days ago, a supplier it no longer buys from), and
# fourteen days of lunch records (menu of two dishes, a sample of each, tableware disinfection, a morning check)
# with some canteens missing samples or disinfection on most of the last seven days. Shanghai's today is ``td``.
RECORDS = """
CREATE TEMP TABLE bench_canteen AS
  SELECT (row_number() OVER (ORDER BY c.id) - 1)::int AS n, c.id AS canteen_id, c.school_id,
         (SELECT min(a.id) FROM kitchen_area a WHERE a.canteen_id = c.id) AS area_id,
         (now() AT TIME ZONE 'Asia/Shanghai')::date AS td
  FROM canteen c;
CREATE TEMP TABLE bench_entry AS
  SELECT m.canteen_id, e.seq, e.kind, e.record_date
  FROM bench_canteen m CROSS JOIN LATERAL (
    SELECT k AS seq, 'staff' AS kind, m.td - 400 AS record_date FROM generate_series(1, 2) k
    UNION ALL SELECT 2 + k, 'health_certificate', m.td - 300 FROM generate_series(1, 2) k WHERE (m.n + k) % 11 <> 0
    UNION ALL SELECT 5, 'supplier', m.td - 400
    UNION ALL SELECT 5 + k, 'certificate', m.td - 300 FROM generate_series(1, 2) k
    UNION ALL SELECT 90, 'receiving', CASE WHEN m.n % 7 = 6 THEN m.td - 120 ELSE m.td - 3 END
    UNION ALL SELECT 10 + d * 5, 'menu', m.td - d FROM generate_series(1, 14) d
    UNION ALL SELECT 10 + d * 5 + k, 'sample', m.td - d FROM generate_series(1, 14) d, generate_series(1, 2) k
      WHERE NOT (m.n % 10 = 3 AND d <= 7 AND d % 3 <> 0) AND (m.n * 7 + d) % 29 <> 0
    UNION ALL SELECT 13 + d * 5, 'disinfection', m.td - d FROM generate_series(1, 14) d
      WHERE NOT (m.n % 10 = 5 AND d <= 7 AND d % 2 = 0)
    UNION ALL SELECT 14 + d * 5, 'morning_check', m.td - d FROM generate_series(1, 14) d WHERE (m.n + d) % 17 <> 0
  ) e;
INSERT INTO record_entry (canteen_id, seq, kind, record_date, created_at, prev_hash, hash)
  SELECT canteen_id, seq, kind, record_date, (record_date + interval '10 hours') AT TIME ZONE 'Asia/Shanghai',
         md5(canteen_id || '-' || seq) || md5('p'), md5(canteen_id || '-' || seq) || md5('h')
  FROM bench_entry ORDER BY canteen_id, seq;
INSERT INTO record_chain_head (canteen_id, seq, hash, updated_at)
  SELECT canteen_id, max(seq), md5('head'), now() FROM bench_entry GROUP BY canteen_id;
CREATE TEMP TABLE bench_rec AS
  SELECT e.id, e.canteen_id, e.seq, e.kind, e.record_date, m.n, m.td, m.area_id
  FROM record_entry e JOIN bench_canteen m ON m.canteen_id = e.canteen_id;
CREATE INDEX ON bench_rec (canteen_id, seq);
INSERT INTO record_staff (entry_id, name, post, active)
  SELECT id, '压测员工' || seq, CASE WHEN seq = 1 THEN '厨师' ELSE '帮厨' END, true FROM bench_rec WHERE kind = 'staff';
INSERT INTO record_health_certificate (entry_id, staff_id, number, issuer, valid_from, valid_until)
  SELECT h.id, s.id, 'HC' || h.id, '压测疾控中心', h.td - 300, h.td + (h.n * 37 + h.seq * 101) % 720 - 60
  FROM bench_rec h JOIN bench_rec s ON s.canteen_id = h.canteen_id AND s.seq = h.seq - 2
  WHERE h.kind = 'health_certificate';
INSERT INTO record_supplier (entry_id, name) SELECT id, '压测供应商' || n FROM bench_rec WHERE kind = 'supplier';
INSERT INTO record_certificate (entry_id, supplier_id, kind, number, valid_from, valid_until)
  SELECT c.id, s.id, CASE WHEN c.seq = 6 THEN 'business_licence' ELSE 'food_business_licence' END, 'SC' || c.id,
         c.td - 300, c.td + (c.n * 53 + c.seq * 17) % 1000 - 30
  FROM bench_rec c JOIN bench_rec s ON s.canteen_id = c.canteen_id AND s.seq = 5 WHERE c.kind = 'certificate';
INSERT INTO record_receiving (entry_id, supplier_id, received_at, receiver_name)
  SELECT r.id, s.id, (r.record_date + interval '8 hours') AT TIME ZONE 'Asia/Shanghai', '压测验收员'
  FROM bench_rec r JOIN bench_rec s ON s.canteen_id = r.canteen_id AND s.seq = 5 WHERE r.kind = 'receiving';
INSERT INTO record_menu (entry_id, service_date, meal)
  SELECT id, record_date, 'lunch' FROM bench_rec WHERE kind = 'menu';
INSERT INTO record_menu_dish (entry_id, position, name)
  SELECT id, k, (ARRAY['米饭', '番茄炒蛋'])[k] FROM bench_rec, generate_series(1, 2) k WHERE kind = 'menu';
INSERT INTO record_sample (entry_id, service_date, meal, menu_id, dish_name, weight_g, sampled_at, sealed,
                           fridge_temperature_c, sampler_name, keep_until)
  SELECT s.id, s.record_date, 'lunch', mn.id, (ARRAY['米饭', '番茄炒蛋'])[s.seq - mn.seq], 125,
         (s.record_date + interval '12 hours') AT TIME ZONE 'Asia/Shanghai', true, 3, '压测留样员',
         (s.record_date + interval '60 hours') AT TIME ZONE 'Asia/Shanghai'
  FROM bench_rec s JOIN bench_rec mn ON mn.canteen_id = s.canteen_id AND mn.seq = 10 + (s.seq - 10) / 5 * 5
  WHERE s.kind = 'sample';
INSERT INTO record_disinfection (entry_id, service_date, meal, target, area_id, target_name, method, minutes,
                                 performed_at, operator_name)
  SELECT id, record_date, 'lunch', 'tableware', area_id, '餐具', 'steam', 15,
         (record_date + interval '13 hours 30 minutes') AT TIME ZONE 'Asia/Shanghai', '压测消毒员'
  FROM bench_rec WHERE kind = 'disinfection';
INSERT INTO record_morning_check (entry_id, check_date, checked_at, checker_name)
  SELECT id, record_date, (record_date + interval '7 hours') AT TIME ZONE 'Asia/Shanghai', '压测晨检员'
  FROM bench_rec WHERE kind = 'morning_check'
"""

# Camera health: every camera known from 40 days ago; the cameras of every twelfth canteen drop offline 1–8 hours
# a day over the last nine days (a school below 95 % uptime over 7 days).
CAMERA_HEALTH = """
INSERT INTO camera_health_event (camera_id, at, from_status, to_status, problems, metrics)
  SELECT cam.id, now() - interval '40 days', 'unknown', 'ok', '[]', '{}'
  FROM camera cam;
INSERT INTO camera_health_event (camera_id, at, from_status, to_status, problems, metrics)
  SELECT cam.id, o.at, o.from_status, o.to_status, '[]', '{}'
  FROM bench_canteen m JOIN kitchen_area a ON a.canteen_id = m.canteen_id JOIN camera cam ON cam.area_id = a.id
  CROSS JOIN LATERAL (
    SELECT (m.td - d + interval '10 hours') AT TIME ZONE 'Asia/Shanghai' AS at, 'ok' AS from_status,
           'offline' AS to_status FROM generate_series(1, 9) d
    UNION ALL
    SELECT (m.td - d + interval '10 hours') AT TIME ZONE 'Asia/Shanghai' + (1 + (m.n + d) % 8) * interval '1 hour',
           'offline', 'ok' FROM generate_series(1, 9) d
  ) o
  WHERE m.n % 12 = 4
"""

# The violation rules' inputs beside the year of violations: every twentieth school had the same problem three
# times in the last 25 days; every closed problem due in the last 60 days had its rectification submitted when
# it was closed (late when closed late).
WARNING_VIOLATIONS = """
INSERT INTO violation (school_id, canteen_id, kind, source, status, title, evidence, details, idempotency_key,
                       occurred_at, created_at, due_at, escalation_level, closed_at, resolution, risk_class)
  SELECT m.school_id, m.canteen_id, 'no_hat', 'report', 'closed', '压测反复问题', '{}', '{}',
         'bench-repeat-' || m.school_id || '-' || k, now() - k * interval '8 days', now() - k * interval '8 days',
         now() - k * interval '8 days' + interval '48 hours', 0, now() - k * interval '8 days' + interval '24 hours',
         'rectified', 3
  FROM bench_canteen m, generate_series(0, 2) k WHERE m.n % 20 = 7;
INSERT INTO rectification (violation_id, measures, photos, submitted_by_id, submitted_at)
  SELECT v.id, '压测整改措施', '[]', u.id, v.closed_at - interval '1 hour'
  FROM violation v, user_account u
  WHERE u.openid = 'bench-risk-reviewer' AND v.closed_at IS NOT NULL AND v.due_at >= now() - interval '60 days'
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
    from backend.risk.early_warning import compute_warnings
    from backend.risk.models import RiskIndex, RiskWarning
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
            _run(conn, RECORDS)
            _run(conn, CAMERA_HEALTH)
            _run(conn, WARNING_VIOLATIONS)
            conn.execute(sa.text("ANALYZE"))
            counts = conn.execute(sa.text(
                "SELECT (SELECT count(*) FROM school), (SELECT count(*) FROM violation), "
                "(SELECT count(*) FROM alarm_review), (SELECT count(*) FROM risk_daily_fact), "
                "(SELECT count(*) FROM inspection_finding), (SELECT count(*) FROM record_entry), "
                "(SELECT count(*) FROM camera_health_event), (SELECT count(*) FROM rectification)")).one()
        print(f"seeded in {time.perf_counter() - started:.1f} s: {counts[0]} schools, {counts[1]} violations, "
              f"{counts[2]} alarm reviews, {counts[3]} daily facts, {counts[4]} inspection findings, "
              f"{counts[5]} record entries, {counts[6]} camera health changes, {counts[7]} rectifications",
              flush=True)

        now = utcnow()
        first = time.perf_counter()
        _timed("one night's facts (yesterday, every canteen and camera)", risk_index.fill_daily_facts, now, days=1)
        _timed("first run (13 months × every school)", risk_index.refresh, now, backfill_months=12)
        print(f"first index run total: {time.perf_counter() - first:.1f} s", flush=True)
        _timed("first warnings run (every rule, every school)", compute_warnings, now)
        print(f"first run total (facts + index + warnings; target ≤ 60 s): {time.perf_counter() - first:.1f} s",
              flush=True)
        _timed("warnings again, nothing changed", compute_warnings, now + timedelta(minutes=5))
        kinds = db.session.execute(sa.select(RiskWarning.kind, sa.func.count()).where(
            RiskWarning.resolved_at.is_(None)).group_by(RiskWarning.kind).order_by(RiskWarning.kind)).all()
        print("open warnings: " + ", ".join(f"{kind} {count}" for kind, count in kinds), flush=True)

        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS bench_school AS SELECT row_number() OVER "
                                 "(ORDER BY s.id) - 1 AS n, s.id AS school_id, c.id AS canteen_id FROM school s "
                                 "JOIN canteen c ON c.school_id = s.id"))
            _run(conn, CHANGES, changed=args.changed)
        later = utcnow()
        _timed(f"incremental run ({args.changed} schools × 3 kinds of change in past months)",
               risk_index.refresh, later, backfill_months=12)
        _timed("run with nothing changed", risk_index.refresh, utcnow() + timedelta(seconds=1), backfill_months=12)
        _timed(f"warnings after the changes ({args.changed} schools × 3 kinds)", compute_warnings, later)

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
