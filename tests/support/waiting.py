"""Waiting in the tests for what other processes do to the database (a media server's hooks, a relay)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], seconds: float = 20, what: str = "condition", interval: float = 0.1) -> Any:
    """Poll ``predicate`` (after ending the session's transaction, so other processes' commits are seen) until it
    returns something true, and return that; fail naming ``what`` after ``seconds``."""
    from backend.extensions import db

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
