"""The fake WeChat server driven through real wechatpy 1.8.18 over HTTP, as the product uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from wechatpy.client import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.exceptions import APILimitedException, WeChatClientException

from tests.fakes.wechat_server import FakeWeChat, derived_openid, make_wechatpy_client

from .helpers import APPID, GOOD_DATA, SECRET, TEMPLATE, TEMPLATE_KEYS, errmsg_re


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(appid=APPID, secret=SECRET) as server:
        server.set_templates({TEMPLATE: TEMPLATE_KEYS})
        yield server


@pytest.fixture
def client(fake: FakeWeChat) -> Any:
    return make_wechatpy_client(fake.base_url, APPID, SECRET, timeout=2)


@pytest.fixture
def openid(fake: FakeWeChat) -> str:
    fake.register_openid("oWECHATPY_USER_00000000000001")
    return "oWECHATPY_USER_00000000000001"


def test_wechatpy_hardcodes_the_real_host_and_the_helper_repoints_it(fake: FakeWeChat, client: Any) -> None:
    # Why make_wechatpy_client exists: three places name api.weixin.qq.com in wechatpy 1.8.18.
    assert WeChatClient.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert WeChatWxa.API_BASE_URL == "https://api.weixin.qq.com/"
    client_base, wxa_base = client.API_BASE_URL, client.wxa.API_BASE_URL
    assert client_base == fake.base_url + "cgi-bin/"
    assert wxa_base == fake.base_url
    assert WeChatWxa.API_BASE_URL == "https://api.weixin.qq.com/"  # the class is untouched
    assert fake.call_count() == 0  # building the client fetched no token


def test_code_to_session(fake: FakeWeChat, client: Any) -> None:
    session = client.wxa.code_to_session("wx_login_code_1")
    assert session == {"session_key": session["session_key"], "openid": derived_openid("wx_login_code_1")}
    # wechatpy adds access_token to every request, jscode2session included: one token fetch happens.
    assert fake.token_fetch_count() == 1
    [call] = fake.calls("jscode2session")
    assert call["query"]["access_token"] == fake.tokens()[0]["access_token"]
    assert call["query"]["js_code"] == "wx_login_code_1"
    assert call["query"]["grant_type"] == "authorization_code"


def test_code_to_session_single_use_and_invalid(fake: FakeWeChat, client: Any) -> None:
    fake.register_code(
        "with_union", openid="oUNION_USER_0000000000000001", unionid="oUNIONID_000000000000000001"
    )
    assert client.wxa.code_to_session("with_union")["unionid"] == "oUNIONID_000000000000000001"
    with pytest.raises(WeChatClientException) as used:
        client.wxa.code_to_session("with_union")
    assert used.value.errcode == 40163
    assert errmsg_re("code been used").match(used.value.errmsg)
    with pytest.raises(WeChatClientException) as invalid:
        client.wxa.code_to_session("not a code")
    assert invalid.value.errcode == 40029
    assert fake.token_fetch_count() == 1


def test_send_subscribe_message(fake: FakeWeChat, client: Any, openid: str) -> None:
    result = client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA, page="pages/index/index")
    assert (result["errcode"], result["errmsg"]) == (0, "ok")
    [message] = fake.messages()
    assert (message["touser"], message["template_id"], message["page"]) == (
        openid,
        TEMPLATE,
        "pages/index/index",
    )
    assert message["data"] == GOOD_DATA
    # wechatpy sends JSON bytes with no Content-Type; the fake parsed them anyway.
    assert fake.calls("subscribe_send")[0]["json"]["touser"] == openid


def test_field_rules_through_wechatpy(fake: FakeWeChat, client: Any, openid: str) -> None:
    ok = client.wxa.send_subscribe_message(openid, TEMPLATE, {**GOOD_DATA, "thing1": {"value": "a" * 20}})
    assert ok["errcode"] == 0
    with pytest.raises(WeChatClientException) as too_long:
        client.wxa.send_subscribe_message(openid, TEMPLATE, {**GOOD_DATA, "thing1": {"value": "a" * 21}})
    assert too_long.value.errcode == 47003
    assert errmsg_re("argument invalid! data.thing1.value invalid").match(too_long.value.errmsg)
    with pytest.raises(WeChatClientException) as phrase:
        client.wxa.send_subscribe_message(
            openid, TEMPLATE, {**GOOD_DATA, "phrase2": {"value": "六个汉字不行"}}
        )
    assert phrase.value.errcode == 47003
    assert errmsg_re("argument invalid! data.phrase2.value invalid").match(phrase.value.errmsg)
    assert len(fake.messages()) == 1


def test_40001_makes_wechatpy_refetch_and_retry_once(fake: FakeWeChat, client: Any, openid: str) -> None:
    fake.inject("subscribe_send", 40001)
    result = client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert result["errcode"] == 0
    assert fake.token_fetch_count() == 2
    calls = fake.calls("subscribe_send")
    assert [c["errcode"] for c in calls] == [40001, 0]
    first, second = (t["access_token"] for t in fake.tokens())
    assert [c["query"]["access_token"] for c in calls] == [first, second]


def test_expired_token_makes_wechatpy_refetch(fake: FakeWeChat, client: Any, openid: str) -> None:
    client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert fake.expire_tokens() == 1
    assert client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)["errcode"] == 0
    assert fake.token_fetch_count() == 2
    assert [c["errcode"] for c in fake.calls("subscribe_send")] == [0, 42001, 0]


def test_without_auto_retry_40001_surfaces(fake: FakeWeChat, openid: str) -> None:
    client = make_wechatpy_client(fake.base_url, APPID, SECRET, timeout=2, auto_retry=False)
    fake.inject("subscribe_send", 40001)
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert caught.value.errcode == 40001
    assert fake.token_fetch_count() == 1


def test_quota_errors(fake: FakeWeChat, client: Any, openid: str) -> None:
    fake.inject("subscribe_send", 45009)
    with pytest.raises(APILimitedException) as daily:
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert daily.value.errcode == 45009
    # 45011 (per-minute quota) is NOT an APILimitedException in wechatpy 1.8.18.
    fake.inject("subscribe_send", 45011)
    with pytest.raises(WeChatClientException) as minute:
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert type(minute.value) is WeChatClientException
    assert minute.value.errcode == 45011


@pytest.mark.parametrize("errcode", [-1, 40226, 43101, 40003])
def test_other_injected_errors_raise_client_exception(
    fake: FakeWeChat, client: Any, openid: str, errcode: int
) -> None:
    fake.inject("subscribe_send", errcode)
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert caught.value.errcode == errcode
    assert fake.messages() == []


def test_http_502_becomes_client_exception_without_errcode(
    fake: FakeWeChat, client: Any, openid: str
) -> None:
    fake.inject_http_status("subscribe_send", 502)
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)
    assert caught.value.errcode is None
    assert caught.value.response.status_code == 502


def test_delay_beyond_timeout_raises_requests_timeout(fake: FakeWeChat, openid: str) -> None:
    client = make_wechatpy_client(fake.base_url, APPID, SECRET, timeout=0.3)
    client.fetch_access_token()
    fake.inject_delay("subscribe_send", 1.0)
    # wechatpy does not wrap transport errors: the requests exception comes through as is.
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.wxa.send_subscribe_message(openid, TEMPLATE, GOOD_DATA)


def test_token_fetch_ignores_the_client_timeout(fake: FakeWeChat) -> None:
    # _fetch_access_token() calls requests without timeout=: a hanging token endpoint hangs the caller.
    client = make_wechatpy_client(fake.base_url, APPID, SECRET, timeout=0.2)
    fake.inject_delay("token", 0.6)
    started = time.monotonic()
    client.fetch_access_token()
    assert time.monotonic() - started >= 0.59
    assert fake.calls("token")[0]["errcode"] == 0


def test_wrong_secret_fails_on_first_call(fake: FakeWeChat) -> None:
    client = make_wechatpy_client(fake.base_url, APPID, "wrong_secret", timeout=2)
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.check_text_security("你好")
    assert caught.value.errcode == 40125
    assert errmsg_re("invalid appsecret").match(caught.value.errmsg)
    assert fake.call_count("msg_sec_check") == 0


def test_wxa_code_comes_back_as_png_response(fake: FakeWeChat, client: Any) -> None:
    response = client.wxa.get_wxa_code_unlimited("sid=42", page="pages/index/index")
    assert isinstance(response, requests.Response)
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    body = fake.calls("getwxacodeunlimit")[0]["json"]
    assert body["scene"] == "sid=42"
    assert body["width"] == 430
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.get_wxa_code_unlimited("x" * 33)
    assert caught.value.errcode == 40169


def test_text_and_media_security(fake: FakeWeChat, client: Any) -> None:
    assert client.wxa.check_text_security("今天吃什么") == {"errcode": 0, "errmsg": "ok"}
    with pytest.raises(WeChatClientException) as caught:
        client.wxa.check_text_security("有人在赌博")
    assert caught.value.errcode == 87014
    result = client.wxa.check_media_async("https://cdn.example.com/x.jpg", 2)
    assert result["errcode"] == 0
    [record] = fake.media_checks()
    assert (record["trace_id"], record["media_type"], record["version"]) == (result["trace_id"], 2, None)


def test_raw_v2_calls_through_client_post(fake: FakeWeChat, client: Any, openid: str) -> None:
    # wechatpy has no v2 helpers; the product posts the v2 bodies itself through client.post().
    result = client.post(
        fake.base_url + "wxa/msg_sec_check",
        data={"content": "赌博", "version": 2, "scene": 2, "openid": openid},
    )
    assert result["result"] == {"suggest": "risky", "label": 20006}
    phone = client.post(fake.base_url + "wxa/business/getuserphonenumber", data={"code": "pc_1"})
    assert phone["phone_info"]["countryCode"] == "86"
