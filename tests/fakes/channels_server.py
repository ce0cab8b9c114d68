"""Fakes of the Tencent Cloud SMS API (``SendSms``, 2021-01-11) and of WeCom group robots' webhook, over real
HTTP on loopback, answering the real APIs' shapes and error codes.

* :class:`FakeTencentSms`: ``POST /`` with the SDK's headers (``X-TC-Action: SendSms``, ``X-TC-Version``,
  ``Authorization: TC3-HMAC-SHA256 …``). The signature is checked with the account's SecretKey as Tencent Cloud
  does (``AuthFailure.SecretIdNotFound``, ``AuthFailure.SignatureFailure``); then the application, signature
  name and template (``UnauthorizedOperation.SmsSdkAppIdVerifyFail``,
  ``FailedOperation.SignatureIncorrectOrUnapproved``, ``FailedOperation.TemplateIncorrectOrUnapproved``), the
  parameters (``FailedOperation.TemplateParamSetNotMatchApprovedTemplate``,
  ``InvalidParameterValue.TemplateParameterLengthLimit``) and, per number, ``SendStatusSet[].Code``: ``Ok``,
  ``InvalidParameterValue.IncorrectPhoneNumber``, ``FailedOperation.ContainSensitiveWord``,
  ``LimitExceeded.PhoneNumberDailyLimit`` (``daily_limit`` messages a number a day, Asia/Shanghai),
  ``LimitExceeded.PhoneNumberThirtySecondLimit`` (when ``thirty_second_limit`` is on). A whole-request error
  answers ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``, HTTP 200, as the API does.
* :class:`FakeWeComRobot`: ``POST /cgi-bin/webhook/send?key=KEY`` → ``{"errcode", "errmsg"}``: 93000 for a key
  it does not know, 40008 for a message type it does not know, 44004 for empty content, 40058 for markdown over
  4096 bytes, 45009 past 20 messages a minute per robot, 0 otherwise.

Both take injections for outages: an error code for the next calls, an HTTP status (the message is dropped),
a delay before the answer (the message is delivered, the answer may come after the client's timeout), and a
dropped answer (delivered, then the connection is closed without a reply). A refused connection is a fake
that was stopped (:meth:`stop`) or a port nobody listens on (:func:`closed_port`). ``messages`` is what a
recipient would have received.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SHANGHAI = timezone(timedelta(hours=8))
PHONE_RE = re.compile(r"^\+861[3-9]\d{9}$")


def closed_port() -> int:
    """A loopback port with nothing listening (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class _Injection:
    kind: str            # "error" | "http" | "delay" | "drop"
    value: Any
    times: int | None    # None: every call until cleared

    def take(self) -> bool:
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass
class _Answer:
    status: int = 200
    body: dict[str, Any] | None = None
    delay: float = 0.0
    drop: bool = False


class _QuietServer(ThreadingHTTPServer):
    """Clients that vanish mid-request (a killed dispatcher, a client timeout) are normal here, not errors."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _FakeServer:
    """A loopback HTTP server in a background thread; subclasses answer ``handle``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.injections: list[_Injection] = []
        self.calls: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> _FakeServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = fake._answer(self.path, dict(self.headers.items()), body)
                if answer.delay:
                    time.sleep(answer.delay)
                if answer.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                payload = json.dumps(answer.body or {}, ensure_ascii=False).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (a timeout test)
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (later connections are refused); ``start`` again serves on the same port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- injections -----------------------------------------------------------------------------------
    def inject_error(self, code: Any, times: int | None = 1) -> None:
        """Answer the next ``times`` calls with this error code (nothing is delivered)."""
        with self.lock:
            self.injections.append(_Injection("error", code, times))

    def inject_http_status(self, status: int, times: int | None = 1) -> None:
        """Answer the next calls with a bare HTTP status (a gateway's 502, 503…; nothing is delivered)."""
        with self.lock:
            self.injections.append(_Injection("http", status, times))

    def inject_delay(self, seconds: float, times: int | None = 1) -> None:
        """Deliver the next messages but answer only after ``seconds`` (a client timeout loses the answer)."""
        with self.lock:
            self.injections.append(_Injection("delay", seconds, times))

    def inject_dropped_reply(self, times: int | None = 1) -> None:
        """Deliver the next messages, then close the connection without an answer."""
        with self.lock:
            self.injections.append(_Injection("drop", None, times))

    def clear(self) -> None:
        """Forget every injection."""
        with self.lock:
            self.injections.clear()

    def _take(self) -> _Injection | None:
        with self.lock:
            for injection in self.injections:
                if injection.take():
                    return injection
        return None

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        injection = self._take()
        record = {"path": path, "headers": headers, "body": body}
        with self.lock:
            self.calls.append(record)
        if injection is not None and injection.kind == "http":
            return _Answer(status=int(injection.value), body={"message": "Bad Gateway"})
        if injection is not None and injection.kind == "error":
            return _Answer(body=self.error_body(injection.value))
        answer = self.handle(path, headers, body)
        if injection is not None and injection.kind == "delay":
            answer.delay = float(injection.value)
        if injection is not None and injection.kind == "drop":
            answer.drop = True
        return answer

    def error_body(self, code: Any) -> dict[str, Any]:
        raise NotImplementedError

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        raise NotImplementedError


# -- Tencent Cloud SMS ------------------------------------------------------------------------------------

SMS_ERRORS = {
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. Please check your signature "
                                    "is correct.",
    "AuthFailure.InvalidAuthorization": "Authorization header is invalid.",
    "InternalError.Timeout": "请求下发短信超时，请参考 [60008错误码说明]",
    "InternalError.RequestTimeException": "请求发起时间不正常，通常是由于您的服务器时间与腾讯云服务器时间差异超过"
                                          "10分钟导致的。",
    "RequestLimitExceeded": "Your current request times equals to `20` in a second, which exceeds the frequency "
                            "limit `20` for a second. Please reduce the frequency of calls.",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SmsSdkAppId 校验失败，请检查 SmsSdkAppId 是否正确。",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审批或格式错误。",
    "FailedOperation.TemplateIncorrectOrUnapproved": "模板未审批或请求的内容与审核通过的模板内容不匹配。",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "请求内容与审核通过的模板内容不匹配。",
    "InvalidParameterValue.TemplateParameterLengthLimit": "单个模板变量字符数超过12个。",
    "InvalidParameter.InvalidParameters": "参数错误。",
    "InvalidAction": "接口不存在。",
}
STATUS_MESSAGES = {
    "Ok": "send success",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误。",
    "FailedOperation.ContainSensitiveWord": "短信内容中含有敏感词。",
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限。",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "单个手机号30秒内下发短信条数超过设定的上限。",
}
AUTHORIZATION_RE = re.compile(r"^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
                              r"SignedHeaders=content-type;host, Signature=([0-9a-f]{64})$")
SENSITIVE_WORDS = ("代开发票", "赌博", "贷款")


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """Tencent Cloud's TC3-HMAC-SHA256 signature."""
    def _hmac(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class SmsAccount:
    """What the fake account has: credentials, an application, an approved signature and templates."""

    secret_id: str = "AKIDfake0000000000000000000000000000"
    secret_key: str = "fake-secret-key-000000000000000000"
    sdk_app_id: str = "1400000001"
    sign_name: str = "阳光食堂"
    # template id → number of parameters it takes
    templates: dict[str, int] = field(default_factory=lambda: {"1000001": 4})


class FakeTencentSms(_FakeServer):
    """Tencent Cloud SMS ``SendSms`` on loopback; ``endpoint`` is what ``TENCENT_SMS_ENDPOINT`` takes."""

    def __init__(self, account: SmsAccount | None = None, *, daily_limit: int = 10,
                 thirty_second_limit: bool = False, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.account = account or SmsAccount()
        self.daily_limit = daily_limit
        self.thirty_second_limit = thirty_second_limit
        self.clock = clock
        self.messages: list[dict[str, Any]] = []

    @property
    def endpoint(self) -> str:
        """``host:port`` for the SDK's HttpProfile (with protocol ``http``)."""
        return f"127.0.0.1:{self.port}"

    def error_body(self, code: Any) -> dict[str, Any]:
        return {"Response": {"Error": {"Code": str(code), "Message": SMS_ERRORS.get(str(code), str(code))},
                             "RequestId": str(uuid.uuid4())}}

    def sent_to(self, phone: str) -> int:
        """How many messages a number received (``+86…`` or 11 digits)."""
        phone = phone if phone.startswith("+") else f"+86{phone}"
        return sum(1 for m in self.messages if m["phone"] == phone)

    def _auth_error(self, headers: dict[str, str], body: bytes) -> str | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        match = AUTHORIZATION_RE.match(lowered.get("authorization", ""))
        if match is None:
            return "AuthFailure.InvalidAuthorization"
        secret_id, date, service, signature = match.groups()
        if secret_id != self.account.secret_id:
            return "AuthFailure.SecretIdNotFound"
        canonical = "\n".join(["POST", "/", "", f"content-type:{lowered.get('content-type', '')}\n"
                               f"host:{lowered.get('host', '')}\n", "content-type;host",
                               hashlib.sha256(body).hexdigest()])
        string_to_sign = "\n".join(["TC3-HMAC-SHA256", lowered.get("x-tc-timestamp", ""),
                                    f"{date}/{service}/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()])
        if not hmac.compare_digest(signature, tc3_signature(self.account.secret_key, date, service, string_to_sign)):
            return "AuthFailure.SignatureFailure"
        return None

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        lowered = {k.lower(): v for k, v in headers.items()}
        error = self._auth_error(headers, body)
        if error is None and (lowered.get("x-tc-action") != "SendSms" or lowered.get("x-tc-version") != "2021-01-11"):
            error = "InvalidAction"
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request, error = {}, error or "InvalidParameter.InvalidParameters"
        error = error or self._request_error(request)
        if error is not None:
            return _Answer(body=self.error_body(error))
        statuses = [self._send_one(phone, request) for phone in request["PhoneNumberSet"]]
        return _Answer(body={"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    def _request_error(self, request: dict[str, Any]) -> str | None:
        if not isinstance(request.get("PhoneNumberSet"), list) or not request["PhoneNumberSet"]:
            return "InvalidParameter.InvalidParameters"
        if request.get("SmsSdkAppId") != self.account.sdk_app_id:
            return "UnauthorizedOperation.SmsSdkAppIdVerifyFail"
        if request.get("SignName") != self.account.sign_name:
            return "FailedOperation.SignatureIncorrectOrUnapproved"
        template = str(request.get("TemplateId") or "")
        if template not in self.account.templates:
            return "FailedOperation.TemplateIncorrectOrUnapproved"
        params = request.get("TemplateParamSet") or []
        if len(params) != self.account.templates[template]:
            return "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
        if any(len(str(p)) > 12 for p in params):
            return "InvalidParameterValue.TemplateParameterLengthLimit"
        return None

    def _send_one(self, phone: str, request: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        day = datetime.fromtimestamp(now, SHANGHAI).date()
        with self.lock:
            today = [m for m in self.messages if m["phone"] == phone and m["day"] == day]
            if not PHONE_RE.match(str(phone)):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            elif any(word in str(p) for p in request["TemplateParamSet"] for word in SENSITIVE_WORDS):
                code = "FailedOperation.ContainSensitiveWord"
            elif len(today) >= self.daily_limit:
                code = "LimitExceeded.PhoneNumberDailyLimit"
            elif self.thirty_second_limit and any(now - m["at"] < 30 for m in today):
                code = "LimitExceeded.PhoneNumberThirtySecondLimit"
            else:
                code = "Ok"
            serial = f"5000:{uuid.uuid4().int % 10**28:028d}" if code == "Ok" else ""
            if code == "Ok":
                self.messages.append({"phone": phone, "params": list(request["TemplateParamSet"]),
                                      "template": str(request["TemplateId"]), "serial": serial, "at": now, "day": day,
                                      "session": request.get("SessionContext", "")})
        return {"SerialNo": serial, "PhoneNumber": phone, "Fee": 1 if code == "Ok" else 0,
                "SessionContext": request.get("SessionContext", ""), "Code": code, "Message": STATUS_MESSAGES[code],
                "IsoCode": "CN"}


# -- WeCom group robots -----------------------------------------------------------------------------------

WECOM_ERRORS = {
    -1: "system busy",
    40008: "invalid message type",
    40035: "invalid parameter",
    40058: "markdown.content exceed max length 4096",
    44004: "empty content",
    45009: "api freq out of limit",
    93000: "invalid webhook url",
}
MSGTYPES = ("text", "markdown", "image", "news", "file", "voice", "template_card", "markdown_v2")


class FakeWeComRobot(_FakeServer):
    """WeCom group robots' webhook on loopback; ``base_url`` is what ``WECOM_API_BASE`` takes."""

    def __init__(self, keys: list[str] | None = None, *, per_minute: int = 20,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.keys = set(keys or [])
        self.per_minute = per_minute
        self.clock = clock
        self.messages: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def add_key(self, key: str) -> None:
        """A robot created in a group: its webhook key now works."""
        with self.lock:
            self.keys.add(key)

    def remove_key(self, key: str) -> None:
        """The robot was removed from its group: its key answers 93000."""
        with self.lock:
            self.keys.discard(key)

    def received(self) -> Counter[str]:
        """Messages per key."""
        return Counter(m["key"] for m in self.messages)

    def error_body(self, code: Any) -> dict[str, Any]:
        code = int(code)
        hint = f"hint: [{int(self.clock())}_{uuid.uuid4().hex[:24]}], from ip: 127.0.0.1, more info at " \
               f"https://open.work.weixin.qq.com/devtool/query?e={code}"
        return {"errcode": code, "errmsg": f"{WECOM_ERRORS.get(code, 'error')}, {hint}"}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        parts = urlsplit(path)
        if parts.path != "/cgi-bin/webhook/send":
            return _Answer(status=404, body={"errcode": 404, "errmsg": "not found"})
        key = (parse_qs(parts.query).get("key") or [""])[0]
        if key not in self.keys:
            return _Answer(body=self.error_body(93000))
        try:
            message = json.loads(body)
        except ValueError:
            return _Answer(body=self.error_body(40035))
        if not isinstance(message, dict) or message.get("msgtype") not in MSGTYPES:
            return _Answer(body=self.error_body(40008))
        msgtype = message["msgtype"]
        content = str((message.get(msgtype) or {}).get("content") or "") if msgtype in ("text", "markdown") else "x"
        if not content:
            return _Answer(body=self.error_body(44004))
        if msgtype == "markdown" and len(content.encode()) > 4096:
            return _Answer(body=self.error_body(40058))
        now = self.clock()
        with self.lock:
            recent = sum(1 for m in self.messages if m["key"] == key and now - m["at"] < 60)
            if recent >= self.per_minute:
                return _Answer(body=self.error_body(45009))
            self.messages.append({"key": key, "msgtype": msgtype, "content": content, "at": now,
                                  "received_at": datetime.now(UTC)})
        return _Answer(body={"errcode": 0, "errmsg": "ok"})
