"""The media hook listener (backend/live/hook_listener.py): the gateway's hooks on a minimal HTTP/1.x server,
over real sockets on loopback, and inside real gunicorn workers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.integrations import media
from backend.live import hook_listener
from backend.live.hook_listener import HookListener, bind
from backend.live.mediaconf import default_variables
from backend.live.models import ViewSession
from tests.live.conftest import ALL_DAY, HOOK_SECRET, mark_all_live, set_live_windows
from tests.support.net import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live(demo, clock, camera_ids):
    set_live_windows(1, ALL_DAY)
    return mark_all_live(camera_ids, clock.now)


@pytest.fixture
def listener(app):
    """A listener of the app with short timeouts and two connections at once, so limits show quickly."""
    started = HookListener(app, bind("127.0.0.1", 0, reuse_port=False), connections=2, read_timeout=0.5,
                           idle_timeout=1.0).start()
    yield started
    started.stop()


def _connect(address: tuple[str, int]) -> socket.socket:
    return socket.create_connection(address, timeout=20)


def _address(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname, parts.port


def _request(method: str, target: str, body: bytes = b"", *, version: str = "HTTP/1.1",
             headers: dict[str, str] | None = None) -> bytes:
    fields = {"Host": "api", **({"Content-Type": "application/x-www-form-urlencoded",
                                 "Content-Length": str(len(body))} if method == "POST" else {}), **(headers or {})}
    head = f"{method} {target} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode() + body


def _form(**fields: object) -> bytes:
    return urlencode({"app": "live", "addr": "127.0.0.1", "clientid": "1", "flashver": "LNX 9,0,124,2",
                      **{k: str(v) for k, v in fields.items()}}).encode()


class _Reader:
    """Reads whole responses (by their Content-Length) from one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed before a response: {self.buffer!r}"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed in a body"
            self.buffer += chunk
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split(" ")[1]), headers, body

    def closed(self) -> bool:
        """Whether the server closed the connection (the next read is its end)."""
        return self.sock.recv(1) == b""


def _exchange(address: tuple[str, int], raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Send ``raw`` on a new connection; the one response (the server must close after it)."""
    with _connect(address) as sock:
        sock.sendall(raw)
        reader = _Reader(sock)
        status, headers, body = reader.response()
        assert headers["connection"] == "close" and reader.closed()
    return status, headers, json.loads(body)


def _token(client, as_user, openid, camera_id):
    response = client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=as_user(openid))
    assert response.status_code == 200, response.json
    return parse_qs(urlsplit(response.json["rtmp_url"]).query)["token"][0]


def _open_sessions():
    db.session.rollback()
    return db.session.scalars(sa.select(ViewSession).order_by(ViewSession.id)).all()


# --- the same hooks -------------------------------------------------------------------------------------------

def test_on_play_through_the_listener_opens_a_session_as_through_the_api(listener, client, as_user, live, clock):
    camera = live["public"]
    through_listener = _token(client, as_user, "demo-parent-1", camera)
    through_api = _token(client, as_user, "demo-parent-1", camera)
    # As nginx-rtmp's notify client sends it: HTTP/1.0, a Content-Length, the server closes.
    status, _, body = _exchange(listener.address, _request(
        "POST", f"/internal/media/on_play?secret={HOOK_SECRET}",
        _form(call="play", name=f"cam-{camera}", token=through_listener, clientid="11", addr="36.1.2.3"),
        version="HTTP/1.0"))
    assert (status, body) == (200, {"allowed": True})
    response = client.post(f"/internal/media/on_play?secret={HOOK_SECRET}", data={k: v[0] for k, v in parse_qs(
        _form(call="play", name=f"cam-{camera}", token=through_api, clientid="12", addr="36.1.2.3").decode()).items()})
    assert response.status_code == 200
    first, second = _open_sessions()
    fields = ("camera_id", "school_id", "protocol", "client_addr", "privileged", "closed_at", "opened_at")
    assert [getattr(first, name) for name in fields] == [getattr(second, name) for name in fields]
    assert (first.camera_id, first.media_client_id, second.media_client_id) == (camera, "11", "12")
    # One session per token, whichever way the play came: the api's path refuses the listener's token again.
    again = client.post(f"/internal/media/on_play?secret={HOOK_SECRET}",
                        data={"app": "live", "call": "play", "name": f"cam-{camera}", "token": through_listener,
                              "clientid": "13"})
    assert (again.status_code, again.json["error"]["details"]["reason"]) == (403, "session_reused")
    status, _, body = _exchange(listener.address, _request(
        "POST", f"/internal/media/on_play?secret={HOOK_SECRET}",
        _form(call="play", name=f"cam-{camera}", token=through_api, clientid="14"), version="HTTP/1.0"))
    assert (status, body["error"]["details"]["reason"]) == (403, "session_reused")
    assert len(_open_sessions()) == 2


def test_http11_keeps_the_connection_for_several_requests_and_closes_when_asked(listener, demo):
    done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"))
    with _connect(listener.address) as sock:
        reader = _Reader(sock)
        for _ in range(3):
            sock.sendall(done)
            status, headers, body = reader.response()
            assert (status, headers["connection"], json.loads(body)) == (200, "keep-alive", {"allowed": True})
        # Two requests in one write (pipelined), the second a refusal: both answered, in order.
        sock.sendall(done + _request("GET", "/internal/media/hls_auth?secret=wrong"))
        assert reader.response()[0] == 200
        status, headers, body = reader.response()
        assert (status, json.loads(body)["error"]["code"], headers["connection"]) == (
            403, "media_hook_unauthorized", "keep-alive")
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"),
                              headers={"Connection": "close"}))
        status, headers, _ = reader.response()
        assert (status, headers["connection"], reader.closed()) == (200, "close", True)


def test_head_is_answered_without_a_body(listener, demo):
    with _connect(listener.address) as sock:
        sock.sendall(_request("HEAD", "/internal/media/hls_auth?secret=wrong", version="HTTP/1.0"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 403 ") and b"Content-Length: " in head and body == b""


def test_http10_closes_unless_asked_to_keep_alive(listener, demo):
    done = _form(call="done", name="cam-1")
    with _connect(listener.address) as sock:
        reader = _Reader(sock)
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", done, version="HTTP/1.0",
                              headers={"Connection": "keep-alive"}))
        assert reader.response()[1]["connection"] == "keep-alive"
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", done, version="HTTP/1.0"))
        status, headers, _ = reader.response()
        assert (status, headers["connection"], reader.closed()) == (200, "close", True)


def test_a_closing_http11_request_is_answered_then_the_connection_closes(listener, demo):
    status, _, body = _exchange(listener.address, _request(
        "POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"),
        headers={"Connection": "close"}))
    assert (status, body) == (200, {"allowed": True})


# --- what it refuses, in the API's error shape -----------------------------------------------------------------

def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"code": code, "message": message, "details": {}}}


def _refused(address, raw: bytes) -> tuple[int, dict]:
    status, headers, body = _exchange(address, raw)
    assert headers["content-type"] == "application/json"
    return status, body


@pytest.mark.parametrize(("raw", "expected"), [
    (_request("GET", "/internal/media/hls_auth", headers={"X-Pad": "x" * hook_listener.MAX_HEAD}),
     _error(431, "headers_too_large", "请求头过大")),
    (_request("POST", f"/internal/media/on_play?secret={HOOK_SECRET}", b"x" * (media.MAX_HOOK_BODY + 1)),
     _error(413, "payload_too_large", "回调内容过大")),
    (b"POST /internal/media/on_play HTTP/1.1\r\nHost: api\r\n\r\ncall=play",
     _error(411, "length_required", "请求须声明 Content-Length")),
    (b"POST /internal/media/on_play HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ncall=play\r\n0\r\n\r\n",
     _error(411, "length_required", "请求须声明 Content-Length")),
    (b"POST /internal/media/on_play HTTP/1.1\r\nContent-Length: nine\r\n\r\ncall=play",
     _error(400, "bad_request", "请求格式不正确")),
    (b"POST /internal/media/on_play HTTP/1.1\r\nContent-Length: 9\r\nContent-Length: 10\r\n\r\ncall=play",
     _error(400, "bad_request", "请求格式不正确")),
    (b"hello\r\n\r\n", _error(400, "bad_request", "请求格式不正确")),
    (b"GET /internal/media/hls_auth HTTP/1.1 extra\r\n\r\n", _error(400, "bad_request", "请求格式不正确")),
    (b"GET http://api/internal/media/hls_auth HTTP/1.1\r\n\r\n", _error(400, "bad_request", "请求格式不正确")),
    (b"GET /internal/media/hls_auth HTTP/1.1\r\nno colon here\r\n\r\n", _error(400, "bad_request", "请求格式不正确")),
    (b"GET /internal/media/hls_auth HTTP/2.0\r\n\r\n",
     _error(505, "http_version_not_supported", "不支持该 HTTP 版本")),
], ids=["headers-too-large", "body-too-large", "no-length", "chunked", "bad-length", "two-lengths",
        "bad-request-line", "four-part-request-line", "absolute-target", "bad-header", "http2"])
def test_requests_it_cannot_read_are_refused_and_the_connection_closed(listener, demo, raw, expected):
    assert _refused(listener.address, raw) == expected


def test_only_the_hooks_are_served_every_other_path_is_404(listener, demo):
    """Nothing reaches Flask from here: the API's own routes and unknown hooks alike are 404 (the connection lives)."""
    with _connect(listener.address) as sock:
        reader = _Reader(sock)
        for raw in (_request("GET", "/healthz"), _request("POST", "/api/v1/auth/dev-login", b'{"openid": "x"}'),
                    _request("POST", f"/internal/media/on_connect?secret={HOOK_SECRET}", _form(call="connect")),
                    _request("GET", "/internal/media/")):
            sock.sendall(raw)
            status, _, body = reader.response()
            assert (status, json.loads(body)) == _error(404, "not_found", "请求的资源不存在")
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="c")))
        assert reader.response()[0] == 200


def test_a_wrong_hook_secret_is_refused_as_through_the_api(listener, client, demo):
    raw = _request("POST", "/internal/media/on_play?secret=wrong", _form(call="play", name="cam-1", token="x"))
    status, _, body = _exchange(listener.address, raw.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
    through_api = client.post("/internal/media/on_play?secret=wrong", data={"call": "play", "name": "cam-1"})
    assert (status, body) == (403, through_api.json)
    assert body["error"]["code"] == "media_hook_unauthorized"
    # The secret may come as a header, as through the api.
    status, _, body = _exchange(listener.address, _request(
        "POST", "/internal/media/on_done", _form(call="done", name="cam-1"),
        headers={"X-Media-Hook-Secret": HOOK_SECRET, "Connection": "close"}))
    assert (status, body) == (200, {"allowed": True})


def test_a_hook_called_with_another_method_is_405_as_through_the_api(listener, client, demo):
    with _connect(listener.address) as sock:
        sock.sendall(_request("POST", f"/internal/media/hls_auth?secret={HOOK_SECRET}", b""))
        status, headers, body = _Reader(sock).response()
    through_api = client.post(f"/internal/media/hls_auth?secret={HOOK_SECRET}")
    assert (status, headers["allow"], json.loads(body)) == (405, "GET, HEAD", through_api.json)


# --- slow clients, the bound on connections, shutdown ----------------------------------------------------------

def test_a_slow_client_times_out_without_blocking_other_requests(listener, demo):
    done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"))
    with _connect(listener.address) as slow:
        slow.sendall(done[:20])  # the request begins, and then nothing more comes
        slow_reader = _Reader(slow)
        # Meanwhile another client is answered, while the slow one is still waiting for its answer.
        with _connect(listener.address) as other:
            other.sendall(done)
            assert _Reader(other).response()[0] == 200
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):
            slow.recv(1)
        slow.setblocking(True)
        status, _, body = slow_reader.response()
        assert (status, json.loads(body)["error"]["code"]) == (408, "request_timeout")
        assert slow_reader.closed()


def test_a_body_that_stops_arriving_times_out(listener, demo):
    done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"))
    with _connect(listener.address) as slow:
        slow.sendall(done[:-3])
        status, _, body = _Reader(slow).response()
    assert (status, json.loads(body)["error"]["code"]) == (408, "request_timeout")


def test_a_client_trickling_its_request_gets_no_more_time_than_a_silent_one(listener, demo):
    """Each byte comes well within the read timeout, the whole request never: refused all the same."""
    done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"))
    with _connect(listener.address) as slow:
        slow.settimeout(0.15)
        received = b""
        for byte in done[:-1]:
            slow.sendall(bytes([byte]))
            try:
                received = slow.recv(65536)
            except TimeoutError:
                continue
            break
        assert received.startswith(b"HTTP/1.1 408 "), received


def test_an_idle_kept_alive_connection_is_closed(listener, demo):
    with _connect(listener.address) as sock:
        reader = _Reader(sock)
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}",
                              _form(call="done", name="cam-1")))
        assert reader.response()[1]["connection"] == "keep-alive"
        assert reader.closed()  # after idle_timeout without a next request, without an answer


def test_connections_beyond_the_bound_wait_for_a_free_thread(app, demo):
    one = HookListener(app, bind("127.0.0.1", 0, reuse_port=False), connections=1, idle_timeout=30).start()
    done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"))
    try:
        with _connect(one.address) as first, _connect(one.address) as second:
            first.sendall(done)
            assert _Reader(first).response()[0] == 200  # kept alive: it holds the only thread
            second.sendall(done)
            second.settimeout(0.5)
            with pytest.raises(TimeoutError):
                second.recv(1)
            second.settimeout(20)
            first.close()  # its thread is free again
            assert _Reader(second).response()[0] == 200
    finally:
        one.stop()


def test_stop_closes_idle_connections_and_refuses_new_ones(app, demo):
    stopping = HookListener(app, bind("127.0.0.1", 0, reuse_port=False), connections=2, idle_timeout=30).start()
    address = stopping.address
    with _connect(address) as sock:
        reader = _Reader(sock)
        sock.sendall(_request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}",
                              _form(call="done", name="cam-1")))
        assert reader.response()[0] == 200
        stopping.stop()
        assert reader.closed()
    assert not any(thread.is_alive() for thread in stopping._threads)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5)


# --- configuration ---------------------------------------------------------------------------------------------

def test_listen_addresses_and_the_media_servers_hook_base():
    assert hook_listener.parse_listen("0.0.0.0:8001") == ("0.0.0.0", 8001)
    assert hook_listener.parse_listen(":8001") == ("0.0.0.0", 8001)
    assert hook_listener.parse_listen("[::1]:8001") == ("::1", 8001)
    for wrong in ("8001", "api:port", "127.0.0.1:0", "127.0.0.1:70000"):
        with pytest.raises(ValueError):
            hook_listener.parse_listen(wrong)
    assert hook_listener.hook_base({"MEDIA_HOOK_LISTEN": "0.0.0.0:8001"}) == "http://127.0.0.1:8001"
    assert hook_listener.hook_base({"MEDIA_HOOK_LISTEN": "10.0.0.5:8001"}) == "http://10.0.0.5:8001"
    assert hook_listener.hook_base({"MEDIA_HOOK_LISTEN": "[::]:8001"}) == "http://[::1]:8001"
    assert hook_listener.hook_base({}) is None


def test_the_media_config_sends_the_hooks_to_the_listener_when_there_is_one(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "MEDIA_HOOK_SECRET": "s"}
    assert default_variables(config)["API_HOOK_BASE"] == "http://127.0.0.1:5000"  # the api's port (flask run)
    assert default_variables({**config, "MEDIA_HOOK_LISTEN": "0.0.0.0:8001"})["API_HOOK_BASE"] == \
        "http://127.0.0.1:8001"


def test_no_listener_without_its_setting(app):
    assert hook_listener.start_for(app) is None


# --- inside gunicorn -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_every_gunicorn_worker_runs_a_listener_and_stops_it_with_itself(app, db_url, tmp_path, demo):
    """The production path: docker/entrypoint.sh's config module, two workers sharing the port (SO_REUSEPORT)."""
    api_port, hook_port = free_port(), free_port()
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": app.config["SECRET_KEY"],
           "INSTANCE_PATH": str(tmp_path / "instance"), "MEDIA_HOOK_SECRET": HOOK_SECRET, "REDIS_URL": "",
           "RATELIMIT_STORAGE_URI": "memory://", "MEDIA_HOOK_LISTEN": f"127.0.0.1:{hook_port}",
           "WECHAT_APPID": "wx_test_appid", "WECHAT_SECRET": "test_wechat_secret"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{api_port}",
                               "--workers", "2", "--worker-class", "gthread", "--threads", "2",
                               "--config", "python:backend.live.gunicorn_conf", "backend.app:create_app()"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        done = _request("POST", f"/internal/media/on_done?secret={HOOK_SECRET}", _form(call="done", name="cam-1"),
                        version="HTTP/1.0")

        def answers() -> bool:
            try:
                return _exchange(("127.0.0.1", hook_port), done)[0] == 200
            except OSError:
                return False

        wait_for(answers, 120, "the hook listener of a gunicorn worker to answer")
        workers = {int(pid) for pid in subprocess.check_output(["pgrep", "-P", str(server.pid)], text=True).split()}
        assert len(workers) == 2
        # Each worker listens on the port itself.
        wait_for(lambda: all(_listens(pid, hook_port) for pid in workers), 60, "both workers to listen")
        assert _exchange(("127.0.0.1", hook_port), done.replace(HOOK_SECRET.encode(), b"wrong"))[0] == 403
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", hook_port), timeout=5)


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on ``port`` (from /proc: its fds' inodes in tcp's table)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with_target = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.exists(f"/proc/{pid}/fd/{fd}") else ""
        if with_target.startswith("socket:["):
            inodes.add(with_target[8:-1])
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(row[3] == "0A" and int(row[1].split(":")[1], 16) == port and row[9] in inodes for row in rows)

