"""Time helpers: store UTC, schedule and show in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC (SQLite drops the offset) and convert aware ones to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_shanghai(value: datetime) -> datetime:
    """The same instant in Asia/Shanghai, for display and schedule checks."""
    return as_utc(value).astimezone(SHANGHAI)


def shanghai_iso(value: datetime | None) -> str | None:
    """An instant as the API writes it: ISO 8601 in Asia/Shanghai to the second (``2024-05-01T12:30:00+08:00``).

    The one date-time output outside schemas (schemas use :class:`backend.fields.DateTime`, which calls this).
    """
    return None if value is None else to_shanghai(value).isoformat(timespec="seconds")


def shanghai_midnight(day: date) -> datetime:
    """The UTC instant at which a calendar day begins in Asia/Shanghai."""
    return datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)
