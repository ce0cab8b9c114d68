"""The channel dispatcher: ``dispatch_channels(now, limit)`` sends due SMS and WeCom robot deliveries.

Job ``notices.channels`` (every 2 s). The same guarantees as the WeChat dispatcher (``dispatcher.py``):

- **Nothing lost.** A delivery is written with the notice or change it reports. One run **claims** due rows in
  one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent dispatchers take disjoint rows) as a
  lease (``claim_token``, ``claimed_until``) and records an ``in_flight`` attempt for each before any request
  leaves. Each reply is then **recorded** in its own transaction, right after it arrives. A dispatcher killed
  at any moment leaves rows whose lease expires; the next run reclaims them, marks the orphaned attempt
  ``interrupted`` and sends again. Without an SMS account configured, SMS rows wait (they are not claimed).
- **Bounded retries with backoff.** A send that provably did not happen (no connection, a rate limit, a
  transient error code) is retried after 30 s doubling to 1 h (``lease.backoff_seconds``; a WeCom 45009
  waits a minute at least) until ``attempt_budget`` attempts; then ``failed``. A permanent refusal (bad number,
  invalid webhook key, sensitive words, a number's daily limit) is ``failed`` at once. WeCom robots are paced
  client-side too: no robot is sent more than 20 messages in any minute (its documented limit).
- **Duplicates counted.** Neither SMS nor WeCom robots take an idempotency key, and unlike WeChat's one-time
  subscriptions nothing lets us probe whether a lost message arrived. A lost answer (read timeout, reset,
  HTTP 5xx: ``unknown``) or a killed dispatcher's attempt (``interrupted``) may have been delivered; since a
  class-1 alarm lost is worse than one shown twice, the delivery is sent again and each such resend adds one to
  ``possible_duplicates`` (shown with the delivery). Sends are sequential; each attempt's ``started_at`` is
  committed just before its request leaves and its reply right after, so one kill can duplicate at most one
  message, and an interrupted attempt that never started is resent without being counted. A delivery whose
  budget runs out after such an attempt ends ``unconfirmed`` (possibly delivered), not ``failed``.
- A settled delivery (sent, failed, unconfirmed) is never sent again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, and_, func, or_, select, update

from backend.extensions import db
from backend.integrations import tencent_sms, wecom_robot
from backend.integrations.channels import FAILED, RETRY, SENT, UNKNOWN, ChannelReply
from backend.notices import lease
from backend.notices.models import (
    AttemptOutcome,
    ChannelAttempt,
    ChannelDelivery,
    ChannelName,
    NoticeRobot,
    NoticeStatus,
)
from backend.timeutil import utcnow

DELIVERIES = ChannelDelivery.__table__
ATTEMPTS = ChannelAttempt.__table__
ROBOTS = NoticeRobot.__table__

DEFAULT_BATCH = 50
ROBOT_WINDOW = timedelta(minutes=1)


@dataclass
class ChannelReport(lease.DeliveryReport):
    """What one run did: the outbox counters, the robot rows paced and the possible duplicates."""

    paced: int = 0          # robot rows left for the next minute (20 a minute per robot)
    resent: int = 0         # sends that may duplicate an earlier delivered attempt


@dataclass
class _Job:
    delivery_id: int
    attempt_id: int
    number: int
    budget: int
    channel: str
    phone: str | None
    robot_key: str | None
    content: dict[str, Any]
    earlier_unknown: bool


class Senders:
    """The channel clients of a run: the SMS sender (None when SMS is not configured) and the robot client."""

    def __init__(self, sms: tencent_sms.TencentSms | None, robot: wecom_robot.WeComRobot) -> None:
        self.sms, self.robot = sms, robot

    @classmethod
    def from_config(cls, config: Any) -> Senders:
        """The senders the app's settings describe."""
        return cls(tencent_sms.from_config(config), wecom_robot.from_config(config))


def dispatch_channels(now: datetime | None = None, limit: int = DEFAULT_BATCH, *, senders: Senders | None = None,
                      lease_seconds: float = lease.DEFAULT_LEASE_SECONDS) -> ChannelReport:
    """Send up to ``limit`` due deliveries; needs an app context. Safe to run from several processes at once."""
    now = now or utcnow()
    senders = senders or Senders.from_config(current_app.config)
    token = secrets.token_hex(16)
    fence = time.monotonic() + lease_seconds * lease.FENCE_FRACTION
    report = ChannelReport()
    with db.engine.connect() as conn:
        with conn.begin():
            jobs = _claim(conn, now, limit, token, now + timedelta(seconds=lease_seconds), senders.sms is not None,
                          report)
        for job in jobs:
            if time.monotonic() > fence:
                with conn.begin():
                    _release(conn, job, token)
                report.released += 1
                continue
            with conn.begin():  # from here on the request may leave: a kill now makes a possible duplicate
                conn.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == job.attempt_id).values(started_at=utcnow()))
            reply = _send(senders, job)
            with conn.begin():
                _record(conn, job, reply, token, now, report)
    return report


# -- claim ----------------------------------------------------------------------------------------------

def _claim(conn: Connection, now: datetime, limit: int, token: str, claimed_until: datetime, sms_on: bool,
           report: ChannelReport) -> list[_Job]:
    # Without an SMS account, SMS rows wait unclaimed.
    ids = lease.claim_due(conn, DELIVERIES, now, limit, token, claimed_until,
                    *(() if sms_on else (DELIVERIES.c.channel != ChannelName.SMS,)))
    report.claimed = len(ids)
    if not ids:
        return []
    rows = conn.execute(
        select(DELIVERIES, ROBOTS.c.webhook_key, ROBOTS.c.enabled.label("robot_enabled"))
        .outerjoin(ROBOTS, ROBOTS.c.id == DELIVERIES.c.robot_id)
        .where(DELIVERIES.c.id.in_(ids)).order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)).all()
    report.interrupted = conn.execute(
        update(ATTEMPTS).where(ATTEMPTS.c.delivery_id.in_(ids), ATTEMPTS.c.outcome == AttemptOutcome.IN_FLIGHT)
        .values(outcome=AttemptOutcome.INTERRUPTED, finished_at=now)).rowcount
    # The attempt before this one may have been delivered: a lost answer, or a dispatcher that died after the send
    # began (one that died before it, its attempt never started, provably sent nothing). Only the latest counts:
    # an older one was counted by the claim that followed it, however often its resend was interrupted since.
    latest = (select(func.max(ATTEMPTS.c.id).label("id")).where(ATTEMPTS.c.delivery_id.in_(ids))
              .group_by(ATTEMPTS.c.delivery_id).subquery())
    uncertain = set(conn.scalars(select(ATTEMPTS.c.delivery_id).join(latest, ATTEMPTS.c.id == latest.c.id).where(
        or_(ATTEMPTS.c.outcome == AttemptOutcome.UNKNOWN,
            and_(ATTEMPTS.c.outcome == AttemptOutcome.INTERRUPTED, ATTEMPTS.c.started_at.is_not(None))))))
    room = _robot_room(conn, now, {r.robot_id for r in rows if r.robot_id is not None})
    jobs: list[_Job] = []
    name = lease.dispatcher_name()
    for row in rows:
        if row.channel == ChannelName.WECOM and not _robot_usable(conn, row, token, now, room, report):
            continue
        attempt_id = conn.scalar(ATTEMPTS.insert().values(delivery_id=row.id, number=row.attempts + 1,
                                                          claimed_at=now, outcome=AttemptOutcome.IN_FLIGHT,
                                                          dispatcher=name).returning(ATTEMPTS.c.id))
        duplicate = row.id in uncertain
        conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == row.id).values(
            attempts=DELIVERIES.c.attempts + 1,
            possible_duplicates=DELIVERIES.c.possible_duplicates + (1 if duplicate else 0)))
        report.resent += int(duplicate)
        jobs.append(_Job(row.id, attempt_id, row.attempts + 1, row.attempt_budget, row.channel, row.phone,
                         row.webhook_key, dict(row.content or {}), duplicate))
    return jobs


def _robot_room(conn: Connection, now: datetime, robot_ids: set[int]) -> dict[int, int]:
    """How many more messages each robot may be sent now: 20 a minute, counting attempts that may have left."""
    if not robot_ids:
        return {}
    used = dict(conn.execute(
        select(DELIVERIES.c.robot_id, func.count()).select_from(ATTEMPTS)
        .join(DELIVERIES, DELIVERIES.c.id == ATTEMPTS.c.delivery_id)
        .where(DELIVERIES.c.robot_id.in_(robot_ids), ATTEMPTS.c.claimed_at > now - ROBOT_WINDOW)
        .group_by(DELIVERIES.c.robot_id)).all())
    return {robot_id: wecom_robot.PER_MINUTE - used.get(robot_id, 0) for robot_id in robot_ids}


def _robot_usable(conn: Connection, row: Any, token: str, now: datetime, room: dict[int, int],
                  report: ChannelReport) -> bool:
    """Whether a robot row is sent in this run; settles it when its robot is gone, defers it when it is busy."""
    if row.robot_id is None or row.webhook_key is None or not row.robot_enabled:
        reason = "robot_disabled: the group's robot was switched off" if row.webhook_key else "robot_removed"
        _settle(conn, row.id, token, status=NoticeStatus.FAILED, last_error=reason)
        report.failed += 1
        return False
    if room.get(row.robot_id, 0) <= 0:
        conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == row.id, DELIVERIES.c.claim_token == token)
                     .values(claim_token=None, claimed_until=None, next_attempt_at=now + ROBOT_WINDOW))
        report.paced += 1
        return False
    room[row.robot_id] -= 1
    return True


def _settle(conn: Connection, delivery_id: int, token: str, **values: Any) -> bool:
    return bool(conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery_id,
                                                      DELIVERIES.c.claim_token == token)
                             .values(claim_token=None, claimed_until=None, **values)).rowcount)


def _release(conn: Connection, job: _Job, token: str) -> None:
    """Give a row back unsent (the lease is nearly over): its attempt never happened."""
    conn.execute(ATTEMPTS.delete().where(ATTEMPTS.c.id == job.attempt_id))
    _settle(conn, job.delivery_id, token, attempts=DELIVERIES.c.attempts - 1,
            possible_duplicates=DELIVERIES.c.possible_duplicates - (1 if job.earlier_unknown else 0))


# -- send and record ------------------------------------------------------------------------------------

def _send(senders: Senders, job: _Job) -> ChannelReply:
    try:
        if job.channel == ChannelName.SMS:
            if senders.sms is None or not job.phone:
                return ChannelReply(RETRY, "sms_not_configured", "SMS is not configured")
            return senders.sms.send(job.phone, list(job.content.get("params") or []), session=f"d{job.delivery_id}")
        return senders.robot.send(job.robot_key or "", str(job.content.get("markdown") or ""))
    except Exception as exc:  # a bug or an unexpected answer, maybe after the provider accepted the message
        return ChannelReply(UNKNOWN, "error", f"{type(exc).__name__}: {exc}"[:200])


OUTCOMES = {SENT: AttemptOutcome.SENT, RETRY: AttemptOutcome.RETRY, FAILED: AttemptOutcome.FAILED,
            UNKNOWN: AttemptOutcome.UNKNOWN}


def _record(conn: Connection, job: _Job, reply: ChannelReply, token: str, now: datetime,
            report: ChannelReport) -> None:
    conn.execute(update(ATTEMPTS).where(ATTEMPTS.c.id == job.attempt_id).values(
        outcome=OUTCOMES[reply.outcome], code=reply.code[:64] or None, message=reply.message[:200] or None,
        finished_at=utcnow()))
    error = f"{reply.code}: {reply.message}"[:200]
    if reply.outcome == SENT:
        values = {"status": NoticeStatus.SENT, "sent_at": now, "external_id": reply.external_id, "last_error": None}
        report.sent += 1
    elif reply.outcome in (RETRY, UNKNOWN) and job.number < job.budget:
        wait = max(lease.backoff_seconds(job.number, job.delivery_id), reply.retry_after_seconds or 0)
        values = {"next_attempt_at": now + timedelta(seconds=wait), "last_error": error}
        if reply.outcome == UNKNOWN:
            report.unknown += 1
        else:
            report.retried += 1
    elif reply.outcome == UNKNOWN or job.earlier_unknown:
        values = {"status": NoticeStatus.UNCONFIRMED, "last_error": error}  # some attempt may have arrived
        report.unconfirmed += 1
    else:
        values = {"status": NoticeStatus.FAILED, "last_error": error}
        report.failed += 1
    _settle(conn, job.delivery_id, token, **values)
