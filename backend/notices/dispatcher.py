"""The notice dispatcher: ``dispatch_due(now, limit)`` sends due notices as WeChat subscribe messages.

The scheduler calls it (inside an app context) every few seconds; a CLI loop runs it too. One call:

1. **Claim** up to ``limit`` due rows in one short transaction: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE
   SKIP LOCKED)`` on PostgreSQL (concurrent dispatchers take disjoint rows), the same single statement on
   SQLite (which has one writer at a time). A claim is a lease (``claim_token``, ``claimed_until``). In the
   same transaction every claimed row that will go to WeChat gets an ``in_flight`` attempt row, and rows
   that cannot (no template configured, no subscription quota) are settled as inbox-only.
2. **Send** through :class:`WeChatGateway` from a few threads. A thread never starts a send once 80 % of the
   lease is gone: what is left is released for the next run, so a lease never expires under a live send.
3. **Record** each reply as soon as it arrives (group commit: the writer takes every reply waiting and
   commits them in one transaction): the attempt's outcome, the notice's new state, the quota.

Outcomes: success → ``sent``; 43101 → quota spent, ``inbox_only``; 40001/42001 → the gateway refreshes
the token once and retries once; 45009, 45011, -1 and a request that provably never left (connection refused,
DNS, connect timeout, TLS handshake: the gateway's :class:`WeChatUnavailable`) → retry with exponential backoff
until ``attempt_budget`` attempts, then ``failed``; a lost answer (below) → ``unknown``; anything else (47003,
40003, 40037 …) → ``failed`` at once. Failed and unconfirmed notices are listed for admins, and every notice
stays in the recipient's inbox.

Lost answers. Subscribe messages have no idempotency key: a request WeChat carried out but whose answer we never
read (a timeout after the request was written, a connection reset or closed before the answer, an HTTP error
status, an unreadable answer: :class:`WeChatOutcomeUnknown`) may have reached the user, and sending it again
may show it twice. Such an attempt ends ``unknown``, the quota is left as it was, and the notice waits for the
backoff. What WeChat does give us is its quota: each one-time subscription allows one message of its template,
and a send without one answers 43101. So at the next claim, with ``r`` = the recipient's recorded subscriptions
of that template (the unknown attempt not counted as spent):

- ``r == 1`` (the usual case: one tap, one subscription): the notice is sent again as a **probe**. If the
  earlier attempt was delivered it used that subscription, WeChat answers 43101 and the notice is marked
  ``sent`` (``last_error`` ``delivered_earlier: …``); if it was not, this send is the only delivery. A second
  message is impossible either way, as WeChat's remaining quota cannot exceed ours once ours counts the
  earlier attempt. Probes claim the recipient's subscription before other rows of the same run do;
- ``r >= 2`` or ``r <= 0``: a resend could be a second message (or could not tell), so the notice is settled
  ``unconfirmed`` (possibly delivered), its subscription counted as used, and it is never sent again;
- 45009/-1/another lost answer on the probe: back off and probe again; once the budget is spent the notice is
  ``unconfirmed``, not ``failed`` (an attempt may have arrived).

Crash safety (``kill -9`` at any moment):
- before the claim commits: nothing happened;
- after the claim, before a send: the lease expires, a later run reclaims the row, marks the orphaned
  attempt ``interrupted`` and sends it: nothing is lost. An interrupted attempt is an unknown outcome too
  (the process may have died after WeChat accepted it), so with one subscription left the resend is a probe
  as above and cannot duplicate;
- **the duplicate windows that remain**: (1) a killed dispatcher's attempt that WeChat accepted (the reply
  was on the wire, or arrived and waited for its group commit) when the recipient had two or more
  subscriptions of that template left: unlike a timeout, nothing says the request ever left (most interrupted
  attempts were never started), so losing the message is the likelier harm and the notice is sent again; each
  such resend adds one to ``notice.possible_duplicates`` (shown in ``GET /admin/notices``). We keep the window
  short (group commit right after each reply) and bounded: a sender thread waits for its reply to be committed
  before sending again, so one kill can duplicate at most ``workers`` messages. (2) A probe sent while a new
  subscription of the same template exists at WeChat but has not reached us yet (``POST /me/subscriptions`` or
  the ``subscribe_msg_popup_event`` push still on its way): WeChat has one more than we count, so a delivered
  earlier attempt plus the probe make two messages; not counted, as nothing records it. (3) A request written
  to a pooled connection that the server closed at that same instant is a lost answer, not a duplicate: it
  ends ``unknown`` like a timeout;
- the cost of never guessing: an ``unconfirmed`` notice may never have reached WeChat at all, and a probe's
  43101 after two lost answers for the same recipient and template cannot tell which of the two arrived
  (one is marked ``sent``, the other ``unconfirmed``, the user got one); both show in the inbox;
- after the commit: the notice is settled and never sent again;
- a database error in a group commit (e.g. a deadlock between concurrent dispatchers on PostgreSQL) ends the
  run with that error: the senders stop (no thread waits forever for a commit) and the attempts not recorded
  stay in flight, reclaimed as interrupted once the lease ends.
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import Connection, bindparam, insert, select, text, update

from backend.accounts.models import User
from backend.extensions import db
from backend.integrations.wechat import WeChatError, WeChatGateway, WeChatOutcomeUnknown, WeChatUnavailable
from backend.notices import lease
from backend.notices.models import (
    AttemptOutcome,
    Notice,
    NoticeAttempt,
    NoticeChannelSetting,
    NoticeStatus,
    SubjectType,
    SubscriptionQuota,
)
from backend.notices.templates import TEMPLATES, miniprogram_state, template_ids
from backend.timeutil import as_utc, utcnow
from backend.violations import stats_cache
from backend.violations.models import Violation, ViolationEvent, ViolationStatus

log = logging.getLogger(__name__)

NOTICES = Notice.__table__
ATTEMPTS = NoticeAttempt.__table__
QUOTAS = SubscriptionQuota.__table__
SETTINGS = NoticeChannelSetting.__table__
VIOLATIONS = Violation.__table__
EVENTS = ViolationEvent.__table__

# Rows one run claims. The scheduler runs the dispatcher every 2 s, so this also caps the steady rate of one
# scheduler at 250 notices/s; each claim and each run's tail (senders idling while the last replies arrive) cost
# less per notice in larger runs. 500 messages at 16 senders and WeChat's ~80 ms take under 3 s, well inside
# the lease.
DEFAULT_BATCH = 500
# Sends in flight at once. WeChat answers a subscribe message in tens of milliseconds from a server in China, so
# throughput is concurrency over latency (4 senders at 80 ms: 50 notices/s); it is also the most one kill can
# duplicate (see the module docstring). bench/notices.py: 16 senders give 1.4x the rate of 4 on loopback.
DEFAULT_WORKERS = 16
QUOTA_SPENT = 43101
# Transient: try again later. Token errors reach here only when the gateway's one refresh+retry failed too.
RETRYABLE = frozenset({-1, 45009, 45011, 40001, 40014, 42001})


class _RunTokens:
    """The gateway's shared token store, read once per dispatch run instead of once per message.

    A token another process replaced meanwhile is still caught: WeChat answers 40001, the gateway calls
    :meth:`refresh`, which goes to the shared store.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.cached: Any = None

    def current(self) -> Any:
        """The token read at the start of the run while it stays usable."""
        cached = self.cached
        if cached is None or not cached.usable():
            cached = self.cached = self.store.current()
        return cached

    def refresh(self, fetch: Any, stale: str | None) -> str:
        """Refresh through the shared store (under its lock); the next read goes to the store again."""
        self.cached = None
        return self.store.refresh(fetch, stale)


@dataclass
class DispatchReport(lease.DeliveryReport):
    """What one dispatch run did: the outbox counters and the notices settled for the inbox only."""

    inbox_only: int = 0


@dataclass
class _Job:
    notice_id: int
    attempt_id: int
    number: int
    budget: int
    user_id: int
    openid: str
    template_id: str
    data: dict[str, dict[str, str]]
    page: str | None
    subject_type: str
    subject_id: int
    purpose: str
    # An earlier attempt may have been delivered (its answer was lost, or its dispatcher died).
    earlier_unknown: bool = False
    # ... and this send can tell: the recipient had one subscription left, so WeChat answers 43101 if it was.
    probe: bool = False


@dataclass
class _Result:
    job: _Job
    outcome: str
    errcode: int | None = None
    errmsg: str | None = None
    msgid: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None


@dataclass
class _Settled:
    """A claimed row settled without a send (inbox only, or a payload that cannot be sent)."""

    notice_id: int
    status: str
    error: str
    subject_type: str
    subject_id: int
    purpose: str
    # (user, template) whose quota this settlement spends: a possibly delivered message counts as delivered.
    spends: tuple[int, str] | None = None


@dataclass
class _Claim:
    jobs: list[_Job] = field(default_factory=list)
    settled: list[_Settled] = field(default_factory=list)
    interrupted: int = 0


def _page(page: str | None, notice_id: int) -> str | None:
    """The mini-program page a tap opens, carrying the notice id so opening it marks the inbox item read."""
    if not page:
        return None
    return f"{page}{'&' if '?' in page else '?'}nid={notice_id}"


def dispatch_due(now: datetime | None = None, limit: int = DEFAULT_BATCH, *, gateway: WeChatGateway | None = None,
                 lease_seconds: float = lease.DEFAULT_LEASE_SECONDS, workers: int = DEFAULT_WORKERS) -> DispatchReport:
    """Send up to ``limit`` due notices; needs an app context. Safe to run from several processes at once."""
    from backend.integrations.wechat_app import wechat_gateway

    now = now or utcnow()
    gateway = gateway or wechat_gateway()
    config = current_app.config
    token = secrets.token_hex(16)
    claimed_until = now + timedelta(seconds=lease_seconds)
    fence = time.monotonic() + lease_seconds * lease.FENCE_FRACTION
    # One connection for the whole run: the claim and every group commit (no checkout and ping per commit).
    with db.engine.connect() as conn:
        with conn.begin():
            claim = _claim(conn, now, limit, token, claimed_until, template_ids(config))
        report = DispatchReport(claimed=len(claim.jobs) + len(claim.settled), interrupted=claim.interrupted)
        for settled in claim.settled:
            if settled.status == NoticeStatus.INBOX_ONLY:
                report.inbox_only += 1
            elif settled.status == NoticeStatus.UNCONFIRMED:
                report.unconfirmed += 1
            else:
                report.failed += 1
        if claim.jobs:
            run_gateway = copy.copy(gateway)  # shares the HTTP session (keep-alive), not the token reads
            run_gateway.tokens = _RunTokens(gateway.tokens)
            _send_all(conn, run_gateway, claim.jobs, token, now, fence, workers, miniprogram_state(config), report)
    return report


# -- claim ----------------------------------------------------------------------------------------------

def _claim(conn: Connection, now: datetime, limit: int, token: str, claimed_until: datetime,
           ids_by_template: Mapping[str, str]) -> _Claim:
    claimed_ids = lease.claim_due(conn, NOTICES, now, limit, token, claimed_until)
    result = _Claim()
    if not claimed_ids:
        return result
    rows = conn.execute(
        select(NOTICES.c.id, NOTICES.c.user_id, NOTICES.c.template, NOTICES.c.payload, NOTICES.c.page,
               NOTICES.c.subject_type, NOTICES.c.subject_id, NOTICES.c.purpose, NOTICES.c.attempts,
               NOTICES.c.attempt_budget, User.__table__.c.openid)
        .join(User.__table__, User.__table__.c.id == NOTICES.c.user_id)
        .where(NOTICES.c.id.in_(claimed_ids)).order_by(NOTICES.c.next_attempt_at, NOTICES.c.id)).all()
    lost, crashed = _earlier_unknown(conn, [r.id for r in rows if r.attempts], now, result)
    # Rows that may already have been delivered go first: a probe needs the recipient's last subscription.
    rows.sort(key=lambda r: r.id not in lost and r.id not in crashed)
    wanted = {(r.user_id, ids_by_template[r.template]) for r in rows if r.template in ids_by_template}
    recorded = _quotas(conn, wanted)
    plan = _Plan(recorded, dict(recorded))
    # People who turned WeChat messages off (backend/notices/channels.py) keep the notice in their inbox only.
    wechat_off = set(conn.scalars(select(SETTINGS.c.user_id).where(
        SETTINGS.c.user_id.in_({r.user_id for r in rows}), SETTINGS.c.wechat.is_(False))))
    for row in rows:
        if row.user_id in wechat_off:
            _route(row, None, row.id in lost, row.id in crashed, plan, result, why="wechat_not_chosen")
        else:
            _route(row, ids_by_template.get(row.template), row.id in lost, row.id in crashed, plan, result)
    _write_claim(conn, result, plan, token, now)
    return result


@dataclass
class _Plan:
    """A claim's decisions: the recorded quotas, what its sends take from them, the sends, the risky resends."""

    recorded: dict[tuple[int, str], int]
    remaining: dict[tuple[int, str], int]
    sends: list[dict[str, Any]] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)


def _route(row: Any, template_id: str | None, lost: bool, crashed: bool, plan: _Plan, claim: _Claim,
           why: str = "template_not_configured") -> None:
    """Settle one claimed row at once (inbox only, unconfirmed, failed) or plan its send.

    ``lost``: an earlier attempt's answer was lost; ``crashed``: an earlier attempt's dispatcher died. Either may
    have been delivered: see "Lost answers" in the module docstring for when such a row is sent again.
    """
    unknown = lost or crashed
    settle = partial(_Settled, row.id, subject_type=row.subject_type, subject_id=row.subject_id,
                     purpose=row.purpose)
    if template_id is None:
        claim.settled.append(settle(NoticeStatus.UNCONFIRMED if unknown else NoticeStatus.INBOX_ONLY, why))
        return
    key = (row.user_id, template_id)
    left = plan.remaining.get(key, 0)
    # A probe cannot make a second message: with one subscription, WeChat answers 43101 if the earlier one arrived.
    probe = unknown and plan.recorded.get(key, 0) == 1 and left == 1
    if unknown and not probe and (lost or left <= 0):
        claim.settled.append(settle(NoticeStatus.UNCONFIRMED,
                                    "possibly_delivered: an earlier attempt may have arrived, not sent again",
                                    spends=key))
        return
    if not unknown and left <= 0:
        claim.settled.append(settle(NoticeStatus.INBOX_ONLY, "no_subscription_quota"))
        return
    try:
        data = TEMPLATES[row.template].build(row.payload or {})
    except (ValueError, TypeError, KeyError) as exc:  # a payload no template can show: a bug, not a retry
        claim.settled.append(settle(NoticeStatus.FAILED, f"payload_invalid: {exc}"[:200]))
        return
    plan.remaining[key] = left - 1
    if unknown and not probe:  # after a crash, with several subscriptions left: losing it is the likelier harm
        plan.resent.append(row.id)
    plan.sends.append({"row": row, "template_id": template_id, "data": data, "unknown": unknown, "probe": probe})


def _write_claim(conn: Connection, claim: _Claim, plan: _Plan, token: str, now: datetime) -> None:
    """Write the claim's settlements and its sends' ``in_flight`` attempts; fill ``claim.jobs``."""
    for settled in claim.settled:
        conn.execute(update(NOTICES).where(NOTICES.c.id == settled.notice_id, NOTICES.c.claim_token == token)
                     .values(status=settled.status, last_error=settled.error, claim_token=None, claimed_until=None))
    # One lock order for every writer (here and _write_replies): notices, then quota rows by key, then the
    # violations by id and the figures' version row last. Interleaving them per notice deadlocked two
    # dispatchers on PostgreSQL (one held the version row and wanted a quota row, the other the reverse).
    for user_id, template_id in sorted(s.spends for s in claim.settled if s.spends is not None):
        conn.execute(_SPEND_QUOTA, {"b_user": user_id, "b_template": template_id, "b_now": now})
    _mark_notified(conn, [_Final(s.subject_type, s.subject_id, s.purpose, s.notice_id, "inbox")
                          for s in claim.settled], now)
    if plan.resent:
        conn.execute(update(NOTICES).where(NOTICES.c.id.in_(plan.resent))
                     .values(possible_duplicates=NOTICES.c.possible_duplicates + 1))
    if not plan.sends:
        return
    name = lease.dispatcher_name()
    attempt_rows = [{"notice_id": p["row"].id, "number": p["row"].attempts + 1, "claimed_at": now,
                     "outcome": AttemptOutcome.IN_FLIGHT, "dispatcher": name} for p in plan.sends]
    attempt_ids = list(conn.scalars(
        insert(ATTEMPTS).returning(ATTEMPTS.c.id, sort_by_parameter_order=True), attempt_rows))
    conn.execute(update(NOTICES).where(NOTICES.c.id.in_([p["row"].id for p in plan.sends]))
                 .values(attempts=NOTICES.c.attempts + 1))
    for pending, attempt_id in zip(plan.sends, attempt_ids, strict=True):
        row = pending["row"]
        claim.jobs.append(_Job(row.id, attempt_id, row.attempts + 1, row.attempt_budget, row.user_id,
                               row.openid, pending["template_id"], pending["data"], _page(row.page, row.id),
                               row.subject_type, row.subject_id, row.purpose, pending["unknown"], pending["probe"]))


def _earlier_unknown(conn: Connection, tried: list[int], now: datetime, claim: _Claim) -> tuple[set[int], set[int]]:
    """Of the claimed notices tried before: those with an attempt whose answer was lost, and those whose
    dispatcher died with an attempt in flight (marked ``interrupted`` here). Either may have been delivered."""
    if not tried:
        return set(), set()
    # Attempts left in flight by a dispatcher that died: we cannot know whether WeChat got them.
    interrupted = conn.execute(
        update(ATTEMPTS).where(ATTEMPTS.c.notice_id.in_(tried), ATTEMPTS.c.outcome == AttemptOutcome.IN_FLIGHT)
        .values(outcome=AttemptOutcome.INTERRUPTED, finished_at=now)).rowcount
    claim.interrupted = interrupted
    lost: set[int] = set()
    crashed: set[int] = set()
    for notice_id, outcome in conn.execute(
            select(ATTEMPTS.c.notice_id, ATTEMPTS.c.outcome)
            .where(ATTEMPTS.c.notice_id.in_(tried),
                   ATTEMPTS.c.outcome.in_([AttemptOutcome.UNKNOWN, AttemptOutcome.INTERRUPTED]))):
        (lost if outcome == AttemptOutcome.UNKNOWN else crashed).add(notice_id)
    return lost, crashed


def _quotas(conn: Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    if not wanted:
        return {}
    users = sorted({user_id for user_id, _ in wanted})
    rows = conn.execute(select(QUOTAS.c.user_id, QUOTAS.c.template_id, QUOTAS.c.remaining)
                        .where(QUOTAS.c.user_id.in_(users))).all()
    return {(r.user_id, r.template_id): r.remaining for r in rows if (r.user_id, r.template_id) in wanted}


# -- send -----------------------------------------------------------------------------------------------

def _send_one(gateway: WeChatGateway, job: _Job, fence: float, state: str) -> _Result:
    if time.monotonic() > fence:
        return _Result(job, "released")
    started = utcnow()
    clock = time.monotonic()
    try:
        reply = gateway.send_subscribe_message(job.openid, job.template_id, job.data, page=job.page,
                                               miniprogram_state=state)
        result = _Result(job, AttemptOutcome.SENT, errcode=0, msgid=str(reply.get("msgid") or "") or None)
    except WeChatOutcomeUnknown as exc:  # the request may have been carried out: never a blind retry
        result = _Result(job, AttemptOutcome.UNKNOWN, errmsg=exc.errmsg[:200])
    except WeChatUnavailable as exc:  # provably not carried out: no connection, or WeChat's -1
        result = _Result(job, AttemptOutcome.RETRY, errcode=-1, errmsg=exc.errmsg[:200])
    except WeChatError as exc:
        if exc.errcode == QUOTA_SPENT:
            outcome = AttemptOutcome.QUOTA_SPENT
        elif exc.errcode in RETRYABLE:
            outcome = AttemptOutcome.RETRY
        else:
            outcome = AttemptOutcome.FAILED
        result = _Result(job, outcome, errcode=exc.errcode, errmsg=exc.errmsg[:200])
    except Exception as exc:  # a bug or an unexpected reply, maybe after WeChat accepted the message
        log.exception("unexpected error sending notice %s", job.notice_id)
        result = _Result(job, AttemptOutcome.UNKNOWN, errmsg=f"{type(exc).__name__}: {exc}"[:200])
    result.started_at = started
    result.finished_at = utcnow()
    result.duration_ms = int((time.monotonic() - clock) * 1000)
    return result


def _send_all(conn: Connection, gateway: WeChatGateway, jobs: list[_Job], token: str, now: datetime, fence: float,
              workers: int, state: str, report: DispatchReport) -> None:
    """Send from ``workers`` threads; this thread records the replies.

    A sender waits until its reply is committed before it sends again, so at any moment at most ``workers``
    replies are received-but-unrecorded: that bounds what a kill can duplicate.
    """
    replies: queue.Queue[tuple[_Result, threading.Event]] = queue.Queue()
    # Set when the writer fails (a database error in a group commit): senders stop instead of waiting forever for
    # a commit that will not come; the attempts they did not send stay in flight and are reclaimed later.
    abandoned = threading.Event()

    def send(job: _Job) -> None:
        if abandoned.is_set():
            return
        recorded = threading.Event()
        # The duplicate window (module docstring) is open from the moment WeChat accepts the request inside
        # _send_one until the writer's commit of this reply: a kill in between makes a later run resend it.
        replies.put((_send_one(gateway, job, fence, state), recorded))
        while not recorded.wait(0.5):
            if abandoned.is_set():
                return

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix="notice-send") as pool:
        for job in jobs:
            pool.submit(send, job)
        try:
            _write_all(conn, replies, len(jobs), token, now, report)
        except BaseException:
            abandoned.set()
            raise


def _write_all(conn: Connection, replies: queue.Queue[tuple[_Result, threading.Event]], outstanding: int,
               token: str, now: datetime, report: DispatchReport) -> None:
    """The writer: group commits of the replies as they arrive, until every job has answered."""
    while outstanding:
        group = [replies.get()]
        while True:
            try:
                group.append(replies.get_nowait())
            except queue.Empty:
                break
        # Group commit: the replies that arrived while the previous commit ran are recorded together.
        try:
            with conn.begin():
                _record_group(conn, [result for result, _ in group], token, now, report)
        finally:
            for _, recorded in group:
                recorded.set()
        outstanding -= len(group)


# -- record ---------------------------------------------------------------------------------------------

# Statements built once: the writer runs them with executemany for every reply of a group commit.
_SETTLE = (update(NOTICES)
           .where(NOTICES.c.id == bindparam("b_id"), NOTICES.c.claim_token == bindparam("b_token"))
           .values(status=bindparam("b_status"), sent_at=bindparam("b_sent_at"), msgid=bindparam("b_msgid"),
                   last_error=bindparam("b_error"), next_attempt_at=bindparam("b_next"), claim_token=None,
                   claimed_until=None))
_RELEASE = (update(NOTICES)
            .where(NOTICES.c.id == bindparam("b_id"), NOTICES.c.claim_token == bindparam("b_token"))
            .values(claim_token=None, claimed_until=None, attempts=NOTICES.c.attempts - 1))
_FINISH_ATTEMPT = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("b_id"))
                   .values(outcome=bindparam("b_outcome"), errcode=bindparam("b_errcode"),
                           errmsg=bindparam("b_errmsg"), started_at=bindparam("b_started"),
                           finished_at=bindparam("b_finished"), duration_ms=bindparam("b_ms")))
_DROP_ATTEMPT = ATTEMPTS.delete().where(ATTEMPTS.c.id == bindparam("b_id"))
_SPEND_QUOTA = (update(QUOTAS)
                .where(QUOTAS.c.user_id == bindparam("b_user"), QUOTAS.c.template_id == bindparam("b_template"),
                       QUOTAS.c.remaining > 0)
                .values(remaining=QUOTAS.c.remaining - 1, used_total=QUOTAS.c.used_total + 1,
                        updated_at=bindparam("b_now")))
_EMPTY_QUOTA = (update(QUOTAS)
                .where(QUOTAS.c.user_id == bindparam("b_user"), QUOTAS.c.template_id == bindparam("b_template"))
                .values(remaining=0, updated_at=bindparam("b_now")))


def _settlement(result: _Result, now: datetime, report: DispatchReport) -> tuple[str, dict[str, Any], str | None]:
    """The attempt's final outcome, the notice's new columns and the quota change (spend, empty) for one reply."""
    job, outcome = result.job, result.outcome
    error = None if outcome == AttemptOutcome.SENT else f"{result.errcode or outcome}: {result.errmsg}"[:200]
    values = {"b_status": NoticeStatus.PENDING, "b_sent_at": None, "b_msgid": None, "b_error": error, "b_next": now}
    quota_change: str | None = None
    if outcome == AttemptOutcome.SENT:
        values.update(b_status=NoticeStatus.SENT, b_sent_at=result.finished_at, b_msgid=result.msgid)
        quota_change = "spend"
        report.sent += 1
    elif outcome == AttemptOutcome.QUOTA_SPENT and job.probe:
        # The recipient's one subscription is gone, and nothing but the earlier attempt could have used it.
        values.update(b_status=NoticeStatus.SENT, b_sent_at=result.finished_at,
                      b_error=f"delivered_earlier: {error}"[:200])
        quota_change = "spend"
        report.sent += 1
    elif outcome == AttemptOutcome.QUOTA_SPENT:
        values.update(b_status=NoticeStatus.UNCONFIRMED if job.earlier_unknown else NoticeStatus.INBOX_ONLY)
        quota_change = "empty"
        if job.earlier_unknown:
            report.unconfirmed += 1
        else:
            report.inbox_only += 1
    elif outcome in (AttemptOutcome.RETRY, AttemptOutcome.UNKNOWN) and job.number < job.budget:
        values.update(b_next=now + timedelta(seconds=lease.backoff_seconds(job.number, job.notice_id)))
        if outcome == AttemptOutcome.UNKNOWN:
            report.unknown += 1
        else:
            report.retried += 1
    elif outcome in (AttemptOutcome.RETRY, AttemptOutcome.UNKNOWN) and (
            job.earlier_unknown or outcome == AttemptOutcome.UNKNOWN):
        values.update(b_status=NoticeStatus.UNCONFIRMED)  # the budget is spent and some attempt may have arrived
        quota_change = "spend"
        report.unconfirmed += 1
    else:
        outcome = AttemptOutcome.FAILED  # permanent, or the last attempt of the budget
        values.update(b_status=NoticeStatus.FAILED)
        report.failed += 1
    return outcome, values, quota_change


def _record_group(conn: Connection, results: list[_Result], token: str, now: datetime,
                  report: DispatchReport) -> None:
    """Write the replies of one group commit: attempts, notices, quotas, and violations now notified."""
    released = [r for r in results if r.outcome == "released"]
    answered = [r for r in results if r.outcome != "released"]
    if released:
        conn.execute(_DROP_ATTEMPT, [{"b_id": r.job.attempt_id} for r in released])
        conn.execute(_RELEASE, [{"b_id": r.job.notice_id, "b_token": token} for r in released])
        report.released += len(released)
    if not answered:
        return
    replies = []
    for result in answered:
        replies.append(_Reply(result, *_settlement(result, now, report)))
    write = _write_replies_postgresql if conn.dialect.name == "postgresql" else _write_replies
    # Rows whose lease we still held (we lose one only if this process stalled past the fence).
    mine = write(conn, replies, token, now)
    finals = []
    for reply in replies:
        job = reply.result.job
        if job.notice_id not in mine:
            log.warning("notice %s: lease lost before recording %s", job.notice_id, reply.outcome)
        elif reply.values["b_status"] != NoticeStatus.PENDING:
            channel = "wechat" if reply.values["b_status"] == NoticeStatus.SENT else "inbox"
            finals.append(_Final(job.subject_type, job.subject_id, job.purpose, job.notice_id, channel))
    _mark_notified(conn, finals, now)


@dataclass
class _Reply:
    """One answered send on its way to the database: the attempt's outcome and the notice's new columns."""

    result: _Result
    outcome: str
    values: dict[str, Any]
    # ``spend`` (one message used), ``empty`` (WeChat says none left) or None.
    quota_change: str | None


def _write_replies(conn: Connection, replies: list[_Reply], token: str, now: datetime) -> set[int]:
    """Any database: one executemany per table; returns the notices settled (those still claimed by us)."""
    mine = set(conn.scalars(select(NOTICES.c.id).where(
        NOTICES.c.id.in_([r.result.job.notice_id for r in replies]), NOTICES.c.claim_token == token)))
    attempts, settles, spend, empty = [], [], [], []
    for reply in replies:
        result, job = reply.result, reply.result.job
        attempts.append({"b_id": job.attempt_id, "b_outcome": reply.outcome, "b_errcode": result.errcode,
                         "b_errmsg": result.errmsg, "b_started": result.started_at, "b_finished": result.finished_at,
                         "b_ms": result.duration_ms})
        if job.notice_id not in mine:
            continue
        settles.append({"b_id": job.notice_id, "b_token": token, **reply.values})
        quota_key = {"b_user": job.user_id, "b_template": job.template_id, "b_now": now}
        if reply.quota_change == "spend":
            spend.append(quota_key)
        elif reply.quota_change == "empty":
            empty.append(quota_key)
    conn.execute(_FINISH_ATTEMPT, attempts)
    for statement, params in ((_SETTLE, settles), (_SPEND_QUOTA, spend), (_EMPTY_QUOTA, empty)):
        if params:
            conn.execute(statement, params)
    return mine


# PostgreSQL: the whole group in one statement (one round trip, no per-row parameter binding), the same writes
# as _write_replies. A quota row is updated once per statement however many of the group's notices use it, so
# its changes are counted per (user, template): each sent message takes one while any is left, and an "empty"
# answer sets it to none, as the sequential updates of _write_replies would.
_WRITE_GROUP_POSTGRESQL = text("""
WITH reply AS (
    SELECT * FROM jsonb_to_recordset(CAST(:replies AS jsonb)) AS r(
        attempt_id bigint, notice_id bigint, outcome text, errcode integer, errmsg text, started_at timestamptz,
        finished_at timestamptz, duration_ms integer, status text, sent_at timestamptz, msgid text,
        last_error text, next_attempt_at timestamptz, user_id bigint, template_id text, quota text)
), finished AS (
    UPDATE notice_attempt AS a
    SET outcome = r.outcome, errcode = r.errcode, errmsg = r.errmsg, started_at = r.started_at,
        finished_at = r.finished_at, duration_ms = r.duration_ms
    FROM reply AS r WHERE a.id = r.attempt_id
), settled AS (
    UPDATE notice AS n
    SET status = r.status, sent_at = r.sent_at, msgid = r.msgid, last_error = r.last_error,
        next_attempt_at = r.next_attempt_at, claim_token = NULL, claimed_until = NULL
    FROM reply AS r WHERE n.id = r.notice_id AND n.claim_token = :token
    RETURNING n.id, r.user_id, r.template_id, r.quota
), change AS (
    SELECT user_id, template_id, count(*) FILTER (WHERE quota = 'spend') AS spent, bool_or(quota = 'empty') AS emptied
    FROM settled WHERE quota IS NOT NULL GROUP BY user_id, template_id
), quota AS (
    UPDATE subscription_quota AS q
    SET remaining = CASE WHEN c.emptied THEN 0 ELSE greatest(q.remaining - c.spent, 0) END,
        used_total = q.used_total + least(c.spent, greatest(q.remaining, 0)), updated_at = :now
    FROM change AS c
    WHERE q.user_id = c.user_id AND q.template_id = c.template_id AND (c.emptied OR q.remaining > 0)
)
SELECT id FROM settled
""")


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _write_replies_postgresql(conn: Connection, replies: list[_Reply], token: str, now: datetime) -> set[int]:
    """PostgreSQL: :func:`_write_replies` in one statement; returns the notices settled."""
    rows = []
    for reply in replies:
        result, job, values = reply.result, reply.result.job, reply.values
        rows.append({"attempt_id": job.attempt_id, "notice_id": job.notice_id, "outcome": str(reply.outcome),
                     "errcode": result.errcode, "errmsg": result.errmsg, "started_at": _iso(result.started_at),
                     "finished_at": _iso(result.finished_at), "duration_ms": result.duration_ms,
                     "status": str(values["b_status"]), "sent_at": _iso(values["b_sent_at"]),
                     "msgid": values["b_msgid"], "last_error": values["b_error"],
                     "next_attempt_at": _iso(values["b_next"]), "user_id": job.user_id,
                     "template_id": job.template_id, "quota": reply.quota_change})
    return set(conn.scalars(_WRITE_GROUP_POSTGRESQL, {"replies": json.dumps(rows, ensure_ascii=False),
                                                      "token": token, "now": now}))


@dataclass(frozen=True)
class _Final:
    """A notice settled for good (sent, inbox only, failed…): what it may move on its subject."""

    subject_type: str
    subject_id: int | None
    purpose: str
    notice_id: int
    channel: str  # ``wechat`` when the message went out, else ``inbox``


def _mark_notified(conn: Connection, finals: list[_Final], now: datetime) -> None:
    """The first settled notice of a new violation moves it from open to notified (with its event).

    The lock order of every writer: violations in id order, then the figures' version row once, last. Bumping
    the version after each violation deadlocked two dispatchers on PostgreSQL (one held the version row and
    wanted the next violation, the other held that violation and wanted the version row)."""
    moved_any = False
    seen: set[int] = set()
    for final in sorted(finals, key=lambda f: f.subject_id or 0):
        if (final.subject_type != SubjectType.VIOLATION or final.purpose != "violation_created"
                or final.subject_id is None or final.subject_id in seen):
            continue
        seen.add(final.subject_id)
        moved = conn.execute(update(VIOLATIONS).where(VIOLATIONS.c.id == final.subject_id,
                                                      VIOLATIONS.c.status == ViolationStatus.OPEN)
                             .values(status=ViolationStatus.NOTIFIED)).rowcount
        if moved:
            moved_any = True
            reason = "已通过微信通知学校负责人" if final.channel == "wechat" else "已通知学校负责人（站内消息）"
            conn.execute(insert(EVENTS).values(
                violation_id=final.subject_id, at=now, actor_id=None, action="notify",
                from_status=ViolationStatus.OPEN, to_status=ViolationStatus.NOTIFIED, reason=reason,
                details={"notice_id": final.notice_id, "channel": final.channel}))
    if moved_any:
        conn.execute(stats_cache.bump_statement(conn.dialect.name))  # a status change: the figures' version
