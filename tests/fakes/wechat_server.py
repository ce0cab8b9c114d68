"""A fake of the WeChat server API (api.weixin.qq.com) that speaks real HTTP on loopback.

The product reaches WeChat only through wechatpy with its base URL pointed here, so every path, query
parameter, JSON shape and error code below follows the real server API: errors are HTTP 200 with
``{"errcode": N, "errmsg": "<message> rid: <id>"}``; successes carry the documented fields.

Two ways to run it:

* in-process: ``with FakeWeChat(appid="wx_test_appid", secret="test_secret") as fake:`` serves on
  127.0.0.1 with an ephemeral port from a background thread; ``fake.base_url`` ends with ``/``;
* as a process: ``python -m tests.fakes.wechat_server --host 127.0.0.1 --port 0 --appid X --secret Y``
  prints ``LISTENING http://127.0.0.1:PORT/`` and serves until killed.

Everything a test controls or inspects is a method on :class:`FakeWeChat` and is also served as JSON
under ``/__fake__/`` so that :class:`FakeWeChatControl` can drive a fake that runs in another process.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gc
import hashlib
import io
import json
import logging
import re
import secrets
import signal
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import requests
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

#: Endpoint names used for injection and call records, mapped to (HTTP method, path).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "token": ("GET", "/cgi-bin/token"),
    "stable_token": ("POST", "/cgi-bin/stable_token"),
    "jscode2session": ("GET", "/sns/jscode2session"),
    "getuserphonenumber": ("POST", "/wxa/business/getuserphonenumber"),
    "subscribe_send": ("POST", "/cgi-bin/message/subscribe/send"),
    "msg_sec_check": ("POST", "/wxa/msg_sec_check"),
    "media_check_async": ("POST", "/wxa/media_check_async"),
    "getwxacodeunlimit": ("POST", "/wxa/getwxacodeunlimit"),
}
_PATH_TO_ENDPOINT = {path: name for name, (_method, path) in ENDPOINTS.items()}
_TOKEN_ENDPOINTS = frozenset(
    {"getuserphonenumber", "subscribe_send", "msg_sec_check", "media_check_async", "getwxacodeunlimit"}
)

#: The errmsg WeChat sends for each code (English, as the server sends it; " rid: ..." is appended).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40029: "invalid code",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40129: "invalid scene",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    40226: "high risk user",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43002: "require POST method",
    43101: "user refuse to accept the msg",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
    87014: "risky content",
}

#: Subscribe-message keyword kinds whose value rules the fake enforces.
KEYWORD_KINDS = frozenset(
    {
        "thing",
        "number",
        "letter",
        "symbol",
        "character_string",
        "time",
        "date",
        "amount",
        "phone_number",
        "car_number",
        "name",
        "phrase",
    }
)

_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCENE_CHARS_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]+$")
_PAGE_RE = re.compile(r"^[A-Za-z0-9_\-./]+$")
_TEMPLATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_KEY_RE = re.compile(r"^([a-z_]+?)(\d+)$")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN_RE = re.compile(f"[{_HAN}]")
_DATE = (
    r"(?P<y{n}>\d{{4}})(?:年(?P<m{n}a>\d{{1,2}})月(?P<d{n}a>\d{{1,2}})日"
    r"|-(?P<m{n}b>\d{{1,2}})-(?P<d{n}b>\d{{1,2}})"
    r"|/(?P<m{n}c>\d{{1,2}})/(?P<d{n}c>\d{{1,2}}))"
)
_TIME = r"(?P<h{n}>[01]?\d|2[0-3]):(?P<mi{n}>[0-5]\d)(?::(?P<s{n}>[0-5]\d))?"
_MSG_STATES = frozenset({"developer", "trial", "formal"})
_LANGS = frozenset({"zh_CN", "en_US", "zh_HK", "zh_TW"})
_ENV_VERSIONS = frozenset({"release", "trial", "develop"})
_SUGGESTS = frozenset({"risky", "review"})

DEFAULT_RISKY_WORDS: dict[str, int] = {"赌博": 20006, "色情": 20002, "代开发票": 10001, "fake-risky": 21000}
DEFAULT_REVIEW_WORDS: dict[str, int] = {"fake-review": 21000}
DEFAULT_OPTIONS: dict[str, Any] = {
    # Unregistered but well-formed wx.login codes map to derived_openid(code), so a dev client works.
    "accept_unregistered_codes": True,
    # Unregistered but well-formed phone codes map to derived_phone(code).
    "accept_unregistered_phone_codes": True,
    # Unregistered template ids are accepted and their keys' kinds read from the key names (thing1...).
    "allow_unregistered_templates": True,
    # subscribe_send / msg_sec_check v2 / media_check_async v2 answer 40003 for openids the fake never saw.
    "require_known_openid": True,
    # None: older access tokens stay valid until expired; a number: they expire that long after a newer one.
    "token_overlap_seconds": None,
    # True: as on WeChat, a subscribe message needs a one-time subscription of its template by its user
    # (grant_subscription, what an "accept" in wx.requestSubscribeMessage's pop-up makes); each delivered
    # message uses one, and a send with none left answers 43101. False (the default, for callers that never
    # grant, like the demo whose pop-up runs in WeChat DevTools): any send is delivered.
    "subscription_quota": False,
}


def _rid() -> str:
    """Return a request id shaped like WeChat's (``66695e1c-2387d9e9-6ccb22ba``)."""
    return "-".join(secrets.token_hex(4) for _ in range(3))


def _error(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    """Build WeChat's error body; the message gets the ``rid:`` suffix that the real server adds."""
    text = errmsg if errmsg is not None else ERRMSG.get(errcode, "unknown error")
    return {"errcode": errcode, "errmsg": f"{text} rid: {_rid()}"}


def derived_openid(code: str) -> str:
    """Return the openid the fake gives an unregistered wx.login ``code`` (28 chars, like real ones)."""
    return "o" + hashlib.sha1(code.encode("utf-8")).hexdigest()[:27]


def derived_session_key(code: str) -> str:
    """Return the session_key the fake gives an unregistered code (base64 of 16 bytes, like real ones)."""
    return base64.b64encode(hashlib.sha256(("session:" + code).encode("utf-8")).digest()[:16]).decode("ascii")


def derived_phone(code: str) -> str:
    """Return the 11-digit mainland number the fake gives an unregistered phone ``code``."""
    digest = int(hashlib.sha1(("phone:" + code).encode("utf-8")).hexdigest(), 16)
    return f"13{digest % 10**9:09d}"


# --------------------------------------------------------------------------- subscribe-message rules


def _valid_date_or_time(value: str, need_date: bool, need_time: bool) -> bool:
    """Check one point or a ``a~b`` range of WeChat's time/date keyword formats."""
    parts = [p.strip() for p in value.split("~")]
    if len(parts) > 2:
        return False
    for n, part in enumerate(parts):
        date = f"(?:{_DATE.format(n=n)})"
        clock = f"(?:{_TIME.format(n=n)})"
        if need_date:
            pattern = f"^{date}(?:\\s*{clock})?$" if not need_time else f"^{date}\\s*{clock}$"
        else:
            pattern = f"^(?:{date}\\s*)?{clock}$"
        match = re.match(pattern, part)
        if match is None:
            return False
        groups = match.groupdict()
        month = groups.get(f"m{n}a") or groups.get(f"m{n}b") or groups.get(f"m{n}c")
        day = groups.get(f"d{n}a") or groups.get(f"d{n}b") or groups.get(f"d{n}c")
        if month is not None and not (1 <= int(month) <= 12 and 1 <= int(day or 0) <= 31):
            return False
    return True


def _is_symbol(char: str) -> bool:
    return not char.isalnum() and not char.isspace()


def keyword_value_valid(kind: str, value: str) -> bool:
    """Apply WeChat's documented rule for one subscribe-message keyword kind to ``value``.

    The rules are the ones on the subscribeMessage.send page (thing: 20 characters of anything; phrase: 5
    Chinese characters; number: 32 digits with an optional decimal point; ...). Empty values never pass.
    """
    if not value:
        return False
    length = len(value)
    if kind == "thing":
        return length <= 20
    if kind == "number":
        return length <= 32 and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value) is not None
    if kind == "letter":
        return length <= 32 and re.fullmatch(r"[A-Za-z]+", value) is not None
    if kind == "symbol":
        return length <= 5 and all(_is_symbol(c) for c in value)
    if kind == "character_string":
        return length <= 32 and re.fullmatch(r"[\x21-\x7e]+", value) is not None
    if kind == "time":
        return _valid_date_or_time(value, need_date=False, need_time=True)
    if kind == "date":
        return _valid_date_or_time(value, need_date=True, need_time=False)
    if kind == "amount":
        return length <= 32 and re.fullmatch(r"[¥￥$€£]?[0-9]{1,10}(?:\.[0-9]+)?元?", value) is not None
    if kind == "phone_number":
        return (
            length <= 17
            and any(c.isdigit() for c in value)
            and all(c in "0123456789" or (c.isascii() and _is_symbol(c)) or c == " " for c in value)
        )
    if kind == "car_number":
        return length <= 8 and re.fullmatch(f"[{_HAN}]?[A-Za-z0-9]+[{_HAN}]?", value) is not None
    if kind == "name":
        if _HAN_RE.search(value):
            # Chinese and letters mixed count as a Chinese name: at most 10 characters.
            return length <= 10 and all(
                _HAN_RE.match(c) or (c.isascii() and c.isalpha()) or c == "·" for c in value
            )
        return (
            length <= 20
            and any(c.isalpha() for c in value)
            and all((c.isascii() and c.isalpha()) or _is_symbol(c) or c == " " for c in value)
        )
    if kind == "phrase":
        return length <= 5 and re.fullmatch(f"[{_HAN}]+", value) is not None
    raise ValueError(f"unknown keyword kind {kind!r}")


# --------------------------------------------------------------------------- PNG


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def make_png(width: int, seed: str, text: Mapping[str, str] | None = None) -> bytes:
    """Draw a ``width`` x ``width`` grayscale PNG: a frame and an 8x8 module grid derived from ``seed``.

    ``text`` becomes tEXt chunks so that a test can read back what the "code" encodes.
    """
    bits = int(hashlib.sha256(seed.encode("utf-8")).hexdigest(), 16)
    cells = 8
    margin = max(width // 10, 1)
    cell = max((width - 2 * margin) // cells, 1)
    border = max(width // 40, 1)
    grid_end = margin + cells * cell
    white = b"\xff"
    black = b"\x00"

    def band(fill: Callable[[int], bytes]) -> bytes:
        # One scanline: white outside the frame, the frame's border, and the grid modules in between.
        left = white * (margin - border) + black * border
        right = black * border + white * (width - grid_end - border)
        middle = b"".join(fill(cx) * cell for cx in range(cells))
        return b"\x00" + (left + middle + right)[:width].ljust(width, white)

    blank = b"\x00" + white * width
    frame = band(lambda cx: black)
    module_rows = [
        band(lambda cx, cy=cy: black if (bits >> (cy * cells + cx)) & 1 else white) for cy in range(cells)
    ]
    rows: list[bytes] = []
    for y in range(width):
        if margin - border <= y < margin or grid_end <= y < grid_end + border:
            rows.append(frame)
        elif margin <= y < grid_end:
            rows.append(module_rows[(y - margin) // cell])
        else:
            rows.append(blank)
    header = struct.pack(">IIBBBBB", width, width, 8, 0, 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", header)]
    for key, value in (text or {}).items():
        chunks.append(
            _png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1", "replace"))
        )
    chunks.append(_png_chunk(b"IDAT", zlib.compress(b"".join(rows), 6)))
    chunks.append(_png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


# --------------------------------------------------------------------------- state


@dataclass
class _Rule:
    """One injected behaviour: ``times`` left (None: forever) and what to do."""

    times: int | None
    value: Any
    errmsg: str | None = None

    def take(self) -> bool:
        """Consume one use; False when the rule is used up."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass
class _Token:
    token: str
    source: str
    issued_at: float
    expires_at: float
    forced_expired: bool = False
    superseded_at: float | None = None


@dataclass
class _Injections:
    errors: list[_Rule] = field(default_factory=list)
    delays: list[_Rule] = field(default_factory=list)
    statuses: list[_Rule] = field(default_factory=list)
    # Carried out at once, answered late (value: seconds) or never (the connection is closed instead).
    slow_replies: list[_Rule] = field(default_factory=list)
    dropped_replies: list[_Rule] = field(default_factory=list)


@dataclass
class _Taken:
    """The injections one call gets."""

    delay: _Rule | None
    status: _Rule | None
    error: _Rule | None
    slow_reply: _Rule | None
    dropped_reply: _Rule | None


def _take(rules: list[_Rule]) -> _Rule | None:
    """Take the first rule that still has uses, dropping used-up ones."""
    while rules:
        rule = rules[0]
        if rule.take():
            if rule.times == 0:
                rules.pop(0)
            return rule
        rules.pop(0)
    return None


def _check_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; known: {sorted(ENDPOINTS)}")


def _check_times(times: int | None) -> None:
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError("times must be a positive integer or None (always)")


class _State:
    """All the fake's memory, guarded by one lock (the server answers each request in its own thread)."""

    def __init__(self, appid: str, secret: str, token_ttl: int) -> None:
        self.appid = appid
        self.secret = secret
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget everything but appid/secret/token_ttl."""
        with self.lock:
            self.clock_offset = 0.0
            self.tokens: dict[str, _Token] = {}
            self.stable_token: str | None = None
            self.codes: dict[str, dict[str, Any]] = {}
            self.used_codes: set[str] = set()
            self.revoked_codes: set[str] = set()
            self.phone_codes: dict[str, dict[str, str]] = {}
            self.used_phone_codes: set[str] = set()
            self.openids: dict[str, str | None] = {}
            self.templates: dict[str, dict[str, str]] = {}
            self.pages: set[str] | None = None
            self.words: dict[str, dict[str, int]] = {
                "risky": dict(DEFAULT_RISKY_WORDS),
                "review": dict(DEFAULT_REVIEW_WORDS),
            }
            self.refused: set[tuple[str, str | None]] = set()
            # One-time subscriptions left, by (openid, template_id) (option subscription_quota).
            self.subscriptions: dict[tuple[str, str], int] = {}
            self.messages: list[dict[str, Any]] = []
            self.media_checks: list[dict[str, Any]] = []
            self.calls: list[dict[str, Any]] = []
            self.injections: dict[str, _Injections] = {name: _Injections() for name in ENDPOINTS}
            self.options: dict[str, Any] = dict(DEFAULT_OPTIONS)
            self.next_msgid = 2_000_000_000_000_000_001

    def now(self) -> float:
        """Return the fake's clock (wall time plus what advance_clock added)."""
        return time.time() + self.clock_offset

    # ---- tokens

    def issue_token(self, source: str) -> _Token:
        """Issue a fresh access token; older tokens of the same source become 'superseded'."""
        now = self.now()
        for old in self.tokens.values():
            if old.source == source and old.superseded_at is None:
                old.superseded_at = now
        value = f"{len(self.tokens) + 90}_" + secrets.token_urlsafe(96).replace("-", "_")[:120]
        token = _Token(value, source, now, now + self.token_ttl)
        self.tokens[value] = token
        return token

    def token_expired(self, token: _Token) -> bool:
        """Tell whether a known token is past its life (forced, ttl, or the optional overlap window)."""
        now = self.now()
        if token.forced_expired or now >= token.expires_at:
            return True
        overlap = self.options.get("token_overlap_seconds")
        return overlap is not None and token.superseded_at is not None and now - token.superseded_at > overlap

    def check_access_token(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        """Return WeChat's error for a missing/unknown/expired access_token, or None when it is good."""
        value = query.get("access_token", "")
        if not value:
            return _error(41001)
        token = self.tokens.get(value)
        if token is None:
            return _error(40001)
        if self.token_expired(token):
            return _error(42001)
        return None

    def token_infos(self) -> list[dict[str, Any]]:
        """Describe every token issued, oldest first."""
        return [
            {
                "access_token": t.token,
                "source": t.source,
                "issued_at": t.issued_at,
                "expires_at": t.expires_at,
                "expired": self.token_expired(t),
                "stable": t.token == self.stable_token,
            }
            for t in sorted(self.tokens.values(), key=lambda t: t.issued_at)
        ]

    def expire_tokens(self, tokens: Iterable[str] | None) -> int:
        """Force tokens (all when None) to answer 42001 from now on; return how many were expired."""
        chosen = (
            self.tokens.values() if tokens is None else [self.tokens[t] for t in tokens if t in self.tokens]
        )
        count = 0
        for token in chosen:
            if not token.forced_expired:
                token.forced_expired = True
                count += 1
        return count

    # ---- injections

    def take_injections(self, endpoint: str) -> _Taken:
        """Consume the injections the next call of ``endpoint`` gets."""
        slot = self.injections[endpoint]
        return _Taken(_take(slot.delays), _take(slot.statuses), _take(slot.errors), _take(slot.slow_replies),
                      _take(slot.dropped_replies))

    # ---- users

    def know_openid(self, openid: str, unionid: str | None = None) -> None:
        """Remember a user as having visited the mini-program (so 40003 does not apply)."""
        if unionid is not None or openid not in self.openids:
            self.openids[openid] = unionid

    def openid_ok(self, openid: Any) -> bool:
        """Tell whether ``openid`` would be accepted by an openid-taking API."""
        if not isinstance(openid, str) or not openid:
            return False
        return not self.options["require_known_openid"] or openid in self.openids


# --------------------------------------------------------------------------- endpoint handlers

_Answer = tuple[int, str, bytes | dict[str, Any]]  # (http status, content type, body)


def _json_answer(body: dict[str, Any]) -> _Answer:
    return 200, "application/json; encoding=utf-8", body


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


class _Handlers:
    """The WeChat endpoints; each takes (query, body) and answers under the state lock."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def _credentials_error(self, appid: Any, secret: Any) -> dict[str, Any] | None:
        if not appid:
            return _error(41002)
        if appid != self.state.appid:
            return _error(40013)
        if not secret:
            return _error(41004)
        if secret != self.state.secret:
            return _error(40125)
        return None

    def token(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``GET /cgi-bin/token``: every successful call issues a new token."""
        if query.get("grant_type") != "client_credential":
            return _json_answer(_error(40002))
        problem = self._credentials_error(query.get("appid"), query.get("secret"))
        if problem:
            return _json_answer(problem)
        token = self.state.issue_token("token")
        return _json_answer({"access_token": token.token, "expires_in": self.state.token_ttl})

    def stable_token(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /cgi-bin/stable_token``: the current stable token unless force_refresh."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        if body.get("grant_type") != "client_credential":
            return _json_answer(_error(40002))
        problem = self._credentials_error(body.get("appid"), body.get("secret"))
        if problem:
            return _json_answer(problem)
        state = self.state
        current = state.tokens.get(state.stable_token) if state.stable_token else None
        force = body.get("force_refresh") is True
        if current is not None and not force and not state.token_expired(current):
            remaining = max(int(current.expires_at - state.now()), 0)
            return _json_answer({"access_token": current.token, "expires_in": remaining})
        if current is not None and force:
            # The docs: force_refresh makes the previous stable token invalid at once.
            del state.tokens[current.token]
        token = state.issue_token("stable")
        state.stable_token = token.token
        return _json_answer({"access_token": token.token, "expires_in": state.token_ttl})

    def jscode2session(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``GET /sns/jscode2session``: a wx.login code, once, for openid/session_key[/unionid].

        An ``access_token`` query parameter is ignored, as the real server does (wechatpy sends one).
        """
        problem = self._credentials_error(query.get("appid"), query.get("secret"))
        if problem:
            return _json_answer(problem)
        if query.get("grant_type") != "authorization_code":
            return _json_answer(_error(40002))
        code = query.get("js_code", "")
        if not code:
            return _json_answer(_error(41008))
        state = self.state
        if code in state.used_codes:
            return _json_answer(_error(40163))
        if code in state.revoked_codes:
            return _json_answer(_error(40029))
        session = state.codes.get(code)
        if session is None:
            if not (state.options["accept_unregistered_codes"] and _CODE_RE.match(code)):
                return _json_answer(_error(40029))
            session = {
                "openid": derived_openid(code),
                "session_key": derived_session_key(code),
                "unionid": None,
            }
        state.used_codes.add(code)
        unionid = session.get("unionid") or state.openids.get(session["openid"])
        state.know_openid(session["openid"], unionid)
        answer: dict[str, Any] = {"session_key": session["session_key"], "openid": session["openid"]}
        if unionid:
            answer["unionid"] = unionid
        return _json_answer(answer)

    def getuserphonenumber(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /wxa/business/getuserphonenumber``: a getPhoneNumber code, once, for the phone."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        state = self.state
        code = body.get("code")
        if not isinstance(code, str) or not code or code in state.used_phone_codes:
            return _json_answer(_error(40029))
        phone = state.phone_codes.get(code)
        if phone is None:
            if not (state.options["accept_unregistered_phone_codes"] and _CODE_RE.match(code)):
                return _json_answer(_error(40029))
            phone = {"phone": derived_phone(code), "country_code": "86"}
        state.used_phone_codes.add(code)
        pure, country = phone["phone"], phone["country_code"]
        # Mainland numbers come back without a prefix; foreign ones carry their area code.
        full = pure if country == "86" else f"+{country}{pure}"
        info = {
            "phoneNumber": full,
            "purePhoneNumber": pure,
            "countryCode": country,
            "watermark": {"timestamp": int(state.now()), "appid": state.appid},
        }
        return _json_answer({"errcode": 0, "errmsg": "ok", "phone_info": info})

    def _template_keys(self, template_id: Any, data: Mapping[str, Any]) -> dict[str, str] | None:
        state = self.state
        if not isinstance(template_id, str) or not template_id:
            return None
        if template_id in state.templates:
            return state.templates[template_id]
        if not (state.options["allow_unregistered_templates"] and _TEMPLATE_ID_RE.match(template_id)):
            return None
        inferred: dict[str, str] = {}
        for key in data:
            match = _KEY_RE.match(key)
            # A key that does not start with a known kind cannot be in any real template.
            inferred[key] = match.group(1) if match and match.group(1) in KEYWORD_KINDS else ""
        return inferred

    def _page_ok(self, page: str) -> bool:
        path = page.split("?", 1)[0]
        if not path or path.startswith("/") or not _PAGE_RE.match(path):
            return False
        return self.state.pages is None or path in self.state.pages

    def subscribe_send(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /cgi-bin/message/subscribe/send`` with the keyword rules of the docs."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        state = self.state
        touser = body.get("touser")
        if not state.openid_ok(touser):
            return _json_answer(_error(40003))
        data = body.get("data")
        if not isinstance(data, dict):
            return _json_answer(_error(47001))
        template_id = body.get("template_id")
        keys = self._template_keys(template_id, data)
        if keys is None:
            return _json_answer(_error(40037))
        if (touser, template_id) in state.refused or (touser, None) in state.refused:
            return _json_answer(_error(43101))
        for key, kind in keys.items():
            item = data.get(key)
            value = item.get("value") if isinstance(item, dict) else None
            if value is None or value == "":
                return _json_answer(_error(47003, f"argument invalid! data.{key}.value is empty"))
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                return _json_answer(_error(47003, f"argument invalid! data.{key}.value invalid"))
            if not kind or not keyword_value_valid(kind, str(value)):
                return _json_answer(_error(47003, f"argument invalid! data.{key}.value invalid"))
        page = body.get("page")
        if page not in (None, "") and (not isinstance(page, str) or not self._page_ok(page)):
            return _json_answer(_error(41030))
        mp_state = body.get("miniprogram_state", "formal")
        if mp_state not in _MSG_STATES:
            return _json_answer(_error(47003, "argument invalid! miniprogram_state invalid"))
        lang = body.get("lang", "zh_CN")
        if lang not in _LANGS:
            return _json_answer(_error(47003, "argument invalid! lang invalid"))
        if state.options["subscription_quota"]:
            # A one-time subscription allows one message: the first delivery uses it, later sends get 43101.
            left = state.subscriptions.get((touser, template_id), 0)
            if left <= 0:
                return _json_answer(_error(43101))
            state.subscriptions[(touser, template_id)] = left - 1
        msgid = state.next_msgid
        state.next_msgid += 1
        state.messages.append(
            {
                "msgid": msgid,
                "touser": touser,
                "template_id": template_id,
                "page": page,
                "miniprogram_state": body.get("miniprogram_state"),
                "lang": body.get("lang"),
                "data": copy.deepcopy(data),
                "time": state.now(),
            }
        )
        return _json_answer({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    def _v2_common_error(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        scene = _as_int(body.get("scene"))
        if scene is None or not 1 <= scene <= 4:
            return _error(40129)
        if not self.state.openid_ok(body.get("openid")):
            return _error(40003)
        return None

    def msg_sec_check(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /wxa/msg_sec_check``: v2 (``version: 2``) verdicts, or v1's 0/87014 without a version."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        content = body.get("content")
        if not isinstance(content, str) or not content:
            return _json_answer(_error(47001))
        version = _as_int(body.get("version"))
        words = self.state.words
        hit: tuple[str, str, int] | None = None
        for suggest in ("risky", "review"):
            for word, label in words[suggest].items():
                if word and word in content:
                    hit = (suggest, word, label)
                    break
            if hit:
                break
        if version != 2:
            if hit and hit[0] == "risky":
                return _json_answer(_error(87014))
            return _json_answer({"errcode": 0, "errmsg": "ok"})
        problem = self._v2_common_error(body)
        if problem:
            return _json_answer(problem)
        if hit is None:
            result = {"suggest": "pass", "label": 100}
            detail = [
                {"strategy": "content_model", "errcode": 0, "suggest": "pass", "label": 100, "prob": 90}
            ]
        else:
            suggest, word, label = hit
            result = {"suggest": suggest, "label": label}
            detail = [
                {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90},
                {
                    "strategy": "keyword",
                    "errcode": 0,
                    "suggest": suggest,
                    "label": label,
                    "level": 20,
                    "keyword": word,
                },
            ]
        return _json_answer(
            {"errcode": 0, "errmsg": "ok", "result": result, "detail": detail, "trace_id": _rid()}
        )

    def media_check_async(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /wxa/media_check_async``: record the request and answer a trace_id."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        media_url = body.get("media_url")
        if not isinstance(media_url, str) or not media_url.startswith(("http://", "https://")):
            return _json_answer(_error(47001))
        media_type = _as_int(body.get("media_type"))
        if media_type not in (1, 2):
            return _json_answer(_error(40097))
        version = _as_int(body.get("version"))
        if version == 2:
            problem = self._v2_common_error(body)
            if problem:
                return _json_answer(problem)
        trace_id = _rid()
        self.state.media_checks.append(
            {
                "trace_id": trace_id,
                "media_url": media_url,
                "media_type": media_type,
                "version": version,
                "scene": _as_int(body.get("scene")),
                "openid": body.get("openid"),
                "time": self.state.now(),
            }
        )
        return _json_answer({"errcode": 0, "errmsg": "ok", "trace_id": trace_id})

    def getwxacodeunlimit(self, query: Mapping[str, str], body: Any) -> _Answer:
        """``POST /wxa/getwxacodeunlimit``: a PNG on success, JSON errors otherwise."""
        if not isinstance(body, dict):
            return _json_answer(_error(47001))
        scene = body.get("scene")
        if not isinstance(scene, str) or not 1 <= len(scene) <= 32:
            return _json_answer(_error(40169))
        if not _SCENE_CHARS_RE.match(scene):
            return _json_answer(_error(40097))
        env_version = body.get("env_version", "release")
        if env_version not in _ENV_VERSIONS:
            return _json_answer(_error(40097))
        check_path = body.get("check_path", True)
        if not isinstance(check_path, bool):
            return _json_answer(_error(40097))
        page = body.get("page")
        if page is not None and not isinstance(page, str):
            return _json_answer(_error(40097))
        # With check_path the page must exist, and it can never carry a query (that goes in scene).
        if check_path and page and ("?" in page or not self._page_ok(page)):
            return _json_answer(_error(41030))
        width = _as_int(body.get("width", 430))
        if width is None:
            return _json_answer(_error(40097))
        width = min(max(width, 280), 1280)  # the documented range; the server clamps
        text = {"scene": scene, "page": page or "", "env_version": env_version}
        return 200, "image/png", {"__png__": (width, f"{scene}|{page}|{env_version}", text)}


# --------------------------------------------------------------------------- HTTP server


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive in front of the fake's WSGI app.

    WeChat keeps connections alive, and so do wechatpy's and our HTTP clients. Werkzeug's development server
    closes every connection after one answer, so each call to the fake would cost a TCP handshake and a new
    server thread: more than the fake's own work, which benchmarks against the fake would then measure.
    Request bodies are read to their Content-Length, and every answer carries one, so a connection can serve
    the next request.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    # An idle keep-alive connection is dropped after this long, so its thread ends when the client goes away.
    timeout = 30
    app: Callable[..., Iterable[bytes]]

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "PATH_INFO": unquote(path), "QUERY_STRING": query,
            "CONTENT_LENGTH": str(length), "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "SERVER_NAME": str(host), "SERVER_PORT": str(port), "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0], "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": False, "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            answer["status"], answer["headers"] = status, headers
            return lambda data: None

        payload = b"".join(self.app(environ, start_response))
        if environ.get("fake.drop_connection"):
            self.close_connection = True  # no answer at all: the client sees the connection closed
            return
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in answer["headers"]:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        # Head and body in one write: two small segments would wait on the client's delayed ACK.
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        try:
            self.wfile.write(head if self.command == "HEAD" else head + payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a slow or delayed answer)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Log requests at debug level only (tests would drown in an access log)."""
        log.debug("fake wechat " + format, *args)


class _FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True


def _json_response(body: Any, status: int = 200, content_type: str = "application/json") -> Response:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(data, status=status, content_type=content_type)


class _Params(dict[str, Any]):
    """Parameters of a control call, with a clear 400 for a missing one."""

    def need(self, key: str) -> Any:
        """Return a required parameter."""
        if key not in self:
            raise ValueError(f"missing parameter {key!r}")
        return self[key]


class FakeWeChat:
    """The fake WeChat server: start/stop it, and drive or inspect it with the methods below.

    Endpoint names for injections and call records: see :data:`ENDPOINTS`.
    """

    def __init__(
        self,
        appid: str = "wx_test_appid",
        secret: str = "test_secret",
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: int = 7200,
    ) -> None:
        self.host = host
        self.port = port
        self._state = _State(appid, secret, token_ttl)
        self._handlers = _Handlers(self._state)
        self._server: _FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- lifecycle

    @property
    def appid(self) -> str:
        """The AppID the fake accepts."""
        return self._state.appid

    @property
    def secret(self) -> str:
        """The AppSecret the fake accepts."""
        return self._state.secret

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/``: what wechatpy's base URL must be (with the trailing slash)."""
        if self._server is None:
            raise RuntimeError("the fake is not started")
        return f"http://{self.host}:{self.port}/"

    def start(self) -> FakeWeChat:
        """Listen (an ephemeral port when port is 0) and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping = threading.Event()
        handler = type("_Handler", (_KeepAliveHandler,), {"app": staticmethod(self._wsgi)})
        server = _FakeHTTPServer((self.host, self.port), handler)
        self._server = server
        self.port = server.server_address[1]
        # A short poll interval: shutdown() waits up to one interval, and tests start and stop a lot of fakes.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-wechat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests sleeping in an injected delay are woken and answered."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- control and inspection (mirrored by FakeWeChatControl)

    def reset(self) -> None:
        """Forget tokens, codes, users, templates, pages, words, messages, calls, injections and options."""
        self._state.reset()

    def inject(self, endpoint: str, errcode: int, times: int | None = 1, errmsg: str | None = None) -> None:
        """Make the next ``times`` calls of ``endpoint`` (None: every call) answer ``errcode``.

        ``errmsg`` defaults to WeChat's message for that code; " rid: ..." is appended either way.
        """
        _check_endpoint(endpoint)
        _check_times(times)
        with self._state.lock:
            self._state.injections[endpoint].errors.append(_Rule(times, int(errcode), errmsg))

    def inject_delay(self, endpoint: str, seconds: float, times: int | None = 1) -> None:
        """Make the next ``times`` calls of ``endpoint`` sleep ``seconds`` before being answered."""
        _check_endpoint(endpoint)
        _check_times(times)
        with self._state.lock:
            self._state.injections[endpoint].delays.append(_Rule(times, float(seconds)))

    def inject_http_status(self, endpoint: str, status: int, times: int | None = 1) -> None:
        """Make the next ``times`` calls of ``endpoint`` answer a bare HTTP ``status`` (e.g. 502)."""
        _check_endpoint(endpoint)
        _check_times(times)
        with self._state.lock:
            self._state.injections[endpoint].statuses.append(_Rule(times, int(status)))

    def inject_slow_reply(self, endpoint: str, seconds: float, times: int | None = 1) -> None:
        """Carry out the next ``times`` calls of ``endpoint`` at once but hold their answers ``seconds``.

        Unlike :meth:`inject_delay` (a slow server: nothing happens until the delay is over), the call's effect
        (a delivered message) exists before a client that gives up early stops waiting: a lost answer.
        """
        _check_endpoint(endpoint)
        _check_times(times)
        with self._state.lock:
            self._state.injections[endpoint].slow_replies.append(_Rule(times, float(seconds)))

    def inject_dropped_reply(self, endpoint: str, times: int | None = 1) -> None:
        """Carry out the next ``times`` calls of ``endpoint``, then close the connection without an answer."""
        _check_endpoint(endpoint)
        _check_times(times)
        with self._state.lock:
            self._state.injections[endpoint].dropped_replies.append(_Rule(times, None))

    def clear_injections(self, endpoint: str | None = None) -> None:
        """Drop pending injections of one endpoint, or of all."""
        with self._state.lock:
            names = [endpoint] if endpoint else list(ENDPOINTS)
            for name in names:
                _check_endpoint(name)
                self._state.injections[name] = _Injections()

    def calls(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """Return the recorded calls (oldest first), optionally of one endpoint.

        Each is ``{seq, endpoint, method, path, time, query, json, body, errcode, http_status, answered, reply}``;
        ``errcode`` is 0 for a success and None for a bare HTTP status answer or a call still in progress;
        ``reply`` is ``sent``, ``late`` (inject_slow_reply) or ``dropped`` (inject_dropped_reply).
        """
        with self._state.lock:
            chosen = [c for c in self._state.calls if endpoint is None or c["endpoint"] == endpoint]
            return copy.deepcopy(chosen)

    def call_count(self, endpoint: str | None = None) -> int:
        """Return how many calls were received (of one endpoint, or of all)."""
        with self._state.lock:
            return sum(1 for c in self._state.calls if endpoint is None or c["endpoint"] == endpoint)

    def token_fetch_count(self, include_stable: bool = True) -> int:
        """Return how many calls reached ``cgi-bin/token`` (and ``cgi-bin/stable_token`` unless told not)."""
        count = self.call_count("token")
        return count + self.call_count("stable_token") if include_stable else count

    def register_code(
        self,
        code: str,
        openid: str | None = None,
        unionid: str | None = None,
        session_key: str | None = None,
    ) -> dict[str, Any]:
        """Make wx.login ``code`` answer ``openid`` (default derived_openid(code)) and optional unionid.

        Returns the session the code will give.
        """
        if not code:
            raise ValueError("code must be non-empty")
        session = {
            "openid": openid or derived_openid(code),
            "session_key": session_key or derived_session_key(code),
            "unionid": unionid,
        }
        with self._state.lock:
            self._state.codes[code] = session
            self._state.revoked_codes.discard(code)
            self._state.used_codes.discard(code)
        return dict(session)

    def revoke_code(self, code: str) -> None:
        """Make ``code`` answer 40029 (expired or forged) even if well-formed or registered."""
        with self._state.lock:
            self._state.revoked_codes.add(code)

    def register_phone_code(self, code: str, phone: str, country_code: str = "86") -> None:
        """Make getPhoneNumber ``code`` answer ``phone`` (the pure number) in ``country_code``."""
        if not code or not phone:
            raise ValueError("code and phone must be non-empty")
        with self._state.lock:
            self._state.phone_codes[code] = {"phone": str(phone), "country_code": str(country_code)}
            self._state.used_phone_codes.discard(code)

    def register_openid(self, openid: str, unionid: str | None = None) -> None:
        """Make ``openid`` known (as if the user had logged in), optionally with a unionid."""
        if not openid:
            raise ValueError("openid must be non-empty")
        with self._state.lock:
            self._state.know_openid(openid, unionid)

    def expire_tokens(self, tokens: Iterable[str] | None = None) -> int:
        """Make the given access tokens (all issued so far when None) answer 42001; return the count."""
        with self._state.lock:
            return self._state.expire_tokens(None if tokens is None else list(tokens))

    def tokens(self) -> list[dict[str, Any]]:
        """Return ``{access_token, source, issued_at, expires_at, expired, stable}`` for each token."""
        with self._state.lock:
            return self._state.token_infos()

    def set_templates(self, templates: Mapping[str, Mapping[str, str]], replace: bool = False) -> None:
        """Register subscribe templates as ``{template_id: {key: kind}}`` (kinds: KEYWORD_KINDS)."""
        parsed: dict[str, dict[str, str]] = {}
        for template_id, keys in templates.items():
            for key, kind in keys.items():
                if kind not in KEYWORD_KINDS:
                    raise ValueError(f"template {template_id}: key {key} has unknown kind {kind!r}")
            parsed[str(template_id)] = {str(k): str(v) for k, v in keys.items()}
        with self._state.lock:
            if replace:
                self._state.templates = {}
            self._state.templates.update(parsed)

    def set_pages(self, pages: Iterable[str] | None) -> None:
        """Set the pages that exist (for check_path and subscribe ``page``); None: any well-formed page."""
        with self._state.lock:
            self._state.pages = None if pages is None else {str(p) for p in pages}

    def set_words(
        self, words: Mapping[str, int] | Iterable[str], suggest: str = "risky", replace: bool = True
    ) -> None:
        """Set the words that make msg_sec_check answer ``suggest`` ('risky' or 'review').

        ``words`` maps word to label (e.g. 20006), or is a list of words (label 20006 for risky, 21000
        for review).
        """
        if suggest not in _SUGGESTS:
            raise ValueError("suggest must be 'risky' or 'review'")
        default_label = 20006 if suggest == "risky" else 21000
        if isinstance(words, Mapping):
            parsed = {str(w): int(label) for w, label in words.items()}
        else:
            parsed = {str(w): default_label for w in words}
        with self._state.lock:
            if replace:
                self._state.words[suggest] = {}
            self._state.words[suggest].update(parsed)

    def refuse_messages(self, openid: str, template_id: str | None = None) -> None:
        """Make subscribe sends to ``openid`` (of one template, or all) answer 43101."""
        with self._state.lock:
            self._state.refused.add((openid, template_id))

    def grant_subscription(self, openid: str, template_id: str) -> dict[str, Any]:
        """The user accepted ``template_id`` in the subscribe pop-up: one more message of it may be sent.

        Returns the ``subscribe_msg_popup_event`` push (JSON mode) WeChat sends for that tap; the mini-program
        reports the same tap itself (``wx.requestSubscribeMessage``'s result). Counted with option
        ``subscription_quota``.
        """
        if not openid or not template_id:
            raise ValueError("openid and template_id must be non-empty")
        with self._state.lock:
            key = (openid, template_id)
            self._state.subscriptions[key] = self._state.subscriptions.get(key, 0) + 1
            created = int(self._state.now())
        return {
            "ToUserName": "gh_fake_wechat",
            "FromUserName": openid,
            "CreateTime": created,
            "MsgType": "event",
            "Event": "subscribe_msg_popup_event",
            "List": [{"TemplateId": template_id, "SubscribeStatusString": "accept", "PopupScene": "0"}],
        }

    def subscriptions(self, openid: str) -> dict[str, int]:
        """Return the one-time subscriptions ``openid`` has left, by template id."""
        with self._state.lock:
            return {t: n for (o, t), n in self._state.subscriptions.items() if o == openid}

    def messages(self, touser: str | None = None, template_id: str | None = None) -> list[dict[str, Any]]:
        """Return accepted subscribe messages (oldest first), optionally filtered."""
        with self._state.lock:
            return copy.deepcopy(
                [
                    m
                    for m in self._state.messages
                    if (touser is None or m["touser"] == touser)
                    and (template_id is None or m["template_id"] == template_id)
                ]
            )

    def media_checks(self) -> list[dict[str, Any]]:
        """Return accepted media_check_async requests (oldest first) with their trace_id."""
        with self._state.lock:
            return copy.deepcopy(self._state.media_checks)

    def set_options(self, **options: Any) -> dict[str, Any]:
        """Change behaviour switches (see DEFAULT_OPTIONS); return all options."""
        with self._state.lock:
            for key, value in options.items():
                if key not in DEFAULT_OPTIONS:
                    raise ValueError(f"unknown option {key!r}; known: {sorted(DEFAULT_OPTIONS)}")
                self._state.options[key] = value
            return dict(self._state.options)

    def advance_clock(self, seconds: float) -> float:
        """Move the fake's clock forward (tokens age); return the total offset."""
        with self._state.lock:
            self._state.clock_offset += float(seconds)
            return self._state.clock_offset

    def media_check_event(
        self, trace_id: str, suggest: str = "pass", label: int = 100, openid: str = ""
    ) -> dict[str, Any]:
        """Build the ``wxa_media_check`` push event (JSON mode) WeChat sends when a media check ends."""
        return {
            "ToUserName": "gh_fake_wechat",
            "FromUserName": openid,
            "CreateTime": int(self._state.now()),
            "MsgType": "event",
            "Event": "wxa_media_check",
            "appid": self.appid,
            "trace_id": trace_id,
            "version": 2,
            "detail": [
                {"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}
            ],
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
        }

    # ---- WSGI

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        is_control = request.path.startswith("/__fake__/")
        response = self._control(request) if is_control else self._serve_api(request)
        return response(environ, start_response)

    def _serve_api(self, request: Request) -> Response:
        endpoint = _PATH_TO_ENDPOINT.get(request.path)
        raw = request.get_data()
        # wechatpy posts JSON bytes without a Content-Type header; the real server parses the body anyway.
        try:
            body: Any = json.loads(raw.decode("utf-8")) if raw else None
            parse_failed = False
        except (UnicodeDecodeError, ValueError):
            body, parse_failed = None, True
        query = request.args.to_dict()
        state = self._state
        with state.lock:
            record = {
                "seq": len(state.calls) + 1,
                "endpoint": endpoint or "unknown",
                "method": request.method,
                "path": request.path,
                "time": state.now(),
                "query": query,
                "json": copy.deepcopy(body),
                "body": raw.decode("utf-8", "replace")[:4000],
                "errcode": None,
                "http_status": None,
                "answered": False,
                "reply": "sent",
            }
            state.calls.append(record)
            taken = state.take_injections(endpoint) if endpoint else _Taken(None, None, None, None, None)
        delay, status, error = taken.delay, taken.status, taken.error
        if delay is not None:
            self._stopping.wait(delay.value)
        if endpoint is None:
            answer: _Answer = (404, "text/html", b"<html><body>404 Not Found</body></html>")
        elif status is not None:
            answer = (status.value, "text/html", f"<html><body>{status.value}</body></html>".encode())
        elif error is not None:
            answer = _json_answer(_error(error.value, error.errmsg))
        elif ENDPOINTS[endpoint][0] == "POST" and request.method != "POST":
            answer = _json_answer(_error(43002))
        else:
            # A body that is not JSON reaches the handlers as None: they answer 47001 like the real server.
            answer = self._guarded(endpoint, query, None if parse_failed else body)
        http_status, content_type, payload = answer
        if isinstance(payload, dict) and "__png__" in payload:
            width, seed, text = payload["__png__"]
            data = make_png(width, seed, text)
            errcode: int | None = 0
        elif isinstance(payload, dict):
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            errcode = int(payload.get("errcode", 0))
        else:
            data, errcode = payload, None
        with state.lock:
            record["errcode"] = errcode if http_status == 200 else None
            record["http_status"] = http_status
        if taken.dropped_reply is not None:
            # Carried out, but the connection closes without an answer (the handler sees the flag).
            request.environ["fake.drop_connection"] = True
            with state.lock:
                record["reply"] = "dropped"
            return Response(b"", status=204)
        if taken.slow_reply is not None:
            with state.lock:
                record["reply"] = "late"
            self._stopping.wait(taken.slow_reply.value)
        with state.lock:
            record["answered"] = True
        return Response(data, status=http_status, content_type=content_type)

    def _guarded(self, endpoint: str, query: Mapping[str, str], body: Any) -> _Answer:
        """Check the access token first (as the real gateway does), then run the endpoint."""
        with self._state.lock:
            if endpoint in _TOKEN_ENDPOINTS:
                problem = self._state.check_access_token(query)
                if problem:
                    return _json_answer(problem)
            handler: Callable[[Mapping[str, str], Any], _Answer] = getattr(self._handlers, endpoint)
            return handler(query, body)

    # ---- control API

    def _control(self, request: Request) -> Response:
        name = request.path[len("/__fake__/") :].strip("/")
        spec = _CONTROL.get(name)
        if spec is None:
            return _json_response({"error": f"unknown control {name!r}"}, status=404)
        method, action = spec
        if request.method != method:
            return _json_response({"error": f"{name} wants {method}"}, status=405)
        if method == "GET":
            params = _Params(request.args.to_dict())
        else:
            raw = request.get_data()
            try:
                loaded = json.loads(raw.decode("utf-8")) if raw else {}
            except ValueError:
                return _json_response({"error": "body is not JSON"}, status=400)
            if not isinstance(loaded, dict):
                return _json_response({"error": "body must be a JSON object"}, status=400)
            params = _Params(loaded)
        try:
            result = action(self, params)
        except (ValueError, TypeError, KeyError) as exc:
            return _json_response({"error": str(exc)}, status=400)
        return _json_response({"ok": True, "result": result})


def _control_table() -> dict[str, tuple[str, Callable[[FakeWeChat, _Params], Any]]]:
    """Map ``/__fake__/<name>`` to (HTTP method, call on the fake)."""
    return {
        "health": ("GET", lambda f, p: {"appid": f.appid, "base_url": f.base_url}),
        "reset": ("POST", lambda f, p: f.reset()),
        "inject": (
            "POST",
            lambda f, p: f.inject(
                p.need("endpoint"), int(p.need("errcode")), p.get("times", 1), p.get("errmsg")
            ),
        ),
        "inject_delay": (
            "POST",
            lambda f, p: f.inject_delay(p.need("endpoint"), float(p.need("seconds")), p.get("times", 1)),
        ),
        "inject_http_status": (
            "POST",
            lambda f, p: f.inject_http_status(p.need("endpoint"), int(p.need("status")), p.get("times", 1)),
        ),
        "inject_slow_reply": (
            "POST",
            lambda f, p: f.inject_slow_reply(p.need("endpoint"), float(p.need("seconds")), p.get("times", 1)),
        ),
        "inject_dropped_reply": (
            "POST",
            lambda f, p: f.inject_dropped_reply(p.need("endpoint"), p.get("times", 1)),
        ),
        "clear_injections": ("POST", lambda f, p: f.clear_injections(p.get("endpoint"))),
        "calls": ("GET", lambda f, p: f.calls(p.get("endpoint") or None)),
        "codes": (
            "POST",
            lambda f, p: f.register_code(
                p.need("code"), p.get("openid"), p.get("unionid"), p.get("session_key")
            ),
        ),
        "revoke_code": ("POST", lambda f, p: f.revoke_code(p.need("code"))),
        "phone_codes": (
            "POST",
            lambda f, p: f.register_phone_code(p.need("code"), p.need("phone"), p.get("country_code", "86")),
        ),
        "openids": ("POST", lambda f, p: f.register_openid(p.need("openid"), p.get("unionid"))),
        "expire_tokens": ("POST", lambda f, p: f.expire_tokens(p.get("tokens"))),
        "tokens": ("GET", lambda f, p: f.tokens()),
        "templates": (
            "POST",
            lambda f, p: f.set_templates(p.need("templates"), bool(p.get("replace", False))),
        ),
        "pages": ("POST", lambda f, p: f.set_pages(p.need("pages"))),
        "words": (
            "POST",
            lambda f, p: f.set_words(
                p.need("words"), p.get("suggest", "risky"), bool(p.get("replace", True))
            ),
        ),
        "refuse": ("POST", lambda f, p: f.refuse_messages(p.need("openid"), p.get("template_id"))),
        "grant_subscription": (
            "POST",
            lambda f, p: f.grant_subscription(p.need("openid"), p.need("template_id")),
        ),
        "subscriptions": ("GET", lambda f, p: f.subscriptions(p.need("openid"))),
        "messages": (
            "GET",
            lambda f, p: f.messages(p.get("touser") or None, p.get("template_id") or None),
        ),
        "media_checks": ("GET", lambda f, p: f.media_checks()),
        "options": ("POST", lambda f, p: f.set_options(**p)),
        "advance_clock": ("POST", lambda f, p: f.advance_clock(float(p.need("seconds")))),
        "media_check_event": (
            "POST",
            lambda f, p: f.media_check_event(
                p.need("trace_id"), p.get("suggest", "pass"), int(p.get("label", 100)), p.get("openid", "")
            ),
        ),
    }


_CONTROL = _control_table()


class FakeWeChatControl:
    """Drive a FakeWeChat that may run in another process, through its ``/__fake__/`` JSON API.

    The methods match :class:`FakeWeChat`'s control and inspection methods one for one.
    """

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._http = requests.Session()

    def _call(self, method: str, name: str, payload: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}__fake__/{name}"
        if method == "GET":
            params = {k: v for k, v in (payload or {}).items() if v is not None}
            response = self._http.get(url, params=params, timeout=self.timeout)
        else:
            response = self._http.post(url, json=dict(payload or {}), timeout=self.timeout)
        if response.status_code != 200:
            raise RuntimeError(f"fake control {name} failed: HTTP {response.status_code} {response.text}")
        return response.json()["result"]

    def close(self) -> None:
        """Close the HTTP session."""
        self._http.close()

    def health(self) -> dict[str, Any]:
        """Return ``{appid, base_url}`` of the fake (raises when it does not answer)."""
        return self._call("GET", "health")

    def reset(self) -> None:
        """See :meth:`FakeWeChat.reset`."""
        self._call("POST", "reset")

    def inject(self, endpoint: str, errcode: int, times: int | None = 1, errmsg: str | None = None) -> None:
        """See :meth:`FakeWeChat.inject`."""
        self._call(
            "POST", "inject", {"endpoint": endpoint, "errcode": errcode, "times": times, "errmsg": errmsg}
        )

    def inject_delay(self, endpoint: str, seconds: float, times: int | None = 1) -> None:
        """See :meth:`FakeWeChat.inject_delay`."""
        self._call("POST", "inject_delay", {"endpoint": endpoint, "seconds": seconds, "times": times})

    def inject_http_status(self, endpoint: str, status: int, times: int | None = 1) -> None:
        """See :meth:`FakeWeChat.inject_http_status`."""
        self._call("POST", "inject_http_status", {"endpoint": endpoint, "status": status, "times": times})

    def inject_slow_reply(self, endpoint: str, seconds: float, times: int | None = 1) -> None:
        """See :meth:`FakeWeChat.inject_slow_reply`."""
        self._call("POST", "inject_slow_reply", {"endpoint": endpoint, "seconds": seconds, "times": times})

    def inject_dropped_reply(self, endpoint: str, times: int | None = 1) -> None:
        """See :meth:`FakeWeChat.inject_dropped_reply`."""
        self._call("POST", "inject_dropped_reply", {"endpoint": endpoint, "times": times})

    def clear_injections(self, endpoint: str | None = None) -> None:
        """See :meth:`FakeWeChat.clear_injections`."""
        self._call("POST", "clear_injections", {"endpoint": endpoint})

    def calls(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`FakeWeChat.calls`."""
        return self._call("GET", "calls", {"endpoint": endpoint})

    def call_count(self, endpoint: str | None = None) -> int:
        """See :meth:`FakeWeChat.call_count`."""
        return len(self.calls(endpoint))

    def token_fetch_count(self, include_stable: bool = True) -> int:
        """See :meth:`FakeWeChat.token_fetch_count`."""
        count = self.call_count("token")
        return count + self.call_count("stable_token") if include_stable else count

    def register_code(
        self,
        code: str,
        openid: str | None = None,
        unionid: str | None = None,
        session_key: str | None = None,
    ) -> dict[str, Any]:
        """See :meth:`FakeWeChat.register_code`."""
        payload = {"code": code, "openid": openid, "unionid": unionid, "session_key": session_key}
        return self._call("POST", "codes", payload)

    def revoke_code(self, code: str) -> None:
        """See :meth:`FakeWeChat.revoke_code`."""
        self._call("POST", "revoke_code", {"code": code})

    def register_phone_code(self, code: str, phone: str, country_code: str = "86") -> None:
        """See :meth:`FakeWeChat.register_phone_code`."""
        self._call("POST", "phone_codes", {"code": code, "phone": phone, "country_code": country_code})

    def register_openid(self, openid: str, unionid: str | None = None) -> None:
        """See :meth:`FakeWeChat.register_openid`."""
        self._call("POST", "openids", {"openid": openid, "unionid": unionid})

    def expire_tokens(self, tokens: Iterable[str] | None = None) -> int:
        """See :meth:`FakeWeChat.expire_tokens`."""
        return self._call("POST", "expire_tokens", {"tokens": None if tokens is None else list(tokens)})

    def tokens(self) -> list[dict[str, Any]]:
        """See :meth:`FakeWeChat.tokens`."""
        return self._call("GET", "tokens")

    def set_templates(self, templates: Mapping[str, Mapping[str, str]], replace: bool = False) -> None:
        """See :meth:`FakeWeChat.set_templates`."""
        self._call("POST", "templates", {"templates": templates, "replace": replace})

    def set_pages(self, pages: Iterable[str] | None) -> None:
        """See :meth:`FakeWeChat.set_pages`."""
        self._call("POST", "pages", {"pages": None if pages is None else list(pages)})

    def set_words(
        self, words: Mapping[str, int] | Iterable[str], suggest: str = "risky", replace: bool = True
    ) -> None:
        """See :meth:`FakeWeChat.set_words`."""
        payload_words = dict(words) if isinstance(words, Mapping) else list(words)
        self._call("POST", "words", {"words": payload_words, "suggest": suggest, "replace": replace})

    def refuse_messages(self, openid: str, template_id: str | None = None) -> None:
        """See :meth:`FakeWeChat.refuse_messages`."""
        self._call("POST", "refuse", {"openid": openid, "template_id": template_id})

    def grant_subscription(self, openid: str, template_id: str) -> dict[str, Any]:
        """See :meth:`FakeWeChat.grant_subscription`."""
        return self._call("POST", "grant_subscription", {"openid": openid, "template_id": template_id})

    def subscriptions(self, openid: str) -> dict[str, int]:
        """See :meth:`FakeWeChat.subscriptions`."""
        return self._call("GET", "subscriptions", {"openid": openid})

    def messages(self, touser: str | None = None, template_id: str | None = None) -> list[dict[str, Any]]:
        """See :meth:`FakeWeChat.messages`."""
        return self._call("GET", "messages", {"touser": touser, "template_id": template_id})

    def media_checks(self) -> list[dict[str, Any]]:
        """See :meth:`FakeWeChat.media_checks`."""
        return self._call("GET", "media_checks")

    def set_options(self, **options: Any) -> dict[str, Any]:
        """See :meth:`FakeWeChat.set_options`."""
        return self._call("POST", "options", options)

    def advance_clock(self, seconds: float) -> float:
        """See :meth:`FakeWeChat.advance_clock`."""
        return self._call("POST", "advance_clock", {"seconds": seconds})

    def media_check_event(
        self, trace_id: str, suggest: str = "pass", label: int = 100, openid: str = ""
    ) -> dict[str, Any]:
        """See :meth:`FakeWeChat.media_check_event`."""
        payload = {"trace_id": trace_id, "suggest": suggest, "label": label, "openid": openid}
        return self._call("POST", "media_check_event", payload)


# --------------------------------------------------------------------------- wechatpy wiring

_REAL_BASE = "https://api.weixin.qq.com/"


def make_wechatpy_client(
    base_url: str,
    appid: str,
    secret: str,
    timeout: float | None = None,
    auto_retry: bool = True,
) -> Any:
    """Return a wechatpy ``WeChatClient`` whose every request goes to ``base_url`` (e.g. the fake).

    wechatpy 1.8.18 needs three changes for that: ``WeChatClient.API_BASE_URL`` (it is
    ``https://api.weixin.qq.com/cgi-bin/``: the client-level base includes ``cgi-bin/``), the URL
    hard-coded in ``WeChatClient.fetch_access_token``, and the API groups with their own base URL
    (``client.wxa`` is ``https://api.weixin.qq.com/``), which win over the client's.
    """
    from wechatpy.client import WeChatClient
    from wechatpy.client.api.base import BaseWeChatAPI

    base = base_url if base_url.endswith("/") else base_url + "/"

    class _PointedClient(WeChatClient):
        API_BASE_URL = base + "cgi-bin/"

        def fetch_access_token(self) -> dict[str, Any]:
            """Fetch a token from the pointed-at server instead of the hard-coded real one."""
            return self._fetch_access_token(
                url=base + "cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    client = _PointedClient(appid, secret, timeout=timeout, auto_retry=auto_retry)
    # vars(), not dir(): dir() would also read the access_token property and fetch a token.
    for api in vars(client).values():
        own = getattr(api, "API_BASE_URL", None) if isinstance(api, BaseWeChatAPI) else None
        if isinstance(own, str) and own.startswith(_REAL_BASE):
            api.API_BASE_URL = base + own[len(_REAL_BASE) :]
    return client


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """Run the fake until SIGTERM/SIGINT, after printing ``LISTENING <base_url>``."""
    parser = argparse.ArgumentParser(description="Fake WeChat server API for tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--appid", default="wx_test_appid")
    parser.add_argument("--secret", default="test_secret")
    parser.add_argument("--token-ttl", type=int, default=7200)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    done = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    fake = FakeWeChat(args.appid, args.secret, host=args.host, port=args.port, token_ttl=args.token_ttl)
    fake.start()
    print(f"LISTENING {fake.base_url}", flush=True)
    # The fake keeps every call it answered (tests inspect them), so full collections would walk an ever larger
    # heap and each request would cost more than the one before (benchmarks measure against this process).
    # Young garbage is collected here twice a second; the kept records are plain dicts without cycles.
    gc.disable()
    try:
        while not done.wait(0.5):
            gc.collect(1)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
