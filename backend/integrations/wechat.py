"""The only module that talks to WeChat (wechatpy underneath).

wechatpy 1.8 has habits this platform cannot live with, handled here:
- its retry on 40001/42001 is unbounded and uses a per-process token: we turn ``auto_retry`` off, keep
  the token in a shared store, and retry exactly once after one refresh;
- it fetches tokens from a hard-coded host: ``fetch`` goes through ``WECHAT_API_BASE`` instead;
- it would attach an access_token (and so fetch one) even to ``jscode2session``, which needs none;
- its ``requests`` session keeps 10 connections (the dispatcher sends from more threads, and each extra one
  opened and closed a connection per message) and costs more CPU per call than WeChat's answer: it talks through
  :class:`~backend.integrations.http_transport.LeanSession` instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from backend.integrations.http_transport import ConnectFailed, LeanSession
from backend.integrations.token_store import TokenStore

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatError(Exception):
    """WeChat answered with an error code."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached, timed out, or answered -1 (system busy) or an HTTP error."""

    def __init__(self, errmsg: str) -> None:
        super().__init__(-1, errmsg)


class WeChatOutcomeUnknown(WeChatUnavailable):
    """The request may have reached WeChat and been carried out, but its answer never came back.

    A timeout after the request was written, a connection reset or closed before the answer, an HTTP error
    status or an answer that is not WeChat's: whatever WeChat did is unknown, so repeating a call that is not
    idempotent (a subscribe message) may do it twice. Its parent :class:`WeChatUnavailable` alone means WeChat
    provably did nothing: no connection could be made, or WeChat answered -1 (system busy).
    """


@dataclass(frozen=True)
class WeChatSession:
    """What ``jscode2session`` tells us about a user. ``session_key`` never leaves the server."""

    openid: str
    session_key: str
    unionid: str | None


class _Client(WeChatClient):
    """A wechatpy client whose every URL, the token URL included, starts at our configured base."""

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float) -> None:
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.api_base = api_base
        self._http = LeanSession(api_base)

    def fetch_access_token(self) -> dict[str, Any]:
        """Fetch a new token from ``<base>cgi-bin/token`` with our timeout.

        wechatpy's own fetch hard-codes the real host and sends no timeout, so a slow WeChat would hang
        the caller (and, under the refresh lock, every other process).
        """
        response = self._http.get(
            f"{self.api_base}cgi-bin/token", timeout=self.timeout,
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        if response.status_code >= 500:
            raise WeChatUnavailable(f"token endpoint answered HTTP {response.status_code}")
        result = response.json()
        if result.get("errcode"):
            raise WeChatError(int(result["errcode"]), str(result.get("errmsg", "")))
        return result


class WeChatGateway:
    """Calls to the WeChat server API with a shared, lock-refreshed access token."""

    def __init__(self, appid: str, secret: str, api_base: str, token_store: TokenStore,
                 timeout: float = 5.0) -> None:
        if not api_base.endswith("/"):
            api_base += "/"
        self.appid = appid
        self.api_base = api_base
        self.timeout = timeout
        self.tokens = token_store
        self.client = _Client(appid, secret, api_base, timeout)

    # -- plumbing ---------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One HTTP call through wechatpy, with its failures turned into our exception types.

        Only a failed connection (the request never left) or WeChat's own -1 is :class:`WeChatUnavailable`;
        every other failure may come after WeChat acted on the request: :class:`WeChatOutcomeUnknown`.
        """
        try:
            return self.client._request(method, path, api_base_url=self.api_base, timeout=self.timeout, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode == -1:
                raise WeChatUnavailable(str(exc.errmsg or "system error")) from exc
            if exc.errcode is None:  # an HTTP error status: a proxy or WeChat's front, after the request arrived
                status = exc.response.status_code if exc.response is not None else "?"
                raise WeChatOutcomeUnknown(f"HTTP {status}") from exc
            raise WeChatError(int(exc.errcode), str(exc.errmsg)) from exc
        except (ConnectFailed, requests.ConnectTimeout) as exc:
            raise WeChatUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except requests.RequestException as exc:
            raise WeChatOutcomeUnknown(f"{type(exc).__name__}: {exc}") from exc

    def _fetch_token(self) -> tuple[str, int]:
        log.info("fetching WeChat access_token for %s", self.appid)
        try:
            result = self.client.fetch_access_token()
        except requests.RequestException as exc:
            raise WeChatUnavailable(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # not JSON
            raise WeChatUnavailable("token endpoint answered something other than JSON") from exc
        return result["access_token"], int(result.get("expires_in", 7200))

    def access_token(self) -> str:
        """A usable token from the shared store, fetching one (under its lock) when there is none."""
        cached = self.tokens.current()
        if cached is not None:
            return cached.value
        return self.tokens.refresh(self._fetch_token, stale=None)

    def _token_for_call(self, stale: str | None = None) -> str:
        """A token for the call about to be made; failing to get one means the call was never made."""
        try:
            return self.tokens.refresh(self._fetch_token, stale=stale) if stale else self.access_token()
        except WeChatError:  # the token endpoint's own failures are WeChatUnavailable or its errcode
            raise
        except Exception as exc:  # the shared token store (Redis, the database) failed
            raise WeChatUnavailable(f"access_token unavailable: {type(exc).__name__}: {exc}") from exc

    def _call_with_token(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call an access_token API; on 40001/42001 refresh once and retry once, never more."""
        token = self._token_for_call()
        try:
            return self._send(method, path, params={"access_token": token}, **kwargs)
        except WeChatError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.warning("WeChat rejected access_token (%s); refreshing once", exc.errcode)
        token = self._token_for_call(stale=token)
        return self._send(method, path, params={"access_token": token}, **kwargs)

    # -- the APIs the product uses --------------------------------------------------------------

    def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login`` code for the user's openid (``jscode2session``; no access_token)."""
        result = self._send("get", "sns/jscode2session", params={
            "appid": self.appid, "secret": self.client.secret, "js_code": code,
            "grant_type": "authorization_code",
            "access_token": None,  # present-but-None stops wechatpy from fetching a token; requests drops it
        })
        if not isinstance(result, dict) or "openid" not in result:
            raise WeChatUnavailable("jscode2session answered without openid")
        return WeChatSession(result["openid"], result.get("session_key", ""), result.get("unionid"))

    def get_phone_number(self, code: str) -> str:
        """The phone number behind a ``getPhoneNumber`` button code (``getuserphonenumber``)."""
        result = self._call_with_token("post", "wxa/business/getuserphonenumber", data={"code": code})
        return result["phone_info"]["purePhoneNumber"]

    def get_unlimited_wxacode(self, scene: str, page: str, env_version: str = "release",
                              check_path: bool = True, width: int = 430) -> bytes:
        """A mini-program code image (PNG bytes) that opens ``page`` with ``scene`` (``getwxacodeunlimit``)."""
        result = self._call_with_token("post", "wxa/getwxacodeunlimit", data={
            "scene": scene, "page": page, "env_version": env_version, "check_path": check_path, "width": width,
        })
        if isinstance(result, requests.Response):
            return result.content
        raise WeChatUnavailable("getwxacodeunlimit answered JSON without an image")

    def send_subscribe_message(self, openid: str, template_id: str, data: dict[str, dict[str, str]],
                               page: str | None = None, miniprogram_state: str = "formal") -> dict[str, Any]:
        """Send one subscribe message (``subscribeMessage.send``)."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data,
                                "miniprogram_state": miniprogram_state, "lang": "zh_CN"}
        if page:
            body["page"] = page
        return self._call_with_token("post", "cgi-bin/message/subscribe/send", data=body)

    def msg_sec_check(self, openid: str, content: str, scene: int = 2) -> str:
        """Content security check v2 for user text; returns WeChat's suggestion (pass / review / risky)."""
        result = self._call_with_token("post", "wxa/msg_sec_check", data={
            "openid": openid, "content": content, "version": 2, "scene": scene})
        return result.get("result", {}).get("suggest", "review")

    def media_check_async(self, openid: str, media_url: str, media_type: int = 2, scene: int = 2) -> str:
        """Ask WeChat to check an image asynchronously; the verdict arrives on the push endpoint."""
        result = self._call_with_token("post", "wxa/media_check_async", data={
            "openid": openid, "media_url": media_url, "media_type": media_type, "version": 2, "scene": scene})
        return result["trace_id"]


def build_gateway(config: dict[str, Any], engine: Any) -> WeChatGateway:
    """A gateway for the given settings; the token lives in Redis when configured, else the database."""
    appid = config["WECHAT_APPID"]
    store: TokenStore
    if config.get("REDIS_URL"):
        import redis

        from backend.integrations.token_store import RedisTokenStore

        store = RedisTokenStore(redis.Redis.from_url(config["REDIS_URL"]), appid)
    else:
        from backend.integrations.token_store import DatabaseTokenStore

        store = DatabaseTokenStore(engine, appid)
    return WeChatGateway(appid, config["WECHAT_SECRET"], config["WECHAT_API_BASE"], store,
                         timeout=float(config.get("WECHAT_TIMEOUT_SECONDS") or 5))
