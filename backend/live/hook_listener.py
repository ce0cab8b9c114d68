"""A minimal HTTP/1.x listener for the media server's hooks (/internal/media/* only), inside each api worker.

The hooks are machine calls in a fixed protocol on an internal port: nginx-rtmp's notify client sends HTTP/1.0
with a Content-Length and closes; nginx's ``auth_request`` sends HTTP/1.0 (HTTP/1.1, kept alive, with an upstream
``keepalive``). Through gunicorn a hook paid for its general-purpose request machinery (its pure-Python parser,
the gthread worker's accept/epoll/queue hand-off, a full WSGI environ) about as much as for its own work,
database included (``bench/live.py``). Here each thread of a fixed pool accepts on the listening socket itself
and serves that connection with blocking reads until it closes: no hand-off between threads, a request head
parsed with a few ``split`` calls, and the few environ keys the gateway reads. Every request goes to the SAME
:class:`backend.live.gateway.MediaHookGateway` that answers these paths on the api's own port (one implementation
of each hook); a path that is not a hook gets a 404 here instead of going on to Flask.

Limits (every refusal in the API's error shape, then the connection is closed): a request head of at most
:data:`MAX_HEAD` bytes (431), a body of at most ``media.MAX_HOOK_BODY`` (413), a POST must declare its
Content-Length (411; chunked bodies are refused too), a malformed request line or header 400, a request whose
head and body do not arrive within ``read_timeout`` seconds of its first byte 408 (a slow client holds one
thread that long at most), and at most ``connections`` connections served at once per process (more wait in
the kernel's accept queue). A kept-alive connection idle for ``idle_timeout`` seconds is closed.

gunicorn starts one listener in every worker (backend/live/gunicorn_conf.py) on MEDIA_HOOK_LISTEN, each worker
binding its own socket with SO_REUSEPORT: the kernel spreads new connections over the workers, and a worker's
listener starts and stops with it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask

from backend.errors import HTTP_STATUS_ERRORS, error_body
from backend.integrations import media
from backend.live.gateway import HOOK_BODY_TOO_LARGE, MediaHookGateway

log = logging.getLogger(__name__)

MAX_HEAD = 8 * 1024  # request line and headers; a hook's head is a few hundred bytes
READ_TIMEOUT = 10.0  # seconds from a request's first byte to its last
IDLE_TIMEOUT = 15.0  # seconds a kept-alive connection may wait for its next request (it holds a thread meanwhile)
_READ_CHUNK = 64 * 1024
Request = tuple[bytes, bytes, bytes, dict[bytes, bytes], bytes]  # method, target, version, headers, body


class _Refuse(Exception):
    """A request the listener answers itself with ``status``, then closes the connection."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def error_response(status: int) -> bytes:
    """A whole HTTP response refusing a request with ``status``, in the API's error shape (connection closed)."""
    code, message = HOOK_BODY_TOO_LARGE if status == 413 else HTTP_STATUS_ERRORS.get(status, ("error", "请求失败"))
    body = _json(error_body(status, code, message))
    return (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("latin-1") + body


def _not_found(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """What the gateway passes on here: any path that is not one of its hooks."""
    code, message = HTTP_STATUS_ERRORS[404]
    body = _json(error_body(404, code, message))
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class _StartResponse:
    """Keeps the status and headers the gateway gives ``start_response``."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status = "500 Internal Server Error"
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        self.status = status
        self.headers = headers


class HookListener:
    """Serves /internal/media/* of ``app`` on ``sock`` (bound and listening) with ``connections`` threads."""

    def __init__(self, app: Flask, sock: socket.socket, *, connections: int = 32,
                 read_timeout: float = READ_TIMEOUT, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.gateway: Any = MediaHookGateway(app, _not_found)
        self.sock = sock
        self.connections = connections
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.address: tuple[str, int] = sock.getsockname()[:2]
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def start(self) -> HookListener:
        """Start the threads (daemons: they never keep the process alive)."""
        for index in range(self.connections):
            thread = threading.Thread(target=self._accept_loop, name=f"media-hook-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("media hook listener on %s:%s (%d connections)", *self.address, self.connections)
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let requests being answered finish (up to ``grace`` seconds), close idle connections."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes every thread blocked in accept()
        with self._open_lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RD)  # a thread waiting for a next request reads its end
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.sock.close()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                conn, address = self.sock.accept()
            except OSError:
                if self._stopping:
                    return
                log.exception("media hook listener: accept failed")
                time.sleep(0.1)  # out of file descriptors and the like: do not spin
                continue
            with self._open_lock:
                self._open.add(conn)
            try:
                self._serve(conn, address[0])
            except Exception:  # a broken connection must never end the thread
                log.exception("media hook listener: connection failed")
            finally:
                with self._open_lock:
                    self._open.discard(conn)
                with contextlib.suppress(OSError):
                    conn.close()

    def _serve(self, conn: socket.socket, remote: str) -> None:
        """Answer the requests of one connection until it closes, must close, or idles too long."""
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while not self._stopping:
            try:
                request, buffer = self._read_request(conn, buffer)
            except _Refuse as refusal:
                with contextlib.suppress(OSError):
                    conn.sendall(error_response(refusal.status))
                return
            except OSError:
                return  # reset by the client, or idle too long between requests
            if request is None:
                return  # the client closed between requests
            keep_alive = _keep_alive(request[2], request[3]) and not self._stopping
            answer = self._respond(request, remote, keep_alive)
            try:
                conn.sendall(answer)
            except OSError:
                return  # the client went away, or does not read its answer
            if not keep_alive:
                return

    def _read_request(self, conn: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
        """One request from ``conn`` (None when the client closed before a next one), and the bytes after it."""
        deadline = time.monotonic() + self.read_timeout if buffer else None
        if deadline is None:
            conn.settimeout(self.idle_timeout)
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(buffer) > MAX_HEAD:
                raise _Refuse(431)
            chunk = self._recv(conn, deadline)
            if not chunk:
                if buffer:
                    raise _Refuse(400)  # closed in the middle of a head
                return None, b""
            if deadline is None:
                # The request has begun: from its first byte it has read_timeout seconds to arrive whole.
                deadline = time.monotonic() + self.read_timeout
            buffer += chunk
            end = buffer.find(b"\r\n\r\n", max(0, len(buffer) - len(chunk) - 3))
        if end > MAX_HEAD:
            raise _Refuse(431)
        method, target, version, headers = _parse_head(buffer[:end])
        length = _body_length(method, headers)
        rest = buffer[end + 4:]
        if len(rest) < length and headers.get(b"expect", b"").lower() == b"100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        while len(rest) < length:
            chunk = self._recv(conn, deadline)
            if not chunk:
                raise _Refuse(400)  # closed in the middle of a body
            rest += chunk
        return (method, target, version, headers, rest[:length]), rest[length:]

    def _recv(self, conn: socket.socket, deadline: float | None) -> bytes:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Refuse(408)
            conn.settimeout(remaining)  # the whole request's time, however the client trickles it
        try:
            return conn.recv(_READ_CHUNK)
        except TimeoutError:
            if deadline is None:
                raise  # idle between requests: the connection just closes
            raise _Refuse(408) from None

    def _respond(self, request: Request, remote: str, keep_alive: bool) -> bytes:
        """The gateway's whole answer to ``request``, as bytes to send."""
        method, target, _version, headers, body = request
        path, _, query = target.partition(b"?")
        if b"%" in path:
            path = unquote_to_bytes(path)
        # The keys MediaHookGateway and HookRequest read, as a WSGI server would give them.
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method.decode("latin-1"),
            "PATH_INFO": path.decode("latin-1"),
            "QUERY_STRING": query.decode("latin-1"),
            "REMOTE_ADDR": remote,
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in headers.items():
            if name == b"content-length":
                environ["CONTENT_LENGTH"] = value.decode("latin-1")
            elif name == b"content-type":
                environ["CONTENT_TYPE"] = value.decode("latin-1")
            else:
                environ["HTTP_" + name.decode("latin-1").upper().replace("-", "_")] = value.decode("latin-1")
        start_response = _StartResponse()
        payload = b"".join(self.gateway(environ, start_response))
        head = [f"HTTP/1.1 {start_response.status}", *(f"{n}: {v}" for n, v in start_response.headers),
                "Connection: keep-alive" if keep_alive else "Connection: close"]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload


def _parse_head(head: bytes) -> tuple[bytes, bytes, bytes, dict[bytes, bytes]]:
    """Request line and headers (names lower-cased); 400 when malformed, 505 for another HTTP version."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[0].isupper() or not parts[1].startswith(b"/"):
        raise _Refuse(400)
    method, target, version = parts
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise _Refuse(505 if version.startswith(b"HTTP/") else 400)
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or b" " in name or b"\t" in name:
            raise _Refuse(400)  # also obsolete line folding (a line starting with a space)
        name, value = name.lower(), value.strip()
        if name in headers:
            if name == b"content-length" and headers[name] != value:
                raise _Refuse(400)
            value = headers[name] + b", " + value
        headers[name] = value
    return method, target, version, headers


def _body_length(method: bytes, headers: dict[bytes, bytes]) -> int:
    """The declared body length: a POST must declare one, never chunks; at most ``media.MAX_HOOK_BODY``."""
    if b"transfer-encoding" in headers:
        raise _Refuse(411)  # hook bodies are small: a declared length, never chunks
    declared = headers.get(b"content-length")
    if declared is None:
        if method == b"POST":
            raise _Refuse(411)
        return 0
    if not declared.isdigit():
        raise _Refuse(400)
    if int(declared) > media.MAX_HOOK_BODY:
        raise _Refuse(413)
    return int(declared)


def _keep_alive(version: bytes, headers: dict[bytes, bytes]) -> bool:
    connection = headers.get(b"connection", b"").lower()
    if version == b"HTTP/1.1":
        return b"close" not in connection
    return b"keep-alive" in connection


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; an empty host is every IPv4 address) as (host, port); ValueError when not."""
    host, colon, port = value.strip().rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"MEDIA_HOOK_LISTEN must be host:port, not {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def bind(host: str, port: int, *, reuse_port: bool = True, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket; with ``reuse_port`` every worker binds its own on the same port (SO_REUSEPORT)
    and the kernel spreads new connections over them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def start_for(app: Flask) -> HookListener | None:
    """Start the listener of this process on the app's MEDIA_HOOK_LISTEN (None when it is not set)."""
    listen = app.config.get("MEDIA_HOOK_LISTEN")
    if not listen:
        return None
    host, port = parse_listen(listen)
    connections = int(app.config.get("MEDIA_HOOK_CONNECTIONS") or 32)
    if not 1 <= connections <= 1024:
        raise ValueError("MEDIA_HOOK_CONNECTIONS must be 1..1024")
    return HookListener(app, bind(host, port), connections=connections).start()


def hook_base(config: dict[str, Any]) -> str | None:
    """The URL a media server on this host sends its hooks to: the listener's (loopback when it listens on every
    address), or None when MEDIA_HOOK_LISTEN is not set."""
    listen = config.get("MEDIA_HOOK_LISTEN")
    if not listen:
        return None
    host, port = parse_listen(listen)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else \
        f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}"
