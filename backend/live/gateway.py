"""The media server's hooks under /internal/media, answered in front of the API's Flask stack.

The hooks are machine calls in a fixed protocol, and they are the busiest requests the api gets: a play, each
player's ``on_update`` every few seconds, and nginx's ``auth_request`` for every HLS playlist and segment of
every viewer. None of them needs what the public API's request machinery does on each request (matching
against every API route, the rate limiter, the cookie session, APIFlask's response processing), and that
machinery costs about as much as a hook's own work, database round trip included (``bench/live.py``). So this
WSGI layer answers them itself, inside an app context (the database session is removed when it ends, as after
any request), except the usual ``on_play``, answered without one (:func:`prompt_play`); every other path goes
on to Flask unchanged.

Every hook accepts only the media server: MEDIA_HOOK_SECRET (``?secret=`` in the hook URL, or the
``X-Media-Hook-Secret`` header) or, when MEDIA_HOOK_TRUST_LOOPBACK is on, a call from the loopback address.
It answers 2xx to allow and 403 to refuse, in the API's one error shape (ZLMediaKit's hooks in the
``{"code", "msg"}`` shape it reads). What is allowed is decided in backend/live/hooks.py.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from backend.errors import HTTP_STATUS_ERRORS, ApiError, error_body
from backend.extensions import db
from backend.integrations import media
from backend.live import hooks, sessions
from backend.live.settings import LiveSettings, live_settings
from backend.openapi_components import add_spec_processor
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

PREFIX = "/internal/media/"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Answer = tuple[int, dict[str, Any]]
# A hook's body over media.MAX_HOOK_BODY (also refused so by the hook listener, backend/live/hook_listener.py).
HOOK_BODY_TOO_LARGE = ("payload_too_large", "回调内容过大")
# The answer of nearly every hook call, and its bytes, made once.
ALLOWED = {"allowed": True}
ALLOWED_BODY = b'{"allowed":true}'


class HookRequest:
    """What a hook may read of one WSGI request."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()
        self.path: str = environ.get("PATH_INFO", "")
        self.remote_addr: str | None = environ.get("REMOTE_ADDR")
        # WSGI hands the query over as latin-1 text of the raw bytes; the hook's values are UTF-8.
        self.query = media.parse_form(environ.get("QUERY_STRING", "").encode("latin-1"))
        # Headers a handler adds to its answer (hls_auth: how long nginx may cache an allow).
        self.response_headers: list[tuple[str, str]] = []
        self._body: bytes | None = None

    def header(self, name: str) -> str | None:
        """A request header's value, or None."""
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))

    def body(self) -> bytes:
        """The body (read once), refused with 413 beyond MAX_HOOK_BODY (hook bodies are a few hundred bytes)."""
        if self._body is None:
            self._body = self._read_body()
        return self._body

    def _read_body(self) -> bytes:
        declared = self.environ.get("CONTENT_LENGTH") or ""
        stream = self.environ["wsgi.input"]
        if declared.isdigit():
            if int(declared) > media.MAX_HOOK_BODY:
                raise ApiError(413, *HOOK_BODY_TOO_LARGE)
            return stream.read(int(declared)) if int(declared) else b""
        if not self.environ.get("wsgi.input_terminated"):
            return b""  # no length and no end-of-input promise: WSGI forbids reading on
        body = stream.read(media.MAX_HOOK_BODY + 1)
        if len(body) > media.MAX_HOOK_BODY:
            raise ApiError(413, *HOOK_BODY_TOO_LARGE)
        return body

    def json(self) -> Any:
        """The body as JSON when it is declared as JSON and parses; None otherwise."""
        mimetype = (self.environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if not (mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))):
            return None
        try:
            return json.loads(self.body())
        except ValueError:
            return None


def authenticate(request: HookRequest, settings: LiveSettings | None = None) -> None:
    """Let only the media server through (the hook secret, or loopback when configured); ``settings`` default
    to the current app's."""
    settings = settings or live_settings()
    presented = request.query.get("secret") or request.header("X-Media-Hook-Secret") or ""
    if settings.hook_secret and hmac.compare_digest(presented.encode(), settings.hook_secret.encode()):
        return
    if settings.trust_loopback and request.remote_addr in LOOPBACK:
        return
    log.warning("media hook %s refused: caller not authenticated (from %s)", request.path, request.remote_addr)
    raise ApiError(403, "media_hook_unauthorized", "仅媒体服务器可调用")


def _refused(reason: str) -> ApiError:
    return ApiError(403, "media_refused", "媒体服务器请求被拒绝", {"reason": reason})


def _nginx_event(request: HookRequest, calls: tuple[media.HookCall, ...]) -> media.HookEvent:
    """The nginx-rtmp notification of a form POST (the secret rides in the URL) or of a GET's query."""
    try:
        fields = media.parse_form(request.body(), media.NGINX_UNREAD) if request.method == "POST" else request.query
        event = media.parse_nginx_rtmp(fields)
    except media.PayloadError as exc:
        raise ApiError(400, "bad_hook_payload", "回调参数不正确") from exc
    if event.call not in calls:
        raise ApiError(400, "bad_hook_payload", "回调参数不正确", {"call": event.call.value})
    return event


def nginx_hook(request: HookRequest, *calls: media.HookCall) -> Answer:
    """An nginx-rtmp notification: a form POST (the secret rides in the URL), or a GET with it all in the query."""
    authenticate(request)
    event = _nginx_event(request, calls)
    try:
        hooks.handle(event, utcnow(), live_settings())
    except hooks.HookRefused as exc:
        raise _refused(exc.reason) from exc
    except SQLAlchemyError:
        if event.call not in (media.HookCall.UPDATE_PLAY, media.HookCall.UPDATE_PUBLISH):
            raise  # a new publisher or player is refused while the database cannot say yes
        # Running streams are not cut because the database is briefly away: the next update decides.
        db.session.rollback()
        log.exception("media hook %s could not be checked; letting the running stream go on", event.call.value)
        return 200, {"allowed": True, "checked": False}
    return 200, ALLOWED


PLAY_CALLS = (media.HookCall.PLAY,)


def prompt_play(app: Flask, request: HookRequest) -> Answer | None:
    """``on_play`` answered without the app context (pushing and popping it was a tenth of a play's work).

    Everything the play needs is given explicitly: the app's live settings and its group opener, which holds
    the database connection (PostgreSQL). The checks are :func:`nginx_hook`'s: the caller, the payload, the
    token (signature, expiry, camera) and the one session per token within the caps, in the database. Returns
    None when the full path must answer, inside an app context: before the process's first play made the
    settings and the opener, on SQLite, and for a late play (its right is checked again in the database).
    """
    settings = app.extensions.get("live_settings")
    opener = sessions.group_opener_of(app)
    if settings is None or opener is None:
        return None
    authenticate(request, settings)
    event = _nginx_event(request, PLAY_CALLS)
    try:
        opened = hooks.authorize_prompt_play(event, utcnow(), settings, opener)
    except hooks.HookRefused as exc:
        raise _refused(exc.reason) from exc
    return None if opened is None else (200, ALLOWED)


def hls_auth(request: HookRequest) -> Answer:
    """nginx ``auth_request`` for every HLS playlist and segment request.

    An allow says in ``X-Accel-Expires`` how many seconds nginx may reuse it for the same token, camera and
    address (its ``proxy_cache``); a refusal carries no such header, so nginx never caches one.
    """
    authenticate(request)
    client = request.header("X-Real-IP") or None
    try:
        cacheable = hooks.authorize_hls(media.parse_hls_uri(request.header("X-Original-URI") or ""), client,
                                        utcnow(), live_settings())
    except hooks.HookRefused as exc:
        raise _refused(exc.reason) from exc
    request.response_headers.append(("X-Accel-Expires", str(cacheable)))
    return 200, {"allowed": True}


def zlm_hook(request: HookRequest, event_name: str) -> Answer:
    """A ZLMediaKit web hook (JSON in, ``{"code": 0}`` to allow)."""
    authenticate(request)
    try:
        event = media.parse_zlmediakit(event_name, request.json())
    except media.PayloadError:
        return 400, media.zlmediakit_answer(False, "bad payload")
    if event is not None:
        try:
            hooks.handle(event, utcnow(), live_settings())
        except hooks.HookRefused as exc:
            return 403, media.zlmediakit_answer(False, exc.reason)
    answer = media.zlmediakit_answer(True)
    if event_name == "on_publish":
        answer.update({"enable_hls": True, "enable_mp4": True, "enable_audio": False})
    return 200, answer


def _nginx(*calls: media.HookCall) -> tuple[frozenset[str], Callable[[HookRequest], Answer]]:
    return frozenset({"GET", "POST"}), lambda request: nginx_hook(request, *calls)


def _zlm(event_name: str) -> tuple[frozenset[str], Callable[[HookRequest], Answer]]:
    return frozenset({"POST"}), lambda request: zlm_hook(request, event_name)


# Hooks that can answer without the app context: path below /internal/media/ → handler (None: use the route).
NO_CONTEXT: dict[str, Callable[[Flask, HookRequest], Answer | None]] = {"on_play": prompt_play}
# Path below /internal/media/ → (methods, handler).
ROUTES: dict[str, tuple[frozenset[str], Callable[[HookRequest], Answer]]] = {
    "on_publish": _nginx(media.HookCall.PUBLISH),
    "on_publish_done": _nginx(media.HookCall.PUBLISH_DONE),
    "on_play": _nginx(media.HookCall.PLAY),
    "on_done": _nginx(media.HookCall.PLAY_DONE),
    "on_update": _nginx(media.HookCall.UPDATE_PLAY, media.HookCall.UPDATE_PUBLISH),
    "on_record_done": _nginx(media.HookCall.RECORD_DONE),
    "hls_auth": (frozenset({"GET"}), hls_auth),
    **{f"zlm/{name}": _zlm(name) for name in sorted(media.ZLM_EVENTS)},
}


def _encode(status: int, payload: dict[str, Any], start_response: StartResponse,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = ALLOWED_BODY if payload == ALLOWED else json.dumps(payload, ensure_ascii=False,
                                                               separators=(",", ":")).encode()
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


class MediaHookGateway:
    """WSGI middleware: answers the media hooks, passes every other request to the wrapped (Flask) app."""

    def __init__(self, app: Flask, api: WsgiApp) -> None:
        self._app = app
        self._api = api

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path = environ.get("PATH_INFO", "")
        name = path[len(PREFIX):] if path.startswith(PREFIX) else ""
        route = ROUTES.get(name)
        if route is None:
            return self._api(environ, start_response)
        methods, handler = route
        request = HookRequest(environ)
        # HEAD is GET without the body, as for every Flask route (nginx's auth_request copies the player's method).
        method = "GET" if request.method == "HEAD" else request.method
        extra_headers: list[tuple[str, str]] = []
        if method not in methods:
            code, message = HTTP_STATUS_ERRORS[405]
            status, payload = 405, error_body(405, code, message)
            extra_headers.append(("Allow", ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))))
        else:
            status, payload = self._answer(handler, request, NO_CONTEXT.get(name))
            if status < 300:
                extra_headers += request.response_headers
        body = _encode(status, payload, start_response, extra_headers)
        return [] if request.method == "HEAD" else body

    def _answer(self, handler: Callable[[HookRequest], Answer], request: HookRequest,
                no_context: Callable[[Flask, HookRequest], Answer | None] | None) -> Answer:
        try:
            answer = no_context(self._app, request) if no_context else None
            if answer is not None:
                return answer
            with self._app.app_context():
                return handler(request)
        except ApiError as exc:
            return exc.status_code, error_body(exc.status_code, exc.code, exc.message, exc.detail)
        except Exception as exc:  # the API's rule: log it whole, never send a stack trace
            log.exception("unhandled error in media hook %s: %s", request.path, exc)
            code, message = HTTP_STATUS_ERRORS[500]
            return 500, error_body(500, code, message)


OPENAPI_TAG = "媒体服务器回调（内部）"


def _openapi_operation(name: str) -> dict[str, Any]:
    kind = "zlm" if name.startswith("zlm/") else "hls" if name == "hls_auth" else "nginx"
    summary = {"zlm": f"ZLMediaKit {name[4:]}", "hls": "nginx auth_request: HLS playlist or segment",
               "nginx": f"nginx-rtmp {name}"}[kind]
    handler = {"zlm": zlm_hook, "hls": hls_auth, "nginx": nginx_hook}[kind]
    answer = "ZLMediaKit 的 {\"code\", \"msg\"}" if kind == "zlm" else "统一错误格式"
    return {
        "tags": [OPENAPI_TAG],
        "summary": summary,
        "description": f"{(handler.__doc__ or '').strip()}\n\n仅供媒体服务器调用（MEDIA_HOOK_SECRET），"
                       f"由 backend/live/gateway.py 在 Flask 之前应答；拒绝时返回 403（{answer}）。",
        "parameters": [{"name": "secret", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "MEDIA_HOOK_SECRET（也可放在 X-Media-Hook-Secret 请求头）"}],
        "responses": {str(status): {"description": text, "content": {"application/json": {}}} for status, text in (
            (200, "允许"), (400, "回调参数不正确"), (403, "拒绝或调用方不是媒体服务器"),
            (413, HOOK_BODY_TOO_LARGE[1]))},
        "x-internal": True,
    }


def add_openapi_paths(spec: dict[str, Any]) -> dict[str, Any]:
    """List every route of :data:`ROUTES` in the OpenAPI document, tagged as internal media hooks."""
    paths = spec.setdefault("paths", {})
    for name, (methods, _handler) in ROUTES.items():
        operation = _openapi_operation(name)
        paths[PREFIX + name] = {method.lower(): {**operation, "operationId": f"media_hook_{name}_{method.lower()}"
                                                 .replace("/", "_")} for method in sorted(methods)}
    tags = spec.setdefault("tags", [])
    if all(tag.get("name") != OPENAPI_TAG for tag in tags):
        tags.append({"name": OPENAPI_TAG, "description": "媒体服务器（nginx-rtmp / ZLMediaKit）的回调，不供客户端调用"})
    return spec


def install(app: Flask) -> None:
    """Put the gateway in front of the app's WSGI callable (gunicorn and the test client both go through it),
    and list its routes in the app's OpenAPI document (after any spec processor registered before)."""
    app.wsgi_app = MediaHookGateway(app, app.wsgi_app)  # type: ignore[method-assign]
    add_spec_processor(app, add_openapi_paths)
