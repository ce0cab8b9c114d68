"""Health probe of the scheduler and worker containers: the database (and Redis, when set) answer.

``python -m backend.probe`` exits 0 when they do and 1 with a reason otherwise.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from backend.config import load_config


def probe(config: dict[str, object]) -> list[str]:
    """Return what is unreachable (empty when healthy)."""
    problems = []
    try:
        engine = sa.create_engine(str(config["SQLALCHEMY_DATABASE_URI"]))
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver error means "not ready"
        problems.append(f"database: {type(exc).__name__}")
    if config.get("REDIS_URL"):
        import redis

        try:
            redis.Redis.from_url(str(config["REDIS_URL"]), socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"redis: {type(exc).__name__}")
    return problems


def main() -> int:
    """Probe with the process's settings."""
    problems = probe(load_config())
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
