"""Group commit for opening view sessions on PostgreSQL.

Every play costs one round trip to the database, and under load the round trip, not the work in it, is what
a gunicorn worker spends its time on. So the plays that arrive while a round trip is in flight wait for it
and then go together in the next one: one thread (the leader) sends everything queued as one call of
``live_open_sessions`` (migration 0006_live) and hands each waiting thread its own answer. With one play at a
time nothing waits and nothing changes; under load a batch of N plays costs one round trip instead of N.

Inside the function each play is still judged as if alone and in arrival order: the batch locks the schools
it touches in ascending order (so concurrent batches never deadlock), and every cap is counted after the
locks, including the sessions opened earlier in the same batch. A batch far from the caps takes a set-based
path with the same answers (migration 0008_live_open_fast_path).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import OperationalError, errors, pq

MAX_BATCH = 64
# The call, prepared once per connection under this name and sent with text parameters through libpq itself.
OPEN_SESSIONS_STATEMENT = b"live_open_sessions"
OPEN_SESSIONS_SQL = b"SELECT live_open_sessions($1::jsonb, $2::integer, $3::integer)"
# PostgreSQL's invalid_sql_statement_name: the connection has not prepared the call (yet, or any more).
NOT_PREPARED = b"26000"


@dataclass
class OpenRequest:
    """One play waiting for its session: the row to insert and, once a batch ran, its answer."""

    token_id: str
    user_id: int
    camera_id: int
    school_id: int
    privileged: bool
    protocol: str
    client_addr: str | None
    media_client_id: str | None
    now: datetime
    cutoff: datetime
    camera_cap: int
    school_cap: int
    result: int | None = None
    error: BaseException | None = None
    finished: bool = False
    lead: bool = False
    wake: threading.Event = field(default_factory=threading.Event)

    def answer(self, result: int | None = None, error: BaseException | None = None) -> None:
        """Record the outcome and wake the waiting thread."""
        self.result, self.error, self.finished = result, error, True
        self.wake.set()


def _checked(pgconn: Any, result: Any, expected: pq.ExecStatus = pq.ExecStatus.TUPLES_OK) -> Any:
    """The result when it has the expected status (rows, by default); otherwise the error psycopg would raise
    for it (a connection that broke is psycopg's OperationalError, so the opener knows to replace it)."""
    if result.status == expected:
        return result
    if pgconn.status == pq.ConnStatus.BAD:
        raise OperationalError(result.get_error_message())
    raise errors.error_from_result(result)


def run_batch(connection: Any, batch: Sequence[OpenRequest], camera_cap: int, school_cap: int) -> list[int]:
    """One call of live_open_sessions on a pooled psycopg connection; the answers in the batch's order.

    The call goes through libpq directly (``PGconn.exec_prepared``, which releases the GIL while it waits):
    psycopg's cursor around the same round trip cost two to four times the client CPU of the call itself
    (bench/live.py). The statement is prepared on the connection the first time it is missing.
    """
    pgconn = connection.driver_connection.pgconn
    rows = json.dumps([[r.token_id, r.user_id, r.camera_id, r.school_id, r.privileged, r.protocol, r.client_addr,
                        r.media_client_id, r.now.timestamp(), r.cutoff.timestamp()] for r in batch]).encode()
    params = [rows, str(camera_cap).encode(), str(school_cap).encode()]
    result = pgconn.exec_prepared(OPEN_SESSIONS_STATEMENT, params)
    if result.error_field(pq.DiagnosticField.SQLSTATE) == NOT_PREPARED:
        _checked(pgconn, pgconn.prepare(OPEN_SESSIONS_STATEMENT, OPEN_SESSIONS_SQL), pq.ExecStatus.COMMAND_OK)
        result = pgconn.exec_prepared(OPEN_SESSIONS_STATEMENT, params)
    value = _checked(pgconn, result).get_value(0, 0)  # an integer[] in text form: b"{12,-1,13}"
    results = [int(answer) for answer in value[1:-1].split(b",")] if value and value != b"{}" else []
    if len(results) != len(batch):
        raise RuntimeError("live_open_sessions answered a different number of results")
    return results


def _connection_lost(error: BaseException) -> bool:
    """Whether an error says the connection is gone (psycopg's OperationalError), not that the call failed."""
    return type(error).__name__ == "OperationalError"


class GroupOpener:
    """Queues concurrent open requests of one process and sends them to the database together.

    One batch is in flight at a time, so the leaders share one connection, which the opener keeps between
    batches (one per api process, taken from the autocommit pool once).
    """

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._queue: list[OpenRequest] = []
        self._busy = False
        self._connection: Any = None

    def open(self, request: OpenRequest) -> int:
        """The request's answer: a session id, or a negative refusal code; database errors are raised."""
        with self._lock:
            self._queue.append(request)
            if not self._busy:
                self._busy = request.lead = True
        if not request.lead:
            request.wake.wait()
        if not request.finished:  # woken to lead (or leading from the start)
            self._lead(request)
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _send(self, batch: list[OpenRequest], camera_cap: int, school_cap: int) -> list[int]:
        reused = self._connection is not None
        if self._connection is None:
            self._connection = self._connect()
        try:
            return run_batch(self._connection, batch, camera_cap, school_cap)
        except BaseException as exc:
            connection, self._connection = self._connection, None
            # Never hand a broken connection back to the pool; the original error is what matters.
            with contextlib.suppress(Exception):
                connection.invalidate()
            if not (reused and _connection_lost(exc)):
                raise
        # The kept connection died while idle (a database restart, an idle timeout): once more on a fresh one.
        # Had the lost call committed, its tokens now count as used and the plays are refused, never doubled.
        self._connection = self._connect()
        return run_batch(self._connection, batch, camera_cap, school_cap)

    def _lead(self, own: OpenRequest) -> None:
        """Send batches until this thread's own request is answered, then pass the lead on."""
        while not own.finished:
            with self._lock:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                # The caps are settings, the same for every play of the process: the leader's stand for all.
                results = self._send(batch, own.camera_cap, own.school_cap)
            except BaseException as exc:  # every waiter must wake up, whatever went wrong
                for request in batch:
                    request.answer(error=exc)
            else:
                for request, result in zip(batch, results, strict=True):
                    request.answer(result)
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.set()  # not finished: it wakes up as the next leader
                return
            # The connection stays with the opener: checking it out of the pool and back in for every play
            # cost more than the play's own Python work (bench/live.py).
            self._busy = False
