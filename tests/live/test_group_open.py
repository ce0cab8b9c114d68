"""Group commit of view sessions: concurrent plays share one database round trip, each gets its own answer."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from psycopg import pq

from backend.live.group_open import GroupOpener, OpenRequest, run_batch
from tests.conftest import using_postgresql

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _request(token_id, camera_id=1, school_id=1, privileged=False, camera_cap=50, school_cap=200):
    return OpenRequest(token_id, 1, camera_id, school_id, privileged, "rtmp", "10.0.0.1", "7", NOW,
                       NOW - timedelta(seconds=60), camera_cap, school_cap)


class FakeDatabase:
    """Answers live_open_sessions with 100 + position; the first call waits until the test releases it."""

    def __init__(self):
        self.batches: list[list[str]] = []
        self.first_call_entered = threading.Event()
        self.release_first_call = threading.Event()
        self.fail = False
        self.connections = self.returned = self.invalidated = 0

    def connect(self):
        database = self

        class Result:
            """What libpq answers: rows (an integer[] in text form) or a finished command."""

            def __init__(self, status, answer=None):
                self.status, self.answer = status, answer

            def error_field(self, field):
                return None

            def get_value(self, row, column):
                return ("{" + ",".join(str(a) for a in self.answer) + "}").encode()

        class PGconn:
            status = pq.ConnStatus.OK

            def exec_prepared(self, name, params):
                assert name == b"live_open_sessions"
                rows = json.loads(params[0])
                database.batches.append([row[0] for row in rows])
                if len(database.batches) == 1:
                    database.first_call_entered.set()
                    database.release_first_call.wait(5)
                if database.fail:
                    raise RuntimeError("database went away")
                return Result(pq.ExecStatus.TUPLES_OK, [100 + int(row[0][1:]) for row in rows])

        class Connection:
            driver_connection = SimpleNamespace(pgconn=PGconn())

            def close(self):
                database.returned += 1

            def invalidate(self):
                database.invalidated += 1

        database.connections += 1
        return Connection()


def _open_in_threads(opener, requests):
    answers: dict[str, object] = {}

    def play(request):
        try:
            answers[request.token_id] = opener.open(request)
        except Exception as exc:
            answers[request.token_id] = exc

    threads = [threading.Thread(target=play, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    return threads, answers


def _wait_queued(opener, count):
    deadline = time.monotonic() + 5
    while len(opener._queue) < count:
        assert time.monotonic() < deadline, "requests did not queue"
        time.sleep(0.001)


def test_one_play_alone_is_one_round_trip():
    database = FakeDatabase()
    database.release_first_call.set()
    assert GroupOpener(database.connect).open(_request("t1")) == 101
    assert database.batches == [["t1"]]


def test_plays_arriving_during_a_round_trip_share_the_next_one():
    database = FakeDatabase()
    opener = GroupOpener(database.connect)
    first_threads, answers = _open_in_threads(opener, [_request("t0")])
    assert database.first_call_entered.wait(5)
    later = [_request(f"t{i}") for i in range(1, 6)]
    threads, later_answers = _open_in_threads(opener, later)
    _wait_queued(opener, 5)
    database.release_first_call.set()
    for thread in first_threads + threads:
        thread.join(5)
    assert database.batches == [["t0"], ["t1", "t2", "t3", "t4", "t5"]]
    assert answers == {"t0": 100}
    assert later_answers == {f"t{i}": 100 + i for i in range(1, 6)}
    assert opener._busy is False and opener._queue == []
    # Both batches went over one connection, which the opener keeps for the next plays.
    assert (database.connections, database.returned, database.invalidated) == (1, 0, 0)
    assert opener.open(_request("t7")) == 107
    assert database.connections == 1


def test_a_database_error_reaches_every_play_of_the_batch_and_the_opener_recovers():
    database = FakeDatabase()
    opener = GroupOpener(database.connect)
    first_threads, answers = _open_in_threads(opener, [_request("t0")])
    assert database.first_call_entered.wait(5)
    threads, later = _open_in_threads(opener, [_request("t1"), _request("t2")])
    _wait_queued(opener, 2)
    database.fail = True
    database.release_first_call.set()
    for thread in first_threads + threads:
        thread.join(5)
    assert all(isinstance(answer, RuntimeError) for answer in [*answers.values(), *later.values()])
    # Both batches failed ([t0], then [t1, t2]); neither broken connection went back to the pool.
    assert database.batches == [["t0"], ["t1", "t2"]]
    assert (database.connections, database.invalidated, database.returned) == (2, 2, 0)
    database.fail = False
    assert opener.open(_request("t9")) == 109
    assert (database.connections, database.returned) == (3, 0)


def test_a_kept_connection_lost_while_idle_is_replaced_once_and_the_play_goes_through():
    class OperationalError(Exception):
        """Named like psycopg's: the connection is gone."""

    database = FakeDatabase()
    database.release_first_call.set()
    opener = GroupOpener(database.connect)
    assert opener.open(_request("t1")) == 101
    lost = []
    kept = opener._connection

    class Dead:
        @property
        def driver_connection(self):
            lost.append(1)
            raise OperationalError("server closed the connection unexpectedly")

        def invalidate(self):
            database.invalidated += 1

    opener._connection = Dead()
    assert opener.open(_request("t2")) == 102
    assert (lost, database.invalidated, database.connections) == ([1], 1, 2)
    assert opener._connection is not kept
    # A fresh connection that fails is not retried: the error reaches the plays.
    opener._connection = None
    database.fail = True
    with pytest.raises(RuntimeError):
        opener.open(_request("t3"))


@pytest.mark.skipif(not using_postgresql(), reason="live_open_sessions is PostgreSQL's (SQLite has its own path)")
def test_the_database_function_judges_each_play_of_a_batch_in_order(app, demo, camera_ids):
    from backend.extensions import autocommit_engine, db
    from backend.live.models import ViewSession

    camera, other = camera_ids["public"], camera_ids["other"]
    parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))

    def req(token_id, camera_id, school_id, privileged=False):
        request = _request(token_id, camera_id, school_id, privileged, camera_cap=2, school_cap=3)
        request.user_id = parent
        return request

    batch = [req("a", camera, 1), req("b", camera, 1), req("c", camera, 1), req("a", camera, 1),
             req("s", camera, 1, privileged=True), req("d", camera + 1, 1), req("e", other, 2)]
    connection = autocommit_engine().raw_connection()
    try:
        answers = run_batch(connection, batch, 2, 3)
    finally:
        connection.close()
    ids = {r.token_id: r.id for r in db.session.scalars(sa.select(ViewSession))}
    # c: the camera holds a and b (cap 2); a again: reused; s: staff pass the cap but take a seat; d: its camera
    # has room, but the school now holds a, b and s (cap 3); e: another school, its own seats.
    assert answers == [ids["a"], ids["b"], -2, -1, ids["s"], -2, ids["e"]]
    assert set(ids) == {"a", "b", "s", "e"}


class SeatModel:
    """The caps rule judged one play at a time, in arrival order: what every batch's answers must equal."""

    def __init__(self, camera_cap: int, school_cap: int) -> None:
        self.camera_cap, self.school_cap = camera_cap, school_cap
        self.tokens: set[str] = set()
        self.open: dict[str, tuple[int, int]] = {}  # token → (camera, school) of sessions that count

    def seats(self, camera_id: int, school_id: int) -> tuple[int, int]:
        places = list(self.open.values())
        return sum(c == camera_id for c, _ in places), sum(s == school_id for _, s in places)

    def judge(self, token_id: str, camera_id: int, school_id: int, privileged: bool) -> str:
        camera_seats, school_seats = self.seats(camera_id, school_id)
        if not privileged and (camera_seats >= self.camera_cap or school_seats >= self.school_cap):
            return "reused" if token_id in self.tokens else "full"
        if token_id in self.tokens:
            return "reused"
        self.tokens.add(token_id)
        self.open[token_id] = (camera_id, school_id)
        return "opened"

    def fits_whole(self, batch: list[OpenRequest]) -> bool:
        """Whether every camera and school of the batch stays within its cap if all its plays are admitted."""
        if len({r.token_id for r in batch}) < len(batch):
            return False
        for request in batch:
            if request.privileged:
                continue
            camera_seats, school_seats = self.seats(request.camera_id, request.school_id)
            if (camera_seats + sum(r.camera_id == request.camera_id for r in batch) > self.camera_cap
                    or school_seats + sum(r.school_id == request.school_id for r in batch) > self.school_cap):
                return False
        return True


@pytest.mark.skipif(not using_postgresql(), reason="live_open_sessions is PostgreSQL's (SQLite has its own path)")
def test_every_batch_is_answered_as_plays_judged_one_at_a_time(app, demo):
    """Random batches over three cameras of two schools, with players leaving between batches: the batches far
    from the caps (one set-based insert) and those near them (per play) both answer what the model answers."""
    import random

    from backend.extensions import autocommit_engine, db
    from backend.live.models import ViewSession

    rng = random.Random(8)
    model = SeatModel(camera_cap=4, school_cap=6)
    cameras = {101: 1, 102: 1, 201: 2}  # camera → school
    parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))
    # Sessions the media server went silent about: they hold no seat in either path.
    db.session.execute(sa.insert(ViewSession), [
        {"token_id": f"stale{n}", "user_id": parent, "camera_id": 101, "school_id": 1, "privileged": False,
         "protocol": "rtmp", "opened_at": NOW - timedelta(hours=1), "last_seen_at": NOW - timedelta(minutes=5),
         "policy_checked_at": NOW - timedelta(hours=1)} for n in range(6)])
    db.session.commit()
    model.tokens.update(f"stale{n}" for n in range(6))
    issued: list[str] = []
    whole = one_by_one = 0
    connection = autocommit_engine().raw_connection()
    try:
        for _ in range(80):
            batch = []
            for _ in range(rng.randint(1, 6)):
                camera_id = rng.choice(list(cameras))
                token_id = rng.choice(issued) if issued and rng.random() < 0.15 else f"t{len(issued)}"
                issued.append(token_id)
                request = _request(token_id, camera_id, cameras[camera_id], privileged=rng.random() < 0.1,
                                   camera_cap=4, school_cap=6)
                request.user_id = parent
                batch.append(request)
            if model.fits_whole(batch):
                whole += 1
            else:
                one_by_one += 1
            expected = [model.judge(r.token_id, r.camera_id, r.school_id, r.privileged) for r in batch]
            answers = run_batch(connection, batch, 4, 6)
            ids = dict(db.session.execute(sa.select(ViewSession.token_id, ViewSession.id)).all())
            db.session.rollback()
            assert answers == [ids[r.token_id] if outcome == "opened" else -1 if outcome == "reused" else -2
                               for r, outcome in zip(batch, expected, strict=True)]
            for token_id in rng.sample(sorted(model.open), k=min(len(model.open), rng.randint(0, 3))):
                del model.open[token_id]
                db.session.execute(sa.update(ViewSession).where(ViewSession.token_id == token_id)
                                   .values(closed_at=NOW))
            db.session.commit()
    finally:
        connection.close()
    assert whole >= 20 and one_by_one >= 20, (whole, one_by_one)


@pytest.mark.skipif(not using_postgresql(), reason="live_open_sessions is PostgreSQL's (SQLite has its own path)")
def test_a_real_connection_killed_between_plays_is_replaced_and_a_failing_call_raises_the_database_error(app, demo,
                                                                                                      camera_ids):
    from psycopg import errors

    from backend.extensions import autocommit_engine, db
    from backend.live.models import ViewSession

    parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))
    camera = camera_ids["public"]

    def req(token_id):
        request = _request(token_id, camera, 1)
        request.user_id = parent
        return request

    opener = GroupOpener(autocommit_engine().raw_connection)
    first = opener.open(req("k1"))
    kept = opener._connection
    backend_pid = kept.driver_connection.pgconn.backend_pid
    db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
    db.session.commit()
    second = opener.open(req("k2"))  # libpq finds the connection dead: psycopg's OperationalError, one retry
    assert opener._connection is not kept
    assert opener._connection.driver_connection.pgconn.backend_pid != backend_pid
    ids = dict(db.session.execute(sa.select(ViewSession.token_id, ViewSession.id)).all())
    assert (first, second) == (ids["k1"], ids["k2"])
    # A call the database refuses is its own error, raised to the play (not a lost connection: no retry).
    broken = req("k3")
    broken.user_id = 2**40  # out of integer range in the function's cast
    with pytest.raises(errors.NumericValueOutOfRange):
        opener.open(broken)
    assert opener.open(req("k4")) > 0
    opener._connection.invalidate()


def _hammer(openers, cameras, school_id, parent, camera_cap, school_cap, prefix, leave=False):
    """Six threads per opener play the cameras at once, twelve plays each (``leave``: a player leaves every few
    plays meanwhile); a watcher counts the open seats all along. Returns (camera, answer) pairs, the counts the
    watcher saw and the errors raised."""
    from backend.extensions import autocommit_engine

    engine = autocommit_engine()  # the threads have no app context
    start = threading.Barrier(len(openers) * 6 + 1)
    answers: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    seen: list[tuple[int, int, int]] = []
    done = threading.Event()

    def player(opener: GroupOpener, index: int) -> None:
        start.wait(10)
        for n in range(12):
            camera_id = cameras[(index + n) % 2]
            now = datetime.now(UTC)
            request = _request(f"{prefix}{index}-{n}", camera_id, school_id, camera_cap=camera_cap,
                               school_cap=school_cap)
            request.user_id, request.now, request.cutoff = parent, now, now - timedelta(seconds=60)
            try:
                answers.append((camera_id, opener.open(request)))
            except BaseException as exc:  # surfaced by the test
                failures.append(exc)
            if leave and n % 3 == 2:
                with engine.connect() as connection:
                    connection.execute(sa.text(
                        "UPDATE live_view_session SET closed_at = now() WHERE id = (SELECT min(id) FROM "
                        "live_view_session WHERE school_id = :s AND closed_at IS NULL)"), {"s": school_id})

    def watcher() -> None:
        with engine.connect() as connection:
            while not done.is_set():
                seen.append(tuple(connection.execute(sa.text(
                    "SELECT count(*) FILTER (WHERE camera_id = :a), count(*) FILTER (WHERE camera_id = :b), "
                    "count(*) FROM live_view_session WHERE school_id = :s AND closed_at IS NULL"),
                    {"a": cameras[0], "b": cameras[1], "s": school_id}).one()))
                time.sleep(0.001)

    threads = [threading.Thread(target=player, args=(opener, o * 6 + t)) for o, opener in enumerate(openers)
               for t in range(6)]
    watching = threading.Thread(target=watcher)
    for thread in [*threads, watching]:
        thread.start()
    start.wait(10)
    for thread in threads:
        thread.join(60)
    done.set()
    watching.join(10)
    return answers, seen, failures


@pytest.mark.skipif(not using_postgresql(), reason="live_open_sessions is PostgreSQL's (SQLite has its own path)")
def test_several_processes_hammering_two_cameras_of_a_school_at_their_caps_never_admit_beyond_them(app, demo):
    """Four openers (four api processes, each its own connection) with six threads each play two cameras of one
    school at once. Filling up, the answers are exact: the school's seats are all taken, none beyond a camera's
    or the school's cap. Then with players leaving meanwhile, a watcher counting the open seats all along never
    sees more than the caps."""
    from backend.extensions import autocommit_engine, db
    from backend.live.models import ViewSession

    camera_cap, school_cap = 5, 8
    cameras = (9001, 9002)
    parent = db.session.scalar(sa.text("SELECT id FROM user_account WHERE openid='demo-parent-1'"))
    openers = [GroupOpener(autocommit_engine().raw_connection) for _ in range(4)]
    try:
        answers, seen, failures = _hammer(openers, cameras, 1, parent, camera_cap, school_cap, "fill")
        assert failures == [] and len(answers) == 4 * 6 * 12
        opened = [(camera_id, answer) for camera_id, answer in answers if answer > 0]
        assert all(answer == -2 for _, answer in answers if answer <= 0)  # refused as full, never as reused
        rows = dict(db.session.execute(sa.select(ViewSession.id, ViewSession.camera_id)).all())
        db.session.rollback()
        assert sorted(rows.items()) == sorted((answer, camera_id) for camera_id, answer in opened)
        per_camera = [sum(camera_id == c for camera_id, _ in opened) for c in cameras]
        # As if judged one at a time: the school fills to its cap (8), no camera goes beyond its own (5).
        assert len(opened) == school_cap and max(per_camera) <= camera_cap, per_camera
        assert seen and all(a <= camera_cap and b <= camera_cap and n <= school_cap for a, b, n in seen)

        answers, seen, failures = _hammer(openers, cameras, 1, parent, camera_cap, school_cap, "churn", leave=True)
        assert failures == [] and any(answer > 0 for _, answer in answers)
        assert all(a <= camera_cap and b <= camera_cap and n <= school_cap for a, b, n in seen), seen
    finally:
        for opener in openers:
            if opener._connection is not None:
                opener._connection.close()
