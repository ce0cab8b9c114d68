"""The media server's side of the contract: signed play tokens, stream names, play URLs and hook payloads.

Two media servers are understood:

* nginx with the RTMP module (the reference, ``docker/media``): ``on_publish``/``on_play``/... notifications
  arrive as form fields (``call``, ``name``, ``addr``, ``clientid`` plus the query arguments of the stream
  URL, e.g. ``token``); HLS files are authorised by an ``auth_request`` sub-request whose original URI is
  ``/hls/<token>/<stream>.m3u8`` or ``/hls/<token>/<stream>-<n>.ts``.
* ZLMediaKit: hooks arrive as JSON (``app``, ``stream``, ``params`` = the URL query string, ``ip``, ``id``).

Whatever the dialect, a hook becomes one :class:`HookEvent`. Nothing here touches the database or Flask.

Token format (URL-safe, no padding)::

    L1.<kind>.<user_id>.<camera_id>.<school_id>.<flags>.<expires>.<nonce>.<signature>

``kind`` is ``p`` (play) or ``r`` (relay publish); ``flags`` is ``1`` for viewers the viewer cap does not
apply to (school staff, regulators); ``signature`` is HMAC-SHA256 over everything before it, keyed with a key
derived from SECRET_KEY for this purpose only. The nonce doubles as the token id a view session is bound to.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit, urlunsplit

from backend.errors import Refusal
from backend.fields import ID_PATTERN

TOKEN_VERSION = "L1"
STREAM_PREFIX = "cam-"
STREAM_PATTERN = re.compile(rf"^cam-({ID_PATTERN})$")  # only ids a camera row can have
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{20,200}$")
# /hls/<token>/cam-12.m3u8 and /hls/<token>/cam-12-345.ts (nginx-rtmp's flat HLS layout).
HLS_URI_PATTERN = re.compile(
    r"^/hls/(?P<token>[A-Za-z0-9_.\-]{20,200})/(?P<stream>cam-[1-9][0-9]{0,9})(?P<part>\.m3u8|-[0-9]{1,12}\.ts)$")


class TokenKind(StrEnum):
    """What a signed media token authorises."""

    PLAY = "p"
    RELAY = "r"
    # A reader inside the platform (a detection worker, a snapshot) playing the stream a camera pushes to us.
    SAMPLE = "s"


def token_kind_of(token: str | None) -> str | None:
    """The kind a token claims, before its signature is checked (to choose which check applies)."""
    parts = (token or "").split(".", 2)
    return parts[1] if len(parts) == 3 else None


class TokenError(Refusal):
    """A token that must be refused."""


@dataclass(frozen=True)
class MediaToken:
    """The verified content of a token."""

    kind: TokenKind
    user_id: int
    camera_id: int
    school_id: int
    privileged: bool
    expires: int
    nonce: str

    @property
    def token_id(self) -> str:
        """The identity a view session is bound to (one session per token)."""
        return self.nonce


def derive_key(secret_key: str, purpose: str = "media-token") -> bytes:
    """A key for one purpose, so a signature made for media tokens is worth nothing anywhere else."""
    return hmac.new(secret_key.encode(), f"bright-kitchen/{purpose}/v1".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@functools.lru_cache(maxsize=8)
def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hashes with the key's pads already absorbed (RFC 2104), made once per key."""
    block = hashlib.sha256(key).digest() if len(key) > 64 else key
    block = block.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block)))


def _sign(key: bytes, payload: str) -> str:
    """HMAC-SHA256 of the payload, url-safe base64: ``hmac.digest(key, payload, "sha256")``, computed from the
    key's absorbed pads (copying two hashes costs a third of setting up an HMAC for every play's token)."""
    inner, outer = _hmac_pads(key)
    inner, outer = inner.copy(), outer.copy()
    inner.update(payload.encode())
    outer.update(inner.digest())
    return _b64(outer.digest())


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token and its id."""

    token: str
    token_id: str


def issue_token(key: bytes, kind: TokenKind, *, user_id: int, camera_id: int, school_id: int, privileged: bool,
                expires: int) -> IssuedToken:
    """Sign a token; ``expires`` is unix seconds."""
    nonce = _b64(secrets.token_bytes(12))
    payload = ".".join([TOKEN_VERSION, kind.value, str(user_id), str(camera_id), str(school_id),
                        "1" if privileged else "0", str(expires), nonce])
    return IssuedToken(f"{payload}.{_sign(key, payload)}", nonce)


def verify_token(key: bytes, token: str | None, *, now: float, kind: TokenKind,
                 check_expiry: bool = True) -> MediaToken:
    """Check a token's shape, signature, kind and (unless told not to) expiry; raise :class:`TokenError`."""
    if not token or not TOKEN_PATTERN.match(token):
        raise TokenError("malformed")
    parts = token.split(".")
    if len(parts) != 9 or parts[0] != TOKEN_VERSION:
        raise TokenError("malformed")
    payload, signature = ".".join(parts[:8]), parts[8]
    if not hmac.compare_digest(_sign(key, payload), signature):
        raise TokenError("bad_signature")
    _, token_kind, user_id, camera_id, school_id, flags, expires, nonce = parts[:8]
    if token_kind != kind.value:
        raise TokenError("wrong_kind")
    if not (user_id.isdigit() and camera_id.isdigit() and school_id.isdigit() and expires.isdigit()
            and flags in ("0", "1")):
        raise TokenError("malformed")
    if check_expiry and int(expires) < now:
        raise TokenError("expired")
    return MediaToken(kind=TokenKind(token_kind), user_id=int(user_id), camera_id=int(camera_id),
                      school_id=int(school_id), privileged=flags == "1", expires=int(expires), nonce=nonce)


def new_publish_key() -> str:
    """A camera's static publish key (shown once to staff; only its hash is stored)."""
    return secrets.token_urlsafe(24)


def hash_publish_key(key: str) -> str:
    """The stored form of a publish key (keys are 192 random bits, so a plain hash cannot be brute-forced)."""
    return hashlib.sha256(key.encode()).hexdigest()


def publish_key_matches(key: str | None, stored_hash: str | None) -> bool:
    """Compare a presented publish key with the stored hash in constant time."""
    if not key or not stored_hash or len(key) > 200:
        return False
    return hmac.compare_digest(hash_publish_key(key), stored_hash)


def stream_name(camera_id: int) -> str:
    """The media server's stream name of a camera."""
    return f"{STREAM_PREFIX}{camera_id}"


def camera_of_stream(name: str | None) -> int | None:
    """The camera id a stream name stands for, or None for any other name."""
    match = STREAM_PATTERN.match(name or "")
    return int(match.group(1)) if match else None


def play_urls(kind: str, rtmp_base: str, hls_base: str, camera_id: int, token: str) -> dict[str, str]:
    """The URLs a client plays: RTMP for ``<live-player>``, HLS for ``<video>``."""
    name = stream_name(camera_id)
    rtmp = f"{rtmp_base.rstrip('/')}/{name}?token={token}"
    if kind == "zlmediakit":
        # ZLMediaKit serves HLS at /<app>/<stream>/hls.m3u8 and passes the query to on_play.
        hls = f"{hls_base.rstrip('/')}/{name}/hls.m3u8?token={token}"
    else:
        # nginx-rtmp's playlists name segments relatively, so the token rides in the path and every
        # segment request carries it to the auth_request hook.
        hls = f"{hls_base.rstrip('/')}/{token}/{name}.m3u8"
    return {"rtmp": rtmp, "hls": hls}


def sample_url(rtmp_base: str, camera_id: int, token: str) -> str:
    """Where a reader inside the platform plays a camera's pushed stream, with its sample token."""
    return f"{rtmp_base.rstrip('/')}/{stream_name(camera_id)}?token={quote(token, safe='')}"


def publish_url(rtmp_base: str, camera_id: int, key: str) -> str:
    """Where a camera (or relay) publishes, with its key."""
    return f"{rtmp_base.rstrip('/')}/{stream_name(camera_id)}?key={quote(key, safe='')}"


@dataclass(frozen=True)
class HlsRequest:
    """An HLS file request (playlist or segment: both are authorised alike) the media server asks us about."""

    token: str
    camera_id: int


def parse_hls_uri(uri: str | None) -> HlsRequest | None:
    """Read token and stream from an HLS request URI (query ignored); None if it is not one of ours."""
    path = urlsplit(uri or "").path
    match = HLS_URI_PATTERN.match(path)
    if not match:
        return None
    camera_id = camera_of_stream(match.group("stream"))
    if camera_id is None:
        return None
    return HlsRequest(token=match.group("token"), camera_id=camera_id)


class HookCall(StrEnum):
    """Normalised media-server events."""

    PUBLISH = "publish"
    PUBLISH_DONE = "publish_done"
    PLAY = "play"
    PLAY_DONE = "play_done"
    UPDATE_PUBLISH = "update_publish"
    UPDATE_PLAY = "update_play"
    RECORD_DONE = "record_done"


@dataclass(frozen=True)
class HookEvent:
    """One media-server notification, whatever server sent it."""

    call: HookCall
    app: str
    stream: str
    client_id: str
    addr: str
    args: dict[str, str] = field(default_factory=dict)
    # The protocol a player uses, when the server says (ZLMediaKit: rtmp, rtsp, hls, http-flv, ...).
    schema: str = "rtmp"
    # Recordings: the file the server wrote and, when the server knows them, its start and length.
    path: str | None = None
    started_at: float | None = None
    duration: float | None = None
    size: int | None = None

    @property
    def camera_id(self) -> int | None:
        """The camera the stream name stands for."""
        return camera_of_stream(self.stream)

    @property
    def token(self) -> str | None:
        """The play token a player presented."""
        return self.args.get("token")

    @property
    def key(self) -> str | None:
        """The publish key (or relay token) a publisher presented."""
        return self.args.get("key")


class PayloadError(ValueError):
    """A hook payload we cannot read."""


NGINX_CALLS = {
    "publish": HookCall.PUBLISH,
    "publish_done": HookCall.PUBLISH_DONE,
    "play": HookCall.PLAY,
    "done": HookCall.PLAY_DONE,
    "play_done": HookCall.PLAY_DONE,
    "update_publish": HookCall.UPDATE_PUBLISH,
    "update_play": HookCall.UPDATE_PLAY,
    "record_done": HookCall.RECORD_DONE,
}
# Fields nginx-rtmp sends itself; anything else came from the stream URL's query string.
NGINX_FIELDS = {"app", "flashver", "swfurl", "tcurl", "pageurl", "addr", "clientid", "call", "name", "type",
                "start", "duration", "reset", "time", "timestamp", "recorder", "path", "secret"}
# The fields of nginx-rtmp's notifications that parse_nginx_rtmp never reads: a hook body's parse skips them
# (the player's flash version and URLs are percent-encoded, and decoding them was a tenth of a play's work).
NGINX_UNREAD = frozenset(NGINX_FIELDS - {"app", "addr", "clientid", "call", "name", "path"})


def parse_nginx_rtmp(values: Mapping[str, str]) -> HookEvent:
    """Normalise an nginx-rtmp notification (form fields or query arguments)."""
    call = NGINX_CALLS.get(values.get("call", ""))
    if call is None:
        raise PayloadError(f"unknown call {values.get('call')!r}")
    args = {k: v for k, v in values.items() if k not in NGINX_FIELDS}
    return HookEvent(call=call, app=values.get("app", ""), stream=values.get("name", ""),
                     client_id=values.get("clientid", ""), addr=values.get("addr", ""), args=args,
                     path=values.get("path") or None)


MAX_HOOK_BODY = 16 * 1024


def parse_form(body: bytes | str, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` hook body (first value of each name wins), leaving out
    the names in ``skip`` (not even decoded).

    Hook bodies are small and flat, so this is a plain split; it is several times cheaper than a general
    form parser on the hot path of every play.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name not in fields and name not in skip:
            fields[name] = unquote_plus(value) if "%" in value or "+" in value else value
    return fields


ZLM_EVENTS = {"on_publish", "on_play", "on_stream_changed", "on_flow_report", "on_record_mp4"}


def _query_args(params: Any) -> dict[str, str]:
    if not isinstance(params, str):
        return {}
    return {k: v[0] for k, v in parse_qs(params, keep_blank_values=True).items()}


def parse_zlmediakit(event: str, body: Any) -> HookEvent | None:
    """Normalise a ZLMediaKit web hook; None for events that carry nothing for us (e.g. a registration of the
    HLS muxer, or a flow report of a pusher that on_stream_changed already covers)."""
    if event not in ZLM_EVENTS or not isinstance(body, dict):
        raise PayloadError(f"unknown ZLMediaKit event {event!r}")
    app, stream = str(body.get("app", "")), str(body.get("stream", ""))
    common = {"app": app, "stream": stream, "client_id": str(body.get("id", "")), "addr": str(body.get("ip", "")),
              "args": _query_args(body.get("params"))}
    if event == "on_publish":
        return HookEvent(call=HookCall.PUBLISH, **common)
    if event == "on_play":
        return HookEvent(call=HookCall.PLAY, schema=str(body.get("schema") or "rtmp"), **common)
    if event == "on_flow_report":
        if not body.get("player"):
            return None
        return HookEvent(call=HookCall.PLAY_DONE, **common)
    if event == "on_stream_changed":
        # One notice per muxer (rtmp, rtsp, hls, ...); the RTMP/RTSP one stands for the publisher. A
        # registration follows an on_publish we already allowed, so only the end of a stream matters.
        if body.get("schema") not in ("rtmp", "rtsp") or body.get("regist"):
            return None
        return HookEvent(call=HookCall.PUBLISH_DONE, **common)
    # on_record_mp4: ZLMediaKit reports start (unix seconds) and length itself.
    try:
        return HookEvent(call=HookCall.RECORD_DONE, path=str(body["file_path"]), started_at=float(body["start_time"]),
                         duration=float(body["time_len"]), size=int(body.get("file_size") or 0), **common)
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError("on_record_mp4 without file_path/start_time/time_len") from exc


def zlmediakit_answer(allowed: bool, message: str = "success") -> dict[str, Any]:
    """The JSON body ZLMediaKit expects from a hook (``code`` 0 allows)."""
    if allowed:
        return {"code": 0, "msg": message}
    return {"code": -1, "msg": message}


def redact_url(url: str) -> str:
    """A URL safe for a log line: no user, password, query or path (only scheme and host)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, host, "/…" if parts.path not in ("", "/") else "", "", "")) or "<url>"


def render_media_config(template: str, variables: Mapping[str, str]) -> str:
    """Fill ``${NAME}`` placeholders like ``envsubst`` does, refusing a placeholder left without a value."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"media config variable {name} has no value")
        return str(variables[name])

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)\}", replace, template)


def dumps_event(event: HookEvent) -> str:
    """A log-safe description of an event (no token, no key: only which arguments were present)."""
    return json.dumps({"call": event.call.value, "stream": event.stream, "client": event.client_id,
                       "addr": event.addr, "args": sorted(event.args)})
