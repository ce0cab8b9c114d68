"""Starts real dispatcher processes quickly, for the kill test.

Importing Flask, SQLAlchemy and the app takes a second or two on a busy machine; fifty restarts would spend
most of the test doing that. This process imports and builds the app once, then forks a fresh dispatcher
process (the production loop, :func:`backend.notices.cli.run_dispatch_loop`) for every ``fork`` line read
on stdin and prints its pid. The test kills those processes with SIGKILL; they are real, independent
processes with their own database connections and HTTP sessions.

    python -m tests.notices.dispatcher_zygote --database-url URL --wechat-base URL --lease 2
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    """Build the app, then serve ``fork`` / ``quit`` commands from stdin."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--wechat-base", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)

    from backend import create_app
    from backend.notices import (
        cli,  # noqa: F401  (import everything the children need before forking)
        dispatcher,  # noqa: F401
    )

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": args.database_url, "INSTANCE_PATH": args.instance,
                      "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
                      "WECHAT_APPID": "wx_test_appid", "WECHAT_SECRET": "test_wechat_secret",
                      "WECHAT_API_BASE": args.wechat_base, "WECHAT_TIMEOUT_SECONDS": "5", "REDIS_URL": None,
                      "LOG_LEVEL": "WARNING"})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    print("READY", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "fork":
            continue
        pid = os.fork()
        if pid == 0:
            _child(app, args)
            os._exit(0)
        print(pid, flush=True)
    return 0


def _child(app, args) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from backend.extensions import db
    from backend.notices.cli import run_dispatch_loop

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with app.app_context():
        db.engine.dispose(close=False)  # never share the parent's pooled connections
        run_dispatch_loop(stop, batch=args.batch, idle_seconds=0.05, lease_seconds=args.lease,
                          workers=args.workers)


if __name__ == "__main__":
    raise SystemExit(main())
