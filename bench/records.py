"""Benchmark of ``GET /api/v1/schools/<id>/today`` next to ``/healthz`` on PostgreSQL behind gunicorn.

    .venv/bin/python bench/records.py [--database-url postgresql://postgres@127.0.0.1:5432/kitchen_records_bench]
                                      [--concurrency 8] [--seconds 12] [--workers 2] [--threads 4]

It resets the given database (never use a database that holds anything you want), migrates it, seeds the
demo schools and a month of records for school 1 (menus of three meals whose dishes trace to deliveries,
samples, disinfection, accompanied meals, and a staff register with health certificates and each day's morning
check), starts gunicorn as a deployment would (APP_ENV=production), and
drives both endpoints with the same concurrency in interleaved slices, so both see the same machine load.
It prints requests/s, p50 and p99 of each and the ratio today/healthz (target ≥ 0.6), also as CPU per request
of the server and its database.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import database_bench_arguments  # noqa: E402
from bench.loadgen import CpuMeter, interleaved, print_lines, print_ratio, start_gunicorn  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kitchen_records_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str, storage: str) -> dict[str, str]:
    """Environment of a production api: every required setting set to a non-development value."""
    from backend.config import SETTINGS

    env = {k: v for k, v in os.environ.items() if not k.startswith("KITCHEN_TEST")}
    for setting in SETTINGS:
        if setting.required_in_production or setting.secret:
            env[setting.name] = f"bench-{setting.name.lower()}-value-0123456789abcdefghijklmnop"
    env.update(APP_ENV="production", DATABASE_URL=database_url, STORAGE_BACKEND="local",
               STORAGE_LOCAL_PATH=storage, LOG_LEVEL="WARNING", REDIS_URL="", CELERY_BROKER_URL="",
               FIELD_ENCRYPTION_KEY="", WECHAT_PUSH_AES_KEY="")
    return env


def seed_month(env: dict[str, str], days: int) -> str:
    """Migrate, seed the demo and ``days`` days of records for school 1; return a parent's bearer token."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from backend import create_app
    from backend.accounts.models import User
    from backend.accounts.services import issue_session
    from backend.cli import seed_demo
    from backend.extensions import db
    from backend.permissions import load_principal
    from backend.records import idempotency
    from backend.records.demo import demo_image
    from backend.records.meal_windows import shanghai_today, window_for
    from backend.records.models import MenuDish
    from backend.records.services import create_record
    from backend.records.uploads import store_upload
    from backend.records.versions import current_version
    from backend.schools.models import Canteen
    from backend.timeutil import SHANGHAI, utcnow

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        seed_demo()
        manager = load_principal(db.session.scalar(select(User).where(User.openid == "demo-manager-1")))
        canteen = db.session.get(Canteen, 1)
        counter = iter(range(10**9))

        def create(kind: str, values: dict) -> int:
            n = next(counter)
            return create_record(manager, canteen, kind, values, idempotency_key=f"bench-{n:012d}",
                                 fingerprint=f"{n:064d}").record_id

        photo_bytes = demo_image("bench photo")
        photo = store_upload(manager, canteen, photo_bytes, "p.jpg", max_bytes=10 << 20,
                             idempotency_key="bench-photo-0001",
                             fingerprint=idempotency.fingerprint("p", photo_bytes)).upload.id
        now = utcnow()
        today = shanghai_today(now)
        start = today - timedelta(days=days - 1)
        suppliers = []
        for s in range(4):
            supplier = create("supplier", {"name": f"压测供应商{s}"})
            for kind in ("business_licence", "food_business_licence"):
                create("certificate", {"supplier_id": supplier, "kind": kind, "number": f"B{s}{kind[:3]}",
                                       "valid_until": today + timedelta(days=200), "scan_upload_ids": [photo]})
            suppliers.append(supplier)
        # The staff register with health certificates, and each day's morning check (晨检) of all of them.
        staff = []
        for p in range(12):
            person = create("staff", {"name": f"压测员工{p}", "post": "厨师"})
            create("health_certificate", {"staff_id": person, "number": f"JK{p:04d}", "issuer": "疾控中心",
                                          "valid_until": today + timedelta(days=200), "scan_upload_ids": [photo]})
            staff.append(person)
        for offset in range(days):
            day = start + timedelta(days=offset)
            create("morning_check", {
                "check_date": day, "checker_name": "王主管",
                "checked_at": min(datetime.combine(day, dtime(6, 30), tzinfo=SHANGHAI), now - timedelta(minutes=1)),
                "persons": [{"staff_id": p, "temperature_c": 36.5, "hands_ok": True, "symptoms": []} for p in staff]})
            received_at = datetime.combine(day - timedelta(days=1), dtime(16, 0), tzinfo=SHANGHAI)
            items: list[int] = []
            for s, supplier in enumerate(suppliers):
                record = create("receiving", {
                    "supplier_id": supplier, "received_at": received_at, "receiver_name": "周师傅",
                    "inspection_report_upload_ids": [photo], "invoice_upload_ids": [photo],
                    "items": [{"ingredient": f"原料{s}-{k}", "category": "meat", "batch": f"{day:%m%d}-{s}{k}",
                               "quantity": 10, "unit": "千克", "production_date": day - timedelta(days=1),
                               "shelf_life_days": 5, "storage": "chilled", "storage_temperature_c": 3}
                              for k in range(3)]})
                entry = current_version(record)
                from backend.records.models import ReceivingItem

                items += [i.logical_id for i in db.session.scalars(
                    select(ReceivingItem).where(ReceivingItem.entry_id == entry.id))]
            for meal, count in (("breakfast", 4), ("lunch", 6), ("dinner", 5)):
                menu = create("menu", {"service_date": day, "meal": meal, "dishes": [
                    {"name": f"{meal}菜{d}", "ingredient_item_ids": items[d % 9: d % 9 + 3]} for d in range(count)]})
                window = window_for(canteen, day, meal)
                sampled_at = min(window.start - timedelta(minutes=20), now - timedelta(minutes=1))
                for dish in db.session.scalars(select(MenuDish).where(
                        MenuDish.entry_id == current_version(menu).id)):
                    create("sample", {"dish_id": dish.id, "weight_g": 150, "sampled_at": sampled_at,
                                      "sealed": True, "fridge_temperature_c": 4, "sampler_name": "吴阿姨",
                                      "photo_upload_ids": [photo]})
                create("disinfection", {"service_date": day, "meal": meal, "target": "tableware",
                                        "method": "steam", "temperature_c": 100, "minutes": 15, "item_count": 400,
                                        "performed_at": min(window.end + timedelta(minutes=30),
                                                            now - timedelta(minutes=1)),
                                        "operator_name": "孙师傅", "photo_upload_ids": [photo]})
            create("accompanied_meal", {"service_date": day, "meal": "lunch", "companion_name": "张校长",
                                        "companion_role": "school_leader", "rating": 5, "photo_upload_ids": []})
        parent = db.session.scalar(select(User).where(User.openid == "demo-parent-1"))
        token = issue_session(parent, 24).token
        db.session.commit()
        total = next(counter)
        db.session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load in a real deployment
        db.session.commit()
        db.engine.dispose()
    print(f"seeded {total} records over {days} days for school 1")
    return token


def main() -> None:
    parser = database_bench_arguments(__doc__, DEFAULT_URL, seconds=12.0)
    parser.add_argument("--slices", type=int, default=6, help="interleaved slices per endpoint")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    if args.database_url.rstrip("/").endswith("/test"):
        sys.exit("refusing to use the database named 'test'")

    from bench.api import recreate_database

    database_url = recreate_database(args.database_url)
    storage = tempfile.mkdtemp(prefix="bench-records-")
    env = production_env(database_url, storage)
    started = time.perf_counter()
    token = seed_month(env, args.days)
    print(f"seeding took {time.perf_counter() - started:.0f}s")
    port = free_port()
    server, base = start_gunicorn(env, port, args.workers, args.threads)
    try:
        # Like the WeChat client and browsers, accept gzip (the body is then read, not decompressed).
        auth = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        common = {"concurrency": args.concurrency}
        runs = [("GET /healthz", {"url": f"{base}/healthz", **common}),
                ("GET today", {"url": f"{base}/api/v1/schools/1/today", "headers_list": [auth], **common})]
        interleaved([(label, {**kwargs, "seconds": 1.0}) for label, kwargs in runs], rounds=1)  # warm up
        meter = CpuMeter(server.pid, make_url(database_url).database)
        slice_seconds = args.seconds / args.slices
        results = interleaved([(label, {**kwargs, "seconds": slice_seconds}) for label, kwargs in runs],
                              rounds=args.slices, meter=meter)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"\nconcurrency {args.concurrency} keep-alive clients, gunicorn {args.workers} workers × "
          f"{args.threads} threads, PostgreSQL, {args.seconds:g}s per endpoint in {args.slices} interleaved slices")
    print_lines(results)
    print_ratio("GET today", "GET /healthz", results, target=0.6)

if __name__ == "__main__":
    main()
