"""Shared helpers for the fake-WeChat tests (no conftest: the suite runs with --noconftest)."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.fakes.wechat_server import ENDPOINTS, FakeWeChat

APPID = "wx_test_appid"
SECRET = "test_secret"
RID = r"rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$"
TEMPLATE = "TPL_menu_published_01"
TEMPLATE_KEYS = {"thing1": "thing", "phrase2": "phrase", "time3": "time"}
GOOD_DATA = {
    "thing1": {"value": "今日午餐已公示"},
    "phrase2": {"value": "已公示"},
    "time3": {"value": "2024年9月2日 11:30"},
}


def errmsg_re(message: str) -> re.Pattern[str]:
    """Match WeChat's ``<message> rid: xxxxxxxx-xxxxxxxx-xxxxxxxx``."""
    return re.compile("^" + re.escape(message) + " " + RID)


def assert_error(response: requests.Response, errcode: int, message: str) -> None:
    """Assert an HTTP-200 WeChat error with exactly this code and message."""
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errcode", "errmsg"}
    assert body["errcode"] == errcode
    assert errmsg_re(message).match(body["errmsg"]), body["errmsg"]


def get_token(base_url: str, appid: str = APPID, secret: str = SECRET) -> str:
    """Fetch an access token the way wechatpy does."""
    response = requests.get(
        base_url + "cgi-bin/token",
        params={"grant_type": "client_credential", "appid": appid, "secret": secret},
        timeout=5,
    )
    return response.json()["access_token"]


def login(base_url: str, code: str) -> dict[str, Any]:
    """Exchange a wx.login code for a session."""
    response = requests.get(
        base_url + "sns/jscode2session",
        params={"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"},
        timeout=5,
    )
    return response.json()


def call_endpoint(
    fake: FakeWeChat, endpoint: str, token: str, openid: str, timeout: float = 5, **body: Any
) -> requests.Response:
    """Make one request to ``endpoint`` that succeeds when nothing is injected (``body`` overrides)."""
    base = fake.base_url
    if endpoint == "token":
        return requests.get(
            base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET},
            timeout=timeout,
        )
    if endpoint == "jscode2session":
        return requests.get(
            base + "sns/jscode2session",
            params={
                "appid": APPID,
                "secret": SECRET,
                "js_code": body.pop("js_code", "fresh_code_" + str(len(fake.calls()))),
                "grant_type": "authorization_code",
            },
            timeout=timeout,
        )
    if endpoint == "stable_token":
        payload: dict[str, Any] = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        return requests.post(base + "cgi-bin/stable_token", json={**payload, **body}, timeout=timeout)
    defaults: dict[str, dict[str, Any]] = {
        "getuserphonenumber": {"code": "phone_code_" + str(len(fake.calls()))},
        "subscribe_send": {"touser": openid, "template_id": TEMPLATE, "data": GOOD_DATA},
        "msg_sec_check": {"content": "今天的菜很好吃", "version": 2, "scene": 2, "openid": openid},
        "media_check_async": {
            "media_url": "https://cdn.example.com/a.jpg",
            "media_type": 2,
            "version": 2,
            "scene": 3,
            "openid": openid,
        },
        "getwxacodeunlimit": {"scene": "k=12", "page": "pages/index/index"},
    }
    path = ENDPOINTS[endpoint][1]
    return requests.post(
        base + path.lstrip("/"),
        params={"access_token": token},
        json={**defaults[endpoint], **body},
        timeout=timeout,
    )
