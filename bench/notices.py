"""Notices per second through the dispatcher to the WeChat fake, next to a raw HTTP loop to the same fake.

    .venv/bin/python bench/notices.py [--notices 2000] [--database postgresql|sqlite] [--workers 16] [--batch 500]

The fake runs in its own process. Both sides send the same subscribe messages (valid keyword data, one per
recipient): the raw loop posts them one after another over one keep-alive connection and does nothing else;
the dispatcher claims them from the database, checks quotas, records every attempt and settles every row.
Prints both rates and their ratio (targets: ≥ 500 notices/s, ratio ≥ 0.5). The PostgreSQL database
(BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/kitchen_bench_notices) is dropped and
recreated each run; SQLite uses a temporary file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 200
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kitchen_bench_notices"


def start_fake() -> tuple[subprocess.Popen, str]:
    """The WeChat fake in its own process; returns it and its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "tests.fakes.wechat_server", "--port", "0", "--appid", "wx_bench",
                                "--secret", "bench-secret"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        raise SystemExit(f"fake did not start: {line!r}")
    return process, line.split(" ", 1)[1]


def database_url(kind: str) -> str:
    """A fresh database of the chosen kind."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='bench-notices-')}/bench.db"
    import os

    from bench.api import recreate_database

    return recreate_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))


def seed(count: int, tag: str = "r0") -> list[int]:
    """``count`` recipients with one subscription each and one due notice each (the demo school first)."""
    from backend.cli import seed_demo
    from backend.extensions import db
    from backend.notices.models import Notice, SubscriptionQuota
    from backend.notices.outbox import NoticeDraft, enqueue
    from backend.notices.templates import DEV_TEMPLATE_IDS
    from backend.timeutil import utcnow

    seed_demo()
    now = utcnow()
    users = db.session.execute(
        sa.insert(sa.table("user_account", sa.column("id"), sa.column("openid"), sa.column("is_admin"),
                           sa.column("created_at"))).returning(sa.column("id")),
        [{"openid": f"bench-{tag}-{i:06d}", "is_admin": False, "created_at": now}
         for i in range(count)]).scalars().all()
    db.session.execute(sa.insert(SubscriptionQuota), [
        {"user_id": uid, "template_id": DEV_TEMPLATE_IDS["violation"], "remaining": 1, "accepted_total": 1,
         "used_total": 0, "updated_at": now} for uid in users])
    draft = NoticeDraft(subject_type="violation", subject_id=1, school_id=1, purpose="bench", template="violation",
                        title="发现问题：未佩戴口罩", body="基准测试",
                        payload={"school": "西湖实验小学", "problem": "未佩戴口罩",
                                 "location": "学生食堂·热菜烹饪区摄像头", "occurred_at": now.isoformat(),
                                 "due_at": now.isoformat()},
                        page="pages/violations/detail/index?id=1")
    enqueue(draft, users, f"bench-{tag}", now)
    db.session.commit()
    return list(db.session.scalars(sa.select(Notice.id).where(Notice.user_id.in_(users))))


def raw_loop(http: requests.Session, token: str, base: str, count: int, template_id: str, data: dict,
             tag: str) -> float:
    """Notices/s of a bare loop of subscribeMessage.send calls to the fake over one keep-alive connection."""
    started = time.perf_counter()
    for i in range(count):
        body = {"touser": f"raw-{tag}-{i:06d}", "template_id": template_id, "data": data, "lang": "zh_CN",
                "page": f"pages/violations/detail/index?id=1&nid={i}", "miniprogram_state": "developer"}
        reply = http.post(f"{base}cgi-bin/message/subscribe/send", params={"access_token": token},
                          data=json.dumps(body, ensure_ascii=False).encode(), timeout=5).json()
        if reply.get("errcode") != 0:
            raise SystemExit(f"raw send failed: {reply}")
    return count / (time.perf_counter() - started)


def dispatcher_rate(batch: int, workers: int) -> tuple[float, dict[str, int]]:
    """Notices/s through dispatch_due until every due notice is settled."""
    from backend.notices.dispatcher import dispatch_due
    from backend.timeutil import utcnow

    totals: dict[str, int] = {}
    started = time.perf_counter()
    while True:
        report = dispatch_due(utcnow(), batch, workers=workers)
        for key, value in report.as_dict().items():
            totals[key] = totals.get(key, 0) + value
        if report.claimed == 0:
            break
    elapsed = time.perf_counter() - started
    return totals["sent"] / elapsed, totals


def main() -> None:
    """Run both measurements interleaved in rounds and print the medians with their ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=2000, help="per side, split over the rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=None, help="senders (default: the dispatcher's own)")
    parser.add_argument("--batch", type=int, default=None, help="rows per dispatch run (default: the dispatcher's own)")
    args = parser.parse_args()
    from backend.notices.dispatcher import DEFAULT_BATCH, DEFAULT_WORKERS

    args.workers = args.workers or DEFAULT_WORKERS
    args.batch = args.batch or DEFAULT_BATCH
    per_round = args.notices // args.rounds

    fake, base = start_fake()
    try:
        from flask_migrate import upgrade

        from backend import create_app
        from backend.extensions import db
        from backend.notices.templates import DEV_TEMPLATE_IDS, TEMPLATES
        from tests.fakes.wechat_server import FakeWeChatControl
        from tests.notices.conftest import template_kinds

        control = FakeWeChatControl(base)
        control.set_options(require_known_openid=False, allow_unregistered_templates=False)
        control.set_templates(template_kinds(), replace=True)
        url = database_url(args.database)
        app = create_app({"APP_ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": tempfile.mkdtemp(),
                          "SECRET_KEY": "bench-" + "k" * 40, "WECHAT_APPID": "wx_bench",
                          "WECHAT_SECRET": "bench-secret", "WECHAT_API_BASE": base, "REDIS_URL": None,
                          "LOG_LEVEL": "WARNING"})
        data = TEMPLATES["violation"].build({"school": "西湖实验小学", "problem": "未佩戴口罩",
                                             "location": "学生食堂·热菜烹饪区摄像头",
                                             "occurred_at": "2025-03-20T04:00:00+00:00",
                                             "due_at": "2025-03-22T04:00:00+00:00"})
        http = requests.Session()
        http.trust_env = False  # the bare loop does nothing it need not do (no proxy or netrc lookups)
        token = http.get(f"{base}cgi-bin/token", params={"grant_type": "client_credential", "appid": "wx_bench",
                                                         "secret": "bench-secret"}, timeout=5).json()["access_token"]
        raw_rates, dispatcher_rates, sent = [], [], 0
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            # A dispatcher is a long-running process: warm both sides up (connections, prepared statements,
            # the fake's first allocations) before timing anything.
            seed(WARM_UP, "warm")
            raw_loop(http, token, base, WARM_UP, DEV_TEMPLATE_IDS["violation"], data, "warm")
            sent += dispatcher_rate(args.batch, args.workers)[1].get("sent", 0)
            for round_number in range(args.rounds):
                tag = f"r{round_number}"
                seed(per_round, tag)  # not timed
                raw_rates.append(raw_loop(http, token, base, per_round, DEV_TEMPLATE_IDS["violation"], data, tag))
                rate, totals = dispatcher_rate(args.batch, args.workers)
                dispatcher_rates.append(rate)
                sent += totals.get("sent", 0)
            db.engine.dispose()
        received = len(control.messages())
        if sent != per_round * args.rounds + WARM_UP or received != 2 * sent:
            raise SystemExit(f"not every notice was sent: {sent} sent, the fake received {received}")
        raw, rate = statistics.median(raw_rates), statistics.median(dispatcher_rates)
        print(f"database: {args.database}, {per_round} notices per side in each of {args.rounds} interleaved "
              f"rounds, dispatcher workers: {args.workers}, batch: {args.batch}")
        print(f"raw HTTP loop to the fake:    {raw:8.0f} notices/s  (rounds: {_rates(raw_rates)})")
        print(f"dispatcher to the same fake:  {rate:8.0f} notices/s  (rounds: {_rates(dispatcher_rates)}; "
              "claim, quota, attempt record, settle)")
        print(f"ratio dispatcher/raw (medians): {rate / raw:.2f}  (targets: ≥ 500/s, ratio ≥ 0.5)")
    finally:
        fake.terminate()
        fake.wait(10)


def _rates(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
