"""An IP camera's HTTP snapshot endpoint on loopback (ONVIF-style ``GET /snapshot.jpg``), over real HTTP.

Authentication is the camera's: none, HTTP basic (RFC 7617) or HTTP digest (RFC 7616: MD5, ``qop=auth``).
Digest is checked the way a camera must, not just looked for: the server issues random nonces (with an
``opaque``), recomputes the response hash from the stored password for the request's method and URI,
refuses a nonce it never issued or that expired (a correct hash with such a nonce gets ``stale=true``,
as RFC 7616 section 3.3 says) and refuses a nonce count that does not increase (a replayed header).

What the tests look at: ``requests`` (every request), ``unauthorized`` (401 answers), ``auth_seen`` (the
scheme of each request's Authorization header, ``"none"`` when it had none), ``replays`` and ``bad_hashes``.
What they change: ``body``, ``status``, ``delay`` (seconds before answering) and ``dribble`` (seconds
between the body's bytes, for a camera that answers but too slowly).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.request import parse_http_list, parse_keqv_list

REALM = "IP Camera(C1234)"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer (a read that timed out) is routine here; anything else is not."""
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class SnapshotCamera:
    """A running snapshot endpoint on an ephemeral loopback port (use as a context manager)."""

    def __init__(self, user: str | None = None, password: str | None = None, auth: str = "basic",
                 body: bytes = b"", nonce_lifetime: float = 300.0) -> None:
        if auth not in ("basic", "digest"):
            raise ValueError(auth)
        self.user, self.password, self.auth = user, password, auth
        self.body = body
        self.status = 200
        self.delay = 0.0
        self.dribble = 0.0
        self.nonce_lifetime = nonce_lifetime
        self.requests = 0
        self.unauthorized = 0
        self.replays = 0
        self.bad_hashes = 0
        self.auth_seen: list[str] = []
        self.opaque = secrets.token_hex(16)
        self._nonces: dict[str, dict[str, float]] = {}  # nonce -> issued at, highest nonce count seen
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as cameras do

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                camera.handle(self)

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port: int = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/snapshot.jpg"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="snapshot-camera", daemon=True)

    # --- authentication ----------------------------------------------------------------------------------

    def _new_nonce(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = {"issued": time.monotonic(), "nc": 0}
        return nonce

    def expire_nonces(self) -> None:
        """Forget every nonce issued so far (what a camera does when its nonces time out)."""
        with self._lock:
            self._nonces.clear()

    def _challenge(self, stale: bool = False) -> str:
        if self.auth == "basic":
            return f'Basic realm="{REALM}"'
        return (f'Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{self._new_nonce()}", '
                f'opaque="{self.opaque}"' + (", stale=true" if stale else ""))

    def _check_basic(self, credentials: str) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return hmac.compare_digest(credentials.strip(), expected)

    def _check_digest(self, method: str, target: str, credentials: str) -> str:
        """``"ok"``, ``"stale"`` (right password, unknown or expired nonce) or ``"refused"``."""
        fields = parse_keqv_list(parse_http_list(credentials))
        needed = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if any(name not in fields for name in needed):
            return "refused"
        if (fields["username"] != self.user or fields["realm"] != REALM or fields["uri"] != target
                or fields["qop"] != "auth" or fields.get("opaque") != self.opaque
                or fields.get("algorithm", "MD5").upper() != "MD5"):
            return "refused"
        try:
            count = int(fields["nc"], 16)
        except ValueError:
            return "refused"
        ha1 = _md5(f"{self.user}:{REALM}:{self.password}")
        ha2 = _md5(f"{method}:{target}")
        expected = _md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
        if not hmac.compare_digest(expected, fields["response"].lower()):
            self.bad_hashes += 1
            return "refused"
        with self._lock:
            state = self._nonces.get(fields["nonce"])
            if state is None or time.monotonic() - state["issued"] > self.nonce_lifetime:
                self._nonces.pop(fields["nonce"], None)
                return "stale"
            if count <= state["nc"]:
                self.replays += 1
                return "refused"
            state["nc"] = count
        return "ok"

    def _authorised(self, handler: BaseHTTPRequestHandler) -> tuple[bool, bool]:
        """(allowed, stale) for this request; records which scheme the client used."""
        header = handler.headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        self.auth_seen.append(scheme.lower() or "none")
        if not self.user:
            return True, False
        if scheme.lower() != self.auth:
            return False, False
        if self.auth == "basic":
            return self._check_basic(credentials), False
        verdict = self._check_digest(handler.command, handler.path, credentials)
        return verdict == "ok", verdict == "stale"

    # --- answering ---------------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one GET."""
        self.requests += 1
        allowed, stale = self._authorised(handler)
        if not allowed:
            self.unauthorized += 1
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", self._challenge(stale))
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.delay and self._stopping.wait(self.delay):
            return
        body = self.body
        handler.send_response(self.status)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not self.dribble:
            handler.wfile.write(body)
            return
        for index in range(len(body)):
            if self._stopping.wait(self.dribble):
                return
            try:
                handler.wfile.write(body[index:index + 1])
                handler.wfile.flush()
            except OSError:
                return  # the client gave up

    def __enter__(self) -> SnapshotCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)
