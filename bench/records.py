"""Benchmark of ``GET /api/v1/schools/<id>/today`` next to ``/healthz`` on PostgreSQL behind gunicorn.

    .venv/bin/python bench/records.py [--database-url postgresql://postgres@127.0.0.1:5432/kitchen_records_bench]
                                      [--concurrency 8] [--seconds 12] [--workers 2] [--threads 4]

It resets the given database (never use a database that holds anything you want), migrates it, seeds the
demo schools and a month of records for school 1 at a canteen's daily volumes (see :func:`seed_month`),
starts gunicorn as a deployment would (APP_ENV=production), and
drives both endpoints with the same concurrency in interleaved slices, so both see the same machine load.
It prints requests/s, p50 and p99 of each and the ratio today/healthz (target ≥ 0.6; issue 18 asks ≥ 0.5 with
its records seeded), also as CPU per request of the server and its database; and before that the day view's
render without its cache (what follows a write, or a minute passing: the median ms, its SQL statements, and the
part the morning check and the parents' opinions take), checking that today shows the seeded morning check
and opinions.

Issue 18's records seeded (waste, additives, seals, parents' accompanied lunches; 988 records and 90 陪餐
sign-ups over 30 days), three rounds side by side with the seed before them (846 records), shared 2-core box at
load 7-9 (``.venv/bin/python bench/records.py --database-url postgresql://postgres@127.0.0.1:5432/<scratch>``):

    before issue 18's records: today/healthz 0.81, 0.97, 0.71; capacity (CPU) ratio 0.76, 0.83, 0.76;
                               today 0.393-0.396 ms CPU per request, healthz 0.300-0.328 ms
    with them:                 today/healthz 0.94, 0.71, 0.89; capacity (CPU) ratio 0.80, 0.77, 0.78;
                               today 0.383-0.402 ms CPU per request, healthz 0.298-0.323 ms

The render without its cache: 14 statements, 21-60 ms median under that load (17.7 ms at a quieter moment), of
which the morning check 2-7 ms (2 statements) and the parents' opinions 1.4-3.5 ms (1 statement). The ratio
does not move: requests read the rendered JSON while the school's snapshot (chain heads, the sum of its 陪餐
revisions) is unchanged.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

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


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a Shanghai day."""
    from backend.timeutil import SHANGHAI

    return datetime.combine(day, dtime(hour, minute), tzinfo=SHANGHAI)


def seed_ledgers(create: Callable[[str, dict], int], day: date, offset: int, staff: list[int],
                 dishes_of: dict[str, list[Any]], batches: list[int], photo: int, now: datetime) -> list[int]:
    """The day's food waste (after lunch and dinner; waste oil weekly) and additives (a batch of each bought every
    10 days, a breakfast and a lunch dish made with them); returns the additive batches in use."""
    for hour, kg in ((13, 42.5), (19, 28.0)):  # after lunch and dinner
        create("waste_disposal", {"disposed_at": min(at(day, hour, 30), now - timedelta(minutes=1)),
                                  "waste_kind": "food_waste", "quantity_kg": kg,
                                  "collector_company": "杭州城环餐厨垃圾收运有限公司", "collector_name": "陈师傅",
                                  "collector_licence": "HZCY-2026-0088", "staff_id": staff[offset % len(staff)],
                                  "photo_upload_ids": [photo]})
    if offset % 7 == 6:
        create("waste_disposal", {"disposed_at": min(at(day, 20), now - timedelta(minutes=1)),
                                  "waste_kind": "waste_oil", "quantity_kg": 12.0,
                                  "collector_company": "杭州油脂回收有限公司", "collector_name": "钱师傅",
                                  "collector_licence": "HZYZ-2026-0012", "staff_id": staff[0],
                                  "photo_upload_ids": [photo]})
    if offset % 10 == 0:
        batches = [create("additive_purchase", {
            "additive_name": name, "manufacturer": "浙江味美食品配料有限公司", "batch": f"{code}{day:%Y%m%d}",
            "quantity": 500, "unit": "g", "purchase_date": day, "expiry_date": day + timedelta(days=300),
            "supplier_name": "杭州配料供应站", "buyer_name": "周师傅", "keeper_name": "王主管",
            "cabinet": "库房食品添加剂专柜（上锁）"}) for name, code in (("复配膨松剂", "PS"), ("食用碱", "SJ"))]
    for (meal, grams), purchase in zip((("breakfast", 15), ("lunch", 5)), batches, strict=True):
        create("additive_use", {"use_date": day, "meal": meal, "dish_id": dishes_of[meal][0].id,
                                "purchase_id": purchase, "quantity": grams, "issuer_name": "王主管",
                                "user_name": "孙师傅"})
    return batches


def seed_seals(principal: Any, canteen: Any, day: date, offset: int, days: int, items: list[int],
               sample_of: dict[str, list[Any]], counter: Any, now: datetime) -> None:
    """Every 5 days the principal seals a sample (or a batch) after a complaint, and releases it the next day."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.records.models import RecordEntry, SampleLog
    from backend.records.sealing import release, seal
    from backend.records.versions import is_current, logical_id

    if offset % 5 != 2:
        return
    if offset % 10 == 2:
        dish = sample_of["lunch"][0]
        target = {"target": "sample", "target_id": db.session.scalar(
            select(logical_id()).join(SampleLog, SampleLog.entry_id == RecordEntry.id)
            .where(RecordEntry.canteen_id == canteen.id, is_current(), SampleLog.service_date == day,
                   SampleLog.meal == "lunch", SampleLog.dish_name == dish.name))}
    else:
        target = {"target": "item", "target_id": items[-1]}
    n = next(counter)
    sealed = seal(principal, canteen, {**target, "reason": "家长反映午餐异味，封存待检"},
                  idempotency_key=f"bench-{n:012d}", fingerprint=f"{n:064d}",
                  now=min(at(day, 14), now - timedelta(minutes=1)))
    if offset < days - 1:
        n = next(counter)
        release(principal, sealed.record_id, "检验合格，解除封存", idempotency_key=f"bench-{n:012d}",
                fingerprint=f"{n:064d}", now=min(at(day + timedelta(days=1), 10), now - timedelta(minutes=1)))


def bench_parents(school: Any) -> list[Any]:
    """The school's committee member and 8 more parents of the demo's third-grade class, as principals."""
    from sqlalchemy import select

    from backend.accounts.models import Role, User
    from backend.accounts.services import grant_membership
    from backend.extensions import db
    from backend.permissions import load_principal

    users = [db.session.scalar(select(User).where(User.openid == "demo-committee-1"))]
    for k in range(8):
        user = User(openid=f"bench-parent-{k}", nickname=f"压测家长{k}")
        db.session.add(user)
        db.session.flush()
        grant_membership(user, school, Role.PARENT, None)
        users.append(user)
    db.session.commit()
    return [load_principal(user) for user in users]


OPINIONS = [(5, 5, 4, "饭菜口味清淡适中，孩子们吃得很干净"), (4, 5, 3, "分量略少，建议男生可以添饭"),
            (4, 4, 4, "餐具消毒到位，建议增加一道时令蔬菜")]


def seed_parent_meals(principal: Any, parents: list[Any], school: Any, canteen: Any, day: date,
                      offset: int) -> None:
    """The day's parents' accompanied lunch: published the evening before, 3 sign-ups approved, rated, answered."""
    from backend.parent_meals import services
    from backend.records.meal_windows import window_for

    starts = window_for(canteen, day, "lunch").start
    evening = at(day - timedelta(days=1), 17)
    slot = services.publish_slot(principal, school, canteen_id=canteen.id, service_date=day, meal="lunch",
                                 capacity=4, note="请提前十分钟到校门口登记", now=evening)
    for j, (taste, hygiene, portion, comment) in enumerate(OPINIONS):
        parent = parents[(offset * len(OPINIONS) + j) % len(parents)]
        signup, _ = services.sign_up(parent, school, slot, note=None, now=evening + timedelta(minutes=10 + j))
        services.decide(principal, signup, approve=True, note=None, now=evening + timedelta(hours=2))
        services.rate(parent, school, signup, taste=taste, hygiene=hygiene, portion=portion, comment=comment,
                      now=starts + timedelta(minutes=50 + j))
        services.answer(principal, signup, text="感谢您的意见，食堂已收到并将改进", now=starts + timedelta(hours=3))


def seed_month(env: dict[str, str], days: int) -> str:
    """Migrate, seed the demo and ``days`` days of records for school 1; return a parent's bearer token.

    Every day has what a canteen records: the morning check (晨检) of its 12 staff (all with health certificates),
    4 deliveries of 3 batches each, menus of breakfast, lunch and dinner (4 + 6 + 5 dishes) tracing to them, a
    sample of every dish, tableware disinfection after each meal, the school leader's accompanied lunch; food waste
    handed over after lunch and dinner (waste oil weekly), additives weighed out for a breakfast and a lunch dish
    from batches bought every 10 days; every 5 days a seal (封存) of a sample or a batch, released the next day;
    and a parents' accompanied lunch (家长陪餐): a slot of 4 places, 3 parents or committee members signed up,
    approved, rated with a comment, each answered by the school. Today's opinions are seeded as the day view
    shows them after lunch, whatever the hour the bench runs, so the page always carries them.
    """
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import func, select, text

    from backend import create_app
    from backend.accounts.models import User
    from backend.accounts.services import issue_session
    from backend.cli import seed_demo
    from backend.extensions import db
    from backend.parent_meals.models import ParentMealSignup
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
        school = canteen.school
        principal = load_principal(db.session.scalar(select(User).where(User.openid == "demo-principal-1")))
        parents = bench_parents(school)
        staff: list[int] = []
        batches: list[int] = []
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
            dishes_of: dict[str, list[MenuDish]] = {}
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
                dishes_of[meal] = list(db.session.scalars(select(MenuDish).where(
                    MenuDish.entry_id == current_version(menu).id).order_by(MenuDish.position)))
                for dish in dishes_of[meal]:
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
            batches = seed_ledgers(create, day, offset, staff, dishes_of, batches, photo, now)
            seed_seals(principal, canteen, day, offset, days, items, dishes_of, counter, now)
            seed_parent_meals(principal, parents, school, canteen, day, offset)
        parent = db.session.scalar(select(User).where(User.openid == "demo-parent-1"))
        token = issue_session(parent, 24).token
        db.session.commit()
        total = next(counter)
        signups = db.session.scalar(select(func.count()).select_from(ParentMealSignup))
        db.session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load in a real deployment
        db.session.commit()
        db.engine.dispose()
    print(f"seeded {total} records and {signups} parents' accompanied-meal sign-ups over {days} days for school 1")
    return token


def measure_render(env: dict[str, str], school_id: int = 1, repeat: int = 30) -> None:
    """Time a render of the day view without its cache (what a parent waits for after a record changes), its
    statements, and the part of it the morning check and the parents' opinions take; check the seed shows."""
    os.environ.update(env)
    from sqlalchemy import event

    from backend import create_app
    from backend.extensions import db
    from backend.parent_meals.views import day_opinions
    from backend.records.day import build_overview, load_school_snapshot
    from backend.records.meal_windows import shanghai_today
    from backend.records.staff import morning_check_summaries
    from backend.timeutil import utcnow

    app = create_app()
    with app.app_context():
        snapshot = load_school_snapshot(school_id)
        assert snapshot is not None
        ids = [c.id for c in snapshot.canteens]
        now = utcnow()
        day = shanghai_today(now)
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        def timed(call: Callable[[], Any]) -> tuple[float, Any]:
            times, result = [], None
            for _ in range(repeat):
                started = time.perf_counter()
                result = call()
                times.append(time.perf_counter() - started)
                db.session.rollback()
            return sorted(times)[len(times) // 2] * 1000, result

        timed(lambda: build_overview(snapshot.school, snapshot.canteens, day, now))  # warm up
        event.listen(db.engine, "before_cursor_execute", count)
        total, view = timed(lambda: build_overview(snapshot.school, snapshot.canteens, day, now))
        event.remove(db.engine, "before_cursor_execute", count)
        morning, _ = timed(lambda: morning_check_summaries(ids, day))
        opinions, _ = timed(lambda: day_opinions(ids, day))
        canteen = view["canteens"][0]
        dishes = sum(len(m["menu"]["dishes"]) for m in canteen["meals"] if m["menu"])
        print(f"day view without its cache: {total:.1f} ms median of {repeat}, {statements[0] // repeat} statements; "
              f"morning check {morning:.2f} ms, parents' opinions {opinions:.2f} ms of it; "
              f"{dishes} dishes, morning check {canteen['morning_check']['checked']} checked, "
              f"{len(canteen['parent_meals'])} opinions, {len(view['receivings'])} deliveries")
        assert canteen["morning_check"]["checked"] and canteen["parent_meals"], "the seed does not show today"
        db.engine.dispose()


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
    measure_render(env)
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
