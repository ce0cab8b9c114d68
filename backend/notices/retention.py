"""Retention of the notices' bookkeeping: WeChat push events, per-notice send attempts and the attempts of SMS and
WeCom robot deliveries (``channel_attempt``, kept by the same rules as a notice's).

Both tables grow with every push and every send and are only needed for a while (troubleshooting a delivery,
answering "was this parent told?"). ``purge_notice_logs`` deletes rows older than
``NOTICE_LOG_RETENTION_DAYS`` (default 180 days: six months, the minimum the Cybersecurity Law, art. 21,
asks of network logs, and longer than any rectification cycle a regulator reviews). It never deletes:

- notices themselves (they are the recipients' inbox and the record that someone was told);
- any attempt of a notice still ``pending`` (waiting, retrying or claimed by a dispatcher: the dispatcher
  updates and reclaims those rows), nor any attempt still ``in_flight``;
- the latest attempt of a ``failed`` or ``unconfirmed`` notice: the admins' views (``GET /admin/notices`` then
  ``/admin/notices/<id>/attempts``) show it to explain why WeChat refused or what answer was lost, however old
  it is.

Rows go in batches of ``batch_size``, one short transaction each, so a large backlog never holds a long
transaction or lock. On PostgreSQL each batch is ``DELETE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
LIMIT n)``: two runs at once take disjoint rows, and together delete each eligible row exactly once. On
SQLite the same single statement runs under the one-writer lock. A run is bounded (``max_batches`` per
table and a time budget below Celery's visibility timeout); what is left goes at the next run. Running
again deletes nothing new: the job is idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Delete, and_, delete, exists, func, or_, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.notices.models import (
    AttemptOutcome,
    ChannelAttempt,
    ChannelDelivery,
    Notice,
    NoticeAttempt,
    NoticeStatus,
    WeChatPushEvent,
)

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 180
# WeChat re-sends an unanswered push within seconds; the dedupe rows must outlive that by far.
MIN_RETENTION_DAYS = 1
# A batch of 1000 primary keys deletes in a few milliseconds on either database and keeps each
# transaction's lock set (and PostgreSQL's WAL burst) small.
BATCH_SIZE = 1000
MAX_BATCHES = 200          # per table per run: 200k rows, so an hourly job clears ~4.8M rows a day
TIME_BUDGET_SECONDS = 120  # well below CELERY_VISIBILITY_TIMEOUT (300 s): a run is never handed on twice


def retention_days(config: Mapping[str, Any]) -> int:
    """``NOTICE_LOG_RETENTION_DAYS`` as a number of days; a value that cannot be right raises ValueError."""
    raw = config.get("NOTICE_LOG_RETENTION_DAYS")
    try:
        days = int(str(raw).strip()) if raw not in (None, "") else DEFAULT_RETENTION_DAYS
    except ValueError as exc:
        raise ValueError(f"NOTICE_LOG_RETENTION_DAYS must be a whole number of days, not {raw!r}") from exc
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"NOTICE_LOG_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS} "
                         "(WeChat re-sent pushes are recognised by their stored copy)")
    return days


@dataclass
class PurgeReport:
    """What one purge run deleted, and whether it finished (False: a cap stopped it, the next run goes on)."""

    cutoff: str
    push_events: int = 0
    attempts: int = 0
    channel_attempts: int = 0
    batches: int = 0
    complete: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-able dict (stored in ``job_run.result``)."""
        return asdict(self)


def expired_push_events(cutoff: datetime) -> ColumnElement[bool]:
    """Push events received before ``cutoff``."""
    return WeChatPushEvent.received_at < cutoff


def expired_attempts(cutoff: datetime) -> ColumnElement[bool]:
    """Attempts claimed before ``cutoff`` that nothing needs any more (see the module docstring)."""
    latest = aliased(NoticeAttempt)
    is_latest = NoticeAttempt.id == (select(func.max(latest.id)).where(latest.notice_id == NoticeAttempt.notice_id)
                                     .correlate(NoticeAttempt).scalar_subquery())
    needed = exists().where(Notice.id == NoticeAttempt.notice_id,
                            or_(Notice.status == NoticeStatus.PENDING,
                                and_(Notice.status.in_([NoticeStatus.FAILED, NoticeStatus.UNCONFIRMED]),
                                     is_latest)))
    return and_(NoticeAttempt.claimed_at < cutoff, NoticeAttempt.outcome != AttemptOutcome.IN_FLIGHT, ~needed)


def expired_channel_attempts(cutoff: datetime) -> ColumnElement[bool]:
    """SMS and robot attempts claimed before ``cutoff`` that nothing needs any more (the same rules)."""
    latest = aliased(ChannelAttempt)
    newest = select(func.max(latest.id)).where(latest.delivery_id == ChannelAttempt.delivery_id)
    is_latest = ChannelAttempt.id == newest.correlate(ChannelAttempt).scalar_subquery()
    needed = exists().where(ChannelDelivery.id == ChannelAttempt.delivery_id,
                            or_(ChannelDelivery.status == NoticeStatus.PENDING,
                                and_(ChannelDelivery.status.in_([NoticeStatus.FAILED, NoticeStatus.UNCONFIRMED]),
                                     is_latest)))
    return and_(ChannelAttempt.claimed_at < cutoff, ChannelAttempt.outcome != AttemptOutcome.IN_FLIGHT, ~needed)


def _batch_delete(model: type, age_column: Any, condition: ColumnElement[bool], batch_size: int) -> Delete:
    """DELETE of at most ``batch_size`` rows matching ``condition``, oldest first, skipping rows others hold."""
    chosen = select(model.id).where(condition).order_by(age_column).limit(batch_size)
    if db.session.get_bind().dialect.name == "postgresql":
        chosen = chosen.with_for_update(of=model, skip_locked=True)
    return (delete(model).where(model.id.in_(chosen.scalar_subquery()))
            .execution_options(synchronize_session=False))


def _purge_table(statement: Delete, batch_size: int, max_batches: int, deadline: float,
                 report: PurgeReport) -> tuple[int, bool]:
    """Run the batch DELETE until a batch comes back short; (rows deleted, finished)."""
    deleted = 0
    for _ in range(max_batches):
        if time.monotonic() > deadline:
            return deleted, False
        try:
            count = int(db.session.execute(statement).rowcount or 0)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        report.batches += 1
        deleted += count
        # Fewer than asked: every eligible row nobody else holds is gone (rows another run holds, it deletes).
        if count < batch_size:
            return deleted, True
    return deleted, False


def purge_notice_logs(now: datetime, *, days: int | None = None, batch_size: int = BATCH_SIZE,
                      max_batches: int = MAX_BATCHES,
                      time_budget_seconds: float = TIME_BUDGET_SECONDS) -> PurgeReport:
    """Delete push events and send attempts older than the retention period; needs an app context."""
    from flask import current_app

    days = retention_days(current_app.config) if days is None else days
    if days < MIN_RETENTION_DAYS or batch_size < 1 or max_batches < 1:
        raise ValueError("retention days, batch size and batch count must be positive")
    cutoff = now - timedelta(days=days)
    report = PurgeReport(cutoff=cutoff.isoformat())
    deadline = time.monotonic() + time_budget_seconds
    db.session.rollback()  # start from a clean session: every batch is its own transaction
    report.push_events, events_done = _purge_table(
        _batch_delete(WeChatPushEvent, WeChatPushEvent.received_at, expired_push_events(cutoff), batch_size),
        batch_size, max_batches, deadline, report)
    report.attempts, attempts_done = _purge_table(
        _batch_delete(NoticeAttempt, NoticeAttempt.claimed_at, expired_attempts(cutoff), batch_size),
        batch_size, max_batches, deadline, report)
    report.channel_attempts, channel_done = _purge_table(
        _batch_delete(ChannelAttempt, ChannelAttempt.claimed_at, expired_channel_attempts(cutoff), batch_size),
        batch_size, max_batches, deadline, report)
    report.complete = events_done and attempts_done and channel_done
    if report.push_events or report.attempts or not report.complete:
        log.info("notice logs before %s: %d push events and %d attempts deleted in %d batches%s", report.cutoff,
                 report.push_events, report.attempts, report.batches, "" if report.complete else " (more left)")
    return report
