"""The fake WeChat server over plain HTTP (requests): shapes, error codes, injections, records."""

from __future__ import annotations

import hashlib
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.wechat_server import ENDPOINTS, FakeWeChat, FakeWeChatControl, derived_openid, derived_phone

from .helpers import (
    APPID,
    GOOD_DATA,
    SECRET,
    TEMPLATE,
    TEMPLATE_KEYS,
    assert_error,
    call_endpoint,
    errmsg_re,
    get_token,
    login,
)

TOKEN_ENDPOINTS = [
    "getuserphonenumber",
    "subscribe_send",
    "msg_sec_check",
    "media_check_async",
    "getwxacodeunlimit",
]


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(appid=APPID, secret=SECRET) as server:
        server.set_templates({TEMPLATE: TEMPLATE_KEYS})
        yield server


@pytest.fixture
def token(fake: FakeWeChat) -> str:
    return get_token(fake.base_url)


@pytest.fixture
def openid(fake: FakeWeChat) -> str:
    return login(fake.base_url, "user_login_code")["openid"]


def post(fake: FakeWeChat, path: str, token: str | None, body: Any) -> requests.Response:
    params = {} if token is None else {"access_token": token}
    return requests.post(fake.base_url + path, params=params, json=body, timeout=5)


def send(fake: FakeWeChat, token: str, openid: str, **overrides: Any) -> requests.Response:
    body = {"touser": openid, "template_id": TEMPLATE, "data": GOOD_DATA, **overrides}
    return post(fake, "cgi-bin/message/subscribe/send", token, body)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        chunks.append((kind, payload))
        offset += 12 + length
    return chunks


# ---------------------------------------------------------------- lifecycle


def test_base_url_is_loopback_with_trailing_slash(fake: FakeWeChat) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/"
    assert fake.port > 0


def test_stop_closes_the_port() -> None:
    server = FakeWeChat().start()
    url = server.base_url
    assert requests.get(url + "__fake__/health", timeout=5).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "__fake__/health", timeout=2)


# ---------------------------------------------------------------- access tokens


def test_token_success_shape_and_each_call_issues_a_new_token(fake: FakeWeChat) -> None:
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = requests.get(fake.base_url + "cgi-bin/token", params=params, timeout=5)
    second = requests.get(fake.base_url + "cgi-bin/token", params=params, timeout=5)
    assert first.status_code == 200
    assert set(first.json()) == {"access_token", "expires_in"}
    assert first.json()["expires_in"] == 7200
    assert first.json()["access_token"] != second.json()["access_token"]
    assert fake.token_fetch_count() == 2
    # The older token stays valid until a test expires it.
    for value in (first.json()["access_token"], second.json()["access_token"]):
        answer = post(fake, "wxa/msg_sec_check", value, {"content": "你好"}).json()
        assert answer == {"errcode": 0, "errmsg": "ok"}


@pytest.mark.parametrize(
    ("params", "errcode", "message"),
    [
        ({"appid": "wx_wrong", "secret": SECRET}, 40013, "invalid appid"),
        ({"appid": APPID, "secret": "wrong"}, 40125, "invalid appsecret"),
        ({"secret": SECRET}, 41002, "appid missing"),
        ({"appid": APPID}, 41004, "appsecret missing"),
        ({"appid": APPID, "secret": SECRET, "grant_type": "password"}, 40002, "invalid grant_type"),
    ],
)
def test_token_errors(fake: FakeWeChat, params: dict[str, str], errcode: int, message: str) -> None:
    query = {"grant_type": "client_credential", **params}
    response = requests.get(fake.base_url + "cgi-bin/token", params=query, timeout=5)
    assert_error(response, errcode, message)
    assert fake.tokens() == []


def test_stable_token_reuses_until_force_refresh(fake: FakeWeChat) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = post(fake, "cgi-bin/stable_token", None, body).json()
    again = post(fake, "cgi-bin/stable_token", None, body).json()
    assert set(first) == {"access_token", "expires_in"}
    assert first["expires_in"] == 7200
    assert again["access_token"] == first["access_token"]
    assert 7195 <= again["expires_in"] <= 7200
    forced = post(fake, "cgi-bin/stable_token", None, {**body, "force_refresh": True}).json()
    assert forced["access_token"] != first["access_token"]
    # force_refresh invalidates the previous stable token at once.
    assert_error(
        post(fake, "wxa/msg_sec_check", first["access_token"], {"content": "x"}),
        40001,
        "invalid credential, access_token is invalid or not latest",
    )
    assert post(fake, "wxa/msg_sec_check", forced["access_token"], {"content": "x"}).json()["errcode"] == 0
    assert fake.token_fetch_count() == 3
    assert fake.token_fetch_count(include_stable=False) == 0


def test_stable_token_wrong_secret(fake: FakeWeChat) -> None:
    body = {"grant_type": "client_credential", "appid": APPID, "secret": "nope"}
    assert_error(post(fake, "cgi-bin/stable_token", None, body), 40125, "invalid appsecret")


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS)
def test_access_token_missing_unknown_expired(fake: FakeWeChat, openid: str, endpoint: str) -> None:
    path = ENDPOINTS[endpoint][1].lstrip("/")
    assert_error(post(fake, path, None, {}), 41001, "access_token missing")
    assert_error(post(fake, path, "", {}), 41001, "access_token missing")
    assert_error(
        post(fake, path, "not-a-token", {}),
        40001,
        "invalid credential, access_token is invalid or not latest",
    )
    token = get_token(fake.base_url)
    assert fake.expire_tokens() == 1
    assert_error(call_endpoint(fake, endpoint, token, openid), 42001, "access_token expired")
    fresh = get_token(fake.base_url)
    assert call_endpoint(fake, endpoint, fresh, openid).status_code == 200
    assert fake.calls(endpoint)[-1]["errcode"] == 0


def test_expire_only_given_tokens_and_ttl_by_clock(fake: FakeWeChat) -> None:
    old, new = get_token(fake.base_url), get_token(fake.base_url)
    assert fake.expire_tokens([old]) == 1
    assert_error(post(fake, "wxa/msg_sec_check", old, {"content": "x"}), 42001, "access_token expired")
    assert post(fake, "wxa/msg_sec_check", new, {"content": "x"}).json()["errcode"] == 0
    fake.advance_clock(7201)
    assert_error(post(fake, "wxa/msg_sec_check", new, {"content": "x"}), 42001, "access_token expired")
    assert [t["expired"] for t in fake.tokens()] == [True, True]


def test_token_overlap_option_expires_superseded_tokens(fake: FakeWeChat) -> None:
    fake.set_options(token_overlap_seconds=300)
    old = get_token(fake.base_url)
    get_token(fake.base_url)
    assert post(fake, "wxa/msg_sec_check", old, {"content": "x"}).json()["errcode"] == 0
    fake.advance_clock(301)
    assert_error(post(fake, "wxa/msg_sec_check", old, {"content": "x"}), 42001, "access_token expired")


def test_concurrent_token_fetches_are_all_distinct(fake: FakeWeChat) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def fetch() -> None:
        value = get_token(fake.base_url)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=fetch) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 12
    assert len(set(results)) == 12
    assert fake.token_fetch_count() == 12
    assert [c["seq"] for c in fake.calls()] == list(range(1, 13))


# ---------------------------------------------------------------- jscode2session


def test_jscode2session_unregistered_code_is_derived_and_single_use(fake: FakeWeChat) -> None:
    first = login(fake.base_url, "0a3Xyz_dev-code")
    expected = "o" + hashlib.sha1(b"0a3Xyz_dev-code").hexdigest()[:27]
    assert first["openid"] == expected == derived_openid("0a3Xyz_dev-code")
    assert len(first["openid"]) == 28
    assert set(first) == {"openid", "session_key"}
    assert len(first["session_key"]) == 24
    second = requests.get(
        fake.base_url + "sns/jscode2session",
        params={
            "appid": APPID,
            "secret": SECRET,
            "js_code": "0a3Xyz_dev-code",
            "grant_type": "authorization_code",
        },
        timeout=5,
    )
    assert_error(second, 40163, "code been used")
    assert [c["errcode"] for c in fake.calls("jscode2session")] == [0, 40163]


def test_jscode2session_registered_code_with_unionid(fake: FakeWeChat) -> None:
    session = fake.register_code(
        "code_with_union", openid="oUSER000000000000000000000001", unionid="oUNION0000000001"
    )
    answer = login(fake.base_url, "code_with_union")
    assert answer == {
        "openid": "oUSER000000000000000000000001",
        "session_key": session["session_key"],
        "unionid": "oUNION0000000001",
    }


@pytest.mark.parametrize("code", ["has space", "x" * 65, "中文码", "a/b"])
def test_jscode2session_malformed_code(fake: FakeWeChat, code: str) -> None:
    response = requests.get(
        fake.base_url + "sns/jscode2session",
        params={"appid": APPID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"},
        timeout=5,
    )
    assert_error(response, 40029, "invalid code")


def test_jscode2session_revoked_strict_and_credentials(fake: FakeWeChat) -> None:
    fake.revoke_code("revoked_code")
    assert login(fake.base_url, "revoked_code")["errcode"] == 40029
    fake.set_options(accept_unregistered_codes=False)
    assert login(fake.base_url, "never_registered")["errcode"] == 40029
    fake.register_code("now_registered")
    assert login(fake.base_url, "now_registered")["openid"] == derived_openid("now_registered")
    base = {"appid": APPID, "secret": SECRET, "js_code": "c", "grant_type": "authorization_code"}
    url = fake.base_url + "sns/jscode2session"
    assert_error(requests.get(url, params={**base, "secret": "bad"}, timeout=5), 40125, "invalid appsecret")
    assert_error(requests.get(url, params={**base, "appid": "wx_other"}, timeout=5), 40013, "invalid appid")
    assert_error(requests.get(url, params={**base, "js_code": ""}, timeout=5), 41008, "missing code")


# ---------------------------------------------------------------- phone number


def test_phone_number_registered_default_and_single_use(fake: FakeWeChat, token: str) -> None:
    fake.register_phone_code("phone_ok", "13912345678")
    before = int(time.time())
    body = post(fake, "wxa/business/getuserphonenumber", token, {"code": "phone_ok"}).json()
    assert body["errcode"] == 0
    assert body["errmsg"] == "ok"
    info = body["phone_info"]
    assert {k: info[k] for k in ("phoneNumber", "purePhoneNumber", "countryCode")} == {
        "phoneNumber": "13912345678",
        "purePhoneNumber": "13912345678",
        "countryCode": "86",
    }
    assert info["watermark"]["appid"] == APPID
    assert before <= info["watermark"]["timestamp"] <= int(time.time())
    reuse = post(fake, "wxa/business/getuserphonenumber", token, {"code": "phone_ok"})
    assert_error(reuse, 40029, "invalid code")
    derived = post(fake, "wxa/business/getuserphonenumber", token, {"code": "any_phone_code"}).json()
    assert derived["phone_info"]["purePhoneNumber"] == derived_phone("any_phone_code")
    assert len(derived_phone("any_phone_code")) == 11
    assert derived_phone("any_phone_code").startswith("13")


def test_phone_number_foreign_and_invalid(fake: FakeWeChat, token: str) -> None:
    fake.register_phone_code("hk", "61234567", country_code="852")
    info = post(fake, "wxa/business/getuserphonenumber", token, {"code": "hk"}).json()["phone_info"]
    assert (info["phoneNumber"], info["purePhoneNumber"], info["countryCode"]) == (
        "+85261234567",
        "61234567",
        "852",
    )
    assert_error(
        post(fake, "wxa/business/getuserphonenumber", token, {"code": "bad code"}), 40029, "invalid code"
    )
    assert_error(post(fake, "wxa/business/getuserphonenumber", token, {}), 40029, "invalid code")


# ---------------------------------------------------------------- subscribe messages


def test_subscribe_send_success_is_recorded(fake: FakeWeChat, token: str, openid: str) -> None:
    response = send(
        fake, token, openid, page="pages/menu/detail?id=7", miniprogram_state="trial", lang="zh_CN"
    )
    body = response.json()
    assert set(body) == {"errcode", "errmsg", "msgid"}
    assert (body["errcode"], body["errmsg"]) == (0, "ok")
    assert isinstance(body["msgid"], int)
    [message] = fake.messages()
    assert message["msgid"] == body["msgid"]
    assert message["touser"] == openid
    assert message["template_id"] == TEMPLATE
    assert message["page"] == "pages/menu/detail?id=7"
    assert message["miniprogram_state"] == "trial"
    assert message["data"] == GOOD_DATA
    assert fake.messages(touser="oSOMEONE_ELSE") == []
    assert len(fake.messages(template_id=TEMPLATE)) == 1


def test_thing_is_at_most_20_characters(fake: FakeWeChat, token: str, openid: str) -> None:
    twenty = "一二三四五六七八九十一二三四五六七八九十"
    assert len(twenty) == 20
    ok = send(fake, token, openid, data={**GOOD_DATA, "thing1": {"value": twenty}})
    assert ok.json()["errcode"] == 0
    too_long = send(fake, token, openid, data={**GOOD_DATA, "thing1": {"value": twenty + "!"}})
    assert_error(too_long, 47003, "argument invalid! data.thing1.value invalid")
    assert len(fake.messages()) == 1


@pytest.mark.parametrize("value", ["六个汉字太长", "ok", "已 公示", "已公示1"])
def test_phrase_rule(fake: FakeWeChat, token: str, openid: str, value: str) -> None:
    response = send(fake, token, openid, data={**GOOD_DATA, "phrase2": {"value": value}})
    assert_error(response, 47003, "argument invalid! data.phrase2.value invalid")
    assert fake.messages() == []


def test_missing_and_empty_keys(fake: FakeWeChat, token: str, openid: str) -> None:
    data = {k: v for k, v in GOOD_DATA.items() if k != "time3"}
    assert_error(send(fake, token, openid, data=data), 47003, "argument invalid! data.time3.value is empty")
    data = {**GOOD_DATA, "thing1": {"value": ""}}
    assert_error(send(fake, token, openid, data=data), 47003, "argument invalid! data.thing1.value is empty")
    assert_error(send(fake, token, openid, data="not an object"), 47001, "data format error")


def test_bad_time_value(fake: FakeWeChat, token: str, openid: str) -> None:
    response = send(fake, token, openid, data={**GOOD_DATA, "time3": {"value": "明天中午"}})
    assert_error(response, 47003, "argument invalid! data.time3.value invalid")


def test_unknown_template_and_openid(fake: FakeWeChat, token: str, openid: str) -> None:
    assert_error(send(fake, token, openid, template_id=""), 40037, "invalid template_id")
    fake.set_options(allow_unregistered_templates=False)
    assert_error(send(fake, token, openid, template_id="TPL_not_registered"), 40037, "invalid template_id")
    assert_error(send(fake, token, "oNEVER_LOGGED_IN_000000000000"), 40003, "invalid openid")
    assert_error(send(fake, token, ""), 40003, "invalid openid")
    fake.register_openid("oREGISTERED_00000000000000001")
    assert send(fake, token, "oREGISTERED_00000000000000001").json()["errcode"] == 0


def test_unregistered_template_infers_kinds_from_key_names(fake: FakeWeChat, token: str, openid: str) -> None:
    ok = send(fake, token, openid, template_id="TPL_free_form_99", data={"number2": {"value": "12.5"}})
    assert ok.json()["errcode"] == 0
    bad = send(fake, token, openid, template_id="TPL_free_form_99", data={"number2": {"value": "12,5"}})
    assert_error(bad, 47003, "argument invalid! data.number2.value invalid")
    unknown_kind = send(fake, token, openid, template_id="TPL_free_form_99", data={"foo1": {"value": "x"}})
    assert_error(unknown_kind, 47003, "argument invalid! data.foo1.value invalid")


def test_refused_user_pages_and_state(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.refuse_messages(openid, TEMPLATE)
    assert_error(send(fake, token, openid), 43101, "user refuse to accept the msg")
    fake.reset()
    fake.set_templates({TEMPLATE: TEMPLATE_KEYS})
    token = get_token(fake.base_url)
    openid = login(fake.base_url, "user_login_code")["openid"]
    fake.set_pages(["pages/index/index"])
    assert_error(send(fake, token, openid, page="pages/nope/nope"), 41030, "invalid page")
    assert send(fake, token, openid, page="pages/index/index?from=msg").json()["errcode"] == 0
    assert_error(
        send(fake, token, openid, miniprogram_state="release"),
        47003,
        "argument invalid! miniprogram_state invalid",
    )


# ---------------------------------------------------------------- content security


def test_msg_sec_check_v2_pass_risky_review(fake: FakeWeChat, token: str, openid: str) -> None:
    body = {"content": "今天的红烧肉很好吃", "version": 2, "scene": 2, "openid": openid}
    passed = post(fake, "wxa/msg_sec_check", token, body).json()
    assert set(passed) == {"errcode", "errmsg", "result", "detail", "trace_id"}
    assert passed["result"] == {"suggest": "pass", "label": 100}
    assert passed["detail"][0]["strategy"] == "content_model"
    risky = post(fake, "wxa/msg_sec_check", token, {**body, "content": "食堂旁边有人赌博"}).json()
    assert (risky["errcode"], risky["result"]) == (0, {"suggest": "risky", "label": 20006})
    assert risky["detail"][1]["keyword"] == "赌博"
    fake.set_words({"待审核": 21000}, suggest="review")
    review = post(fake, "wxa/msg_sec_check", token, {**body, "content": "这条待审核"}).json()
    assert review["result"] == {"suggest": "review", "label": 21000}
    fake.set_words(["红烧肉"])
    now_risky = post(fake, "wxa/msg_sec_check", token, body).json()
    assert now_risky["result"] == {"suggest": "risky", "label": 20006}
    assert (
        post(fake, "wxa/msg_sec_check", token, {**body, "content": "赌博"}).json()["result"]["suggest"]
        == "pass"
    )


def test_msg_sec_check_v2_errors_and_v1(fake: FakeWeChat, token: str, openid: str) -> None:
    body = {"content": "你好", "version": 2, "scene": 9, "openid": openid}
    assert_error(post(fake, "wxa/msg_sec_check", token, body), 40129, "invalid scene")
    body = {"content": "你好", "version": 2, "scene": 1, "openid": "oUNKNOWN"}
    assert_error(post(fake, "wxa/msg_sec_check", token, body), 40003, "invalid openid")
    assert_error(post(fake, "wxa/msg_sec_check", token, {"content": "有人赌博"}), 87014, "risky content")
    assert post(fake, "wxa/msg_sec_check", token, {"content": "你好"}).json() == {
        "errcode": 0,
        "errmsg": "ok",
    }


def test_media_check_async_records(fake: FakeWeChat, token: str, openid: str) -> None:
    body = {
        "media_url": "https://cdn.example.com/k.jpg",
        "media_type": 2,
        "version": 2,
        "scene": 3,
        "openid": openid,
    }
    answer = post(fake, "wxa/media_check_async", token, body).json()
    assert set(answer) == {"errcode", "errmsg", "trace_id"}
    assert (answer["errcode"], answer["errmsg"]) == (0, "ok")
    [record] = fake.media_checks()
    assert record["trace_id"] == answer["trace_id"]
    assert (record["media_url"], record["media_type"], record["scene"], record["openid"]) == (
        "https://cdn.example.com/k.jpg",
        2,
        3,
        openid,
    )
    assert_error(post(fake, "wxa/media_check_async", token, {**body, "media_type": 3}), 40097, "invalid args")
    event = fake.media_check_event(answer["trace_id"], suggest="risky", label=20002, openid=openid)
    assert (event["Event"], event["trace_id"], event["result"]) == (
        "wxa_media_check",
        answer["trace_id"],
        {"suggest": "risky", "label": 20002},
    )


# ---------------------------------------------------------------- mini-program code


def test_getwxacodeunlimit_returns_png(fake: FakeWeChat, token: str) -> None:
    response = post(
        fake, "wxa/getwxacodeunlimit", token, {"scene": "s=42&k=a_b", "page": "pages/index/index"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    chunks = png_chunks(response.content)
    assert chunks[0][0] == b"IHDR"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    assert (width, height) == (430, 430)
    text = dict(c[1].split(b"\x00", 1) for c in chunks if c[0] == b"tEXt")
    assert text[b"scene"] == b"s=42&k=a_b"
    assert text[b"page"] == b"pages/index/index"
    pixels = zlib.decompress(b"".join(c[1] for c in chunks if c[0] == b"IDAT"))
    assert len(pixels) == 430 * 431
    assert fake.calls("getwxacodeunlimit")[-1]["errcode"] == 0


def test_getwxacodeunlimit_width_is_clamped(fake: FakeWeChat, token: str) -> None:
    response = post(fake, "wxa/getwxacodeunlimit", token, {"scene": "a", "width": 100})
    width = struct.unpack(">I", response.content[16:20])[0]
    assert width == 280


@pytest.mark.parametrize(
    ("body", "errcode", "message"),
    [
        ({"scene": "x" * 33}, 40169, "invalid length for scene, or the data is not json string"),
        ({"scene": ""}, 40169, "invalid length for scene, or the data is not json string"),
        ({"page": "pages/index/index"}, 40169, "invalid length for scene, or the data is not json string"),
        ({"scene": "中文"}, 40097, "invalid args"),
        ({"scene": "a b"}, 40097, "invalid args"),
        ({"scene": "a%20b"}, 40097, "invalid args"),
        ({"scene": "ok", "env_version": "prod"}, 40097, "invalid args"),
        ({"scene": "ok", "page": "/pages/index/index"}, 41030, "invalid page"),
        ({"scene": "ok", "page": "pages/index/index?id=1"}, 41030, "invalid page"),
    ],
)
def test_getwxacodeunlimit_errors_are_json(
    fake: FakeWeChat, token: str, body: dict[str, Any], errcode: int, message: str
) -> None:
    assert_error(post(fake, "wxa/getwxacodeunlimit", token, body), errcode, message)


def test_getwxacodeunlimit_scene_of_32_allowed_chars(fake: FakeWeChat, token: str) -> None:
    scene = "!#$&'()*+,/:;=?@-._~0123456789aZ"
    assert len(scene) == 32
    assert post(fake, "wxa/getwxacodeunlimit", token, {"scene": scene}).content[:4] == b"\x89PNG"


def test_getwxacodeunlimit_registered_pages_and_check_path(fake: FakeWeChat, token: str) -> None:
    fake.set_pages(["pages/index/index", "pages/kitchen/live"])
    assert post(fake, "wxa/getwxacodeunlimit", token, {"scene": "k=1", "page": "pages/kitchen/live"}).content[
        :4
    ] == (b"\x89PNG")
    assert_error(
        post(fake, "wxa/getwxacodeunlimit", token, {"scene": "k=1", "page": "pages/new/new"}),
        41030,
        "invalid page",
    )
    unchecked = post(
        fake,
        "wxa/getwxacodeunlimit",
        token,
        {"scene": "k=1", "page": "pages/new/new", "check_path": False, "env_version": "develop"},
    )
    assert unchecked.headers["Content-Type"] == "image/png"


# ---------------------------------------------------------------- injections


ALL_ERRORS = [
    (-1, "system error"),
    (40001, "invalid credential, access_token is invalid or not latest"),
    (42001, "access_token expired"),
    (40029, "invalid code"),
    (40163, "code been used"),
    (45011, "api minute-quota reach limit  mustslower  retry next minute"),
    (40226, "high risk user"),
    (43101, "user refuse to accept the msg"),
    (45009, "reach max api daily quota limit"),
    (47003, "argument invalid!"),
]


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_inject_once_on_every_endpoint(fake: FakeWeChat, token: str, openid: str, endpoint: str) -> None:
    fake.inject(endpoint, 45011)
    assert_error(
        call_endpoint(fake, endpoint, token, openid),
        45011,
        "api minute-quota reach limit  mustslower  retry next minute",
    )
    after = call_endpoint(fake, endpoint, token, openid)
    assert after.status_code == 200
    if after.headers["Content-Type"].startswith("application/json"):
        assert after.json().get("errcode", 0) == 0
    assert [c["errcode"] for c in fake.calls(endpoint)][-2:] == [45011, 0]


@pytest.mark.parametrize(("errcode", "message"), ALL_ERRORS)
def test_injected_errors_use_real_messages(
    fake: FakeWeChat, token: str, openid: str, errcode: int, message: str
) -> None:
    fake.inject("subscribe_send", errcode)
    assert_error(send(fake, token, openid), errcode, message)
    assert fake.messages() == []


def test_inject_always_custom_message_and_clear(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject("msg_sec_check", -1, times=None, errmsg="system error, please retry")
    for _ in range(3):
        assert_error(
            post(fake, "wxa/msg_sec_check", token, {"content": "x"}), -1, "system error, please retry"
        )
    fake.clear_injections("msg_sec_check")
    assert post(fake, "wxa/msg_sec_check", token, {"content": "x"}).json()["errcode"] == 0


def test_injections_queue_in_order(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject("subscribe_send", 45011, times=2)
    fake.inject("subscribe_send", -1)
    codes = [send(fake, token, openid).json()["errcode"] for _ in range(4)]
    assert codes == [45011, 45011, -1, 0]


def test_injected_error_does_not_consume_the_code(fake: FakeWeChat) -> None:
    fake.inject("jscode2session", -1)
    assert login(fake.base_url, "retry_me")["errcode"] == -1
    assert login(fake.base_url, "retry_me")["openid"] == derived_openid("retry_me")


def test_inject_delay_triggers_client_timeout(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject_delay("subscribe_send", 1.0)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        send_with_timeout = requests.post(
            fake.base_url + "cgi-bin/message/subscribe/send",
            params={"access_token": token},
            json={"touser": openid, "template_id": TEMPLATE, "data": GOOD_DATA},
            timeout=0.3,
        )
        del send_with_timeout
    assert time.monotonic() - started < 0.9
    # The call was received at once even though it is still being answered.
    assert fake.call_count("subscribe_send") == 1
    started = time.monotonic()
    assert send(fake, token, openid).json()["errcode"] == 0
    assert time.monotonic() - started < 0.5


def test_inject_delay_then_answer(fake: FakeWeChat) -> None:
    fake.inject_delay("token", 0.4)
    started = time.monotonic()
    assert get_token(fake.base_url)
    assert time.monotonic() - started >= 0.39


def test_inject_http_status(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject_http_status("subscribe_send", 502, times=2)
    statuses = [send(fake, token, openid).status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert [(c["http_status"], c["errcode"]) for c in fake.calls("subscribe_send")] == [
        (502, None),
        (502, None),
        (200, 0),
    ]


def test_inject_rejects_unknown_endpoint_and_bad_times(fake: FakeWeChat) -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        fake.inject("send_message", -1)
    with pytest.raises(ValueError, match="times"):
        fake.inject("token", -1, times=0)


# ---------------------------------------------------------------- records and odd requests


def test_call_records(fake: FakeWeChat, token: str, openid: str) -> None:
    send(fake, token, openid)
    [record] = fake.calls("subscribe_send")
    assert record["method"] == "POST"
    assert record["path"] == "/cgi-bin/message/subscribe/send"
    assert record["query"] == {"access_token": token}
    assert record["json"] == {"touser": openid, "template_id": TEMPLATE, "data": GOOD_DATA}
    assert (record["errcode"], record["http_status"], record["answered"]) == (0, 200, True)
    assert [c["endpoint"] for c in fake.calls()] == ["token", "jscode2session", "subscribe_send"]
    assert fake.call_count() == 3


def test_unknown_path_wrong_method_and_bad_json(fake: FakeWeChat, token: str) -> None:
    assert requests.get(fake.base_url + "cgi-bin/nope", timeout=5).status_code == 404
    assert fake.calls()[-1]["endpoint"] == "unknown"
    wrong_method = requests.get(
        fake.base_url + "wxa/msg_sec_check", params={"access_token": token}, timeout=5
    )
    assert_error(wrong_method, 43002, "require POST method")
    bad_json = requests.post(
        fake.base_url + "wxa/msg_sec_check", params={"access_token": token}, data=b"{not json", timeout=5
    )
    assert_error(bad_json, 47001, "data format error")


def test_body_without_content_type_is_parsed(fake: FakeWeChat, token: str) -> None:
    # wechatpy posts JSON bytes without a Content-Type header.
    response = requests.post(
        fake.base_url + "wxa/msg_sec_check",
        params={"access_token": token},
        data=b'{"content": "hi"}',
        timeout=5,
    )
    assert response.json() == {"errcode": 0, "errmsg": "ok"}


def test_reset_forgets_everything(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject("token", -1, times=None)
    send(fake, token, openid)
    fake.reset()
    assert fake.calls() == []
    assert fake.messages() == []
    assert fake.tokens() == []
    assert get_token(fake.base_url)
    assert_error(
        post(fake, "wxa/msg_sec_check", token, {"content": "x"}),
        40001,
        "invalid credential, access_token is invalid or not latest",
    )


# ---------------------------------------------------------------- the control API mirrors the methods


@pytest.fixture(params=["in_process", "over_http"])
def ctl(request: pytest.FixtureRequest, fake: FakeWeChat) -> Iterator[Any]:
    if request.param == "in_process":
        yield fake
    else:
        control = FakeWeChatControl(fake.base_url)
        yield control
        control.close()


def test_control_codes_and_calls(fake: FakeWeChat, ctl: Any) -> None:
    session = ctl.register_code("ctl_code", openid="oCTL0000000000000000000000001", unionid="oUNIONCTL")
    assert session["openid"] == "oCTL0000000000000000000000001"
    assert login(fake.base_url, "ctl_code")["unionid"] == "oUNIONCTL"
    ctl.revoke_code("dead_code")
    assert login(fake.base_url, "dead_code")["errcode"] == 40029
    calls = ctl.calls("jscode2session")
    assert [c["errcode"] for c in calls] == [0, 40029]
    assert calls[0]["query"]["js_code"] == "ctl_code"
    assert ctl.call_count("jscode2session") == 2
    assert ctl.call_count() == 2


def test_control_tokens_and_injections(fake: FakeWeChat, ctl: Any, openid: str) -> None:
    token = get_token(fake.base_url)
    assert ctl.token_fetch_count() == 1
    assert [t["access_token"] for t in ctl.tokens()] == [token]
    assert ctl.expire_tokens() == 1
    assert ctl.tokens()[0]["expired"] is True
    token = get_token(fake.base_url)
    ctl.inject("subscribe_send", 40226, times=1)
    assert_error(send(fake, token, openid), 40226, "high risk user")
    ctl.inject("subscribe_send", -1, times=None, errmsg="custom")
    assert_error(send(fake, token, openid), -1, "custom")
    ctl.clear_injections()
    ctl.inject_http_status("subscribe_send", 503, times=1)
    assert send(fake, token, openid).status_code == 503
    ctl.inject_delay("subscribe_send", 0.3, times=1)
    started = time.monotonic()
    assert send(fake, token, openid).json()["errcode"] == 0
    assert time.monotonic() - started >= 0.29
    assert ctl.advance_clock(7201) == 7201
    assert_error(send(fake, token, openid), 42001, "access_token expired")


def test_control_templates_words_pages_messages(fake: FakeWeChat, ctl: Any, token: str, openid: str) -> None:
    ctl.set_templates({"TPL_ctl_000001": {"name1": "name", "amount2": "amount"}}, replace=True)
    ctl.set_options(allow_unregistered_templates=False)
    assert_error(send(fake, token, openid), 40037, "invalid template_id")
    data = {"name1": {"value": "张三"}, "amount2": {"value": "¥12.50"}}
    assert send(fake, token, openid, template_id="TPL_ctl_000001", data=data).json()["errcode"] == 0
    [message] = ctl.messages(touser=openid)
    assert message["data"] == data
    ctl.refuse_messages(openid)
    assert_error(
        send(fake, token, openid, template_id="TPL_ctl_000001", data=data),
        43101,
        "user refuse to accept the msg",
    )
    ctl.set_words({"违规词": 20001})
    body = {"content": "含违规词", "version": 2, "scene": 2, "openid": openid}
    assert post(fake, "wxa/msg_sec_check", token, body).json()["result"] == {
        "suggest": "risky",
        "label": 20001,
    }
    ctl.register_openid("oCTL_KNOWN_0000000000000000001")
    body = {"content": "ok", "version": 2, "scene": 2, "openid": "oCTL_KNOWN_0000000000000000001"}
    assert post(fake, "wxa/msg_sec_check", token, body).json()["result"]["suggest"] == "pass"
    ctl.set_pages(["pages/only/this"])
    assert_error(
        post(fake, "wxa/getwxacodeunlimit", token, {"scene": "a", "page": "pages/index/index"}),
        41030,
        "invalid page",
    )
    ctl.set_pages(None)
    assert (
        post(fake, "wxa/getwxacodeunlimit", token, {"scene": "a", "page": "pages/index/index"}).status_code
        == 200
    )


def test_control_phone_media_and_reset(fake: FakeWeChat, ctl: Any, token: str, openid: str) -> None:
    ctl.register_phone_code("ctl_phone", "18612345678")
    info = post(fake, "wxa/business/getuserphonenumber", token, {"code": "ctl_phone"}).json()["phone_info"]
    assert info["purePhoneNumber"] == "18612345678"
    answer = call_endpoint(fake, "media_check_async", token, openid).json()
    assert [m["trace_id"] for m in ctl.media_checks()] == [answer["trace_id"]]
    assert ctl.media_check_event(answer["trace_id"])["result"] == {"suggest": "pass", "label": 100}
    ctl.reset()
    assert ctl.calls() == []
    assert ctl.media_checks() == []


def test_control_errors(fake: FakeWeChat) -> None:
    control = FakeWeChatControl(fake.base_url)
    with pytest.raises(RuntimeError, match="unknown endpoint"):
        control.inject("nope", -1)
    with pytest.raises(RuntimeError, match="unknown option"):
        control.set_options(no_such_option=True)
    with pytest.raises(RuntimeError, match="unknown kind"):
        control.set_templates({"TPL_x_000000": {"x1": "emoji"}})
    assert requests.get(fake.base_url + "__fake__/nope", timeout=5).status_code == 404
    assert requests.get(fake.base_url + "__fake__/reset", timeout=5).status_code == 405
    assert errmsg_re("x").match("x rid: 0123abcd-0123abcd-0123abcd")
    control.close()


def test_subscription_quota_allows_one_message_per_accepted_pop_up(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.set_options(subscription_quota=True)
    assert_error(send(fake, token, openid), 43101, "user refuse to accept the msg")  # never subscribed
    event = fake.grant_subscription(openid, TEMPLATE)
    assert (event["Event"], event["FromUserName"], event["MsgType"]) == ("subscribe_msg_popup_event", openid, "event")
    assert event["List"] == [{"TemplateId": TEMPLATE, "SubscribeStatusString": "accept", "PopupScene": "0"}]
    assert fake.subscriptions(openid) == {TEMPLATE: 1}
    # A refused request (bad data) uses nothing; the first delivery uses the subscription.
    bad = send(fake, token, openid, data={**GOOD_DATA, "thing1": {"value": ""}})
    assert bad.json()["errcode"] == 47003
    assert send(fake, token, openid).json()["errcode"] == 0
    assert_error(send(fake, token, openid), 43101, "user refuse to accept the msg")
    assert fake.subscriptions(openid) == {TEMPLATE: 0}
    # A new tap re-arms it; two taps allow two messages.
    fake.grant_subscription(openid, TEMPLATE)
    fake.grant_subscription(openid, TEMPLATE)
    assert [send(fake, token, openid).json()["errcode"] for _ in range(3)] == [0, 0, 43101]
    assert len(fake.messages(touser=openid)) == 3


def test_slow_reply_delivers_at_once_and_answers_after_the_client_gave_up(
    fake: FakeWeChat, token: str, openid: str
) -> None:
    fake.inject_slow_reply("subscribe_send", 1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(
            fake.base_url + "cgi-bin/message/subscribe/send",
            params={"access_token": token},
            json={"touser": openid, "template_id": TEMPLATE, "data": GOOD_DATA},
            timeout=0.3,
        )
    # Delivered before the answer was due: the client lost the answer, not the message.
    assert len(fake.messages(touser=openid)) == 1
    [call] = fake.calls("subscribe_send")
    assert (call["errcode"], call["reply"]) == (0, "late")
    assert send(fake, token, openid).json()["errcode"] == 0
    assert fake.calls("subscribe_send")[-1]["reply"] == "sent"


def test_dropped_reply_delivers_and_closes_the_connection(fake: FakeWeChat, token: str, openid: str) -> None:
    fake.inject_dropped_reply("subscribe_send")
    with pytest.raises(requests.exceptions.ConnectionError):
        send(fake, token, openid)
    assert len(fake.messages(touser=openid)) == 1
    assert fake.calls("subscribe_send")[-1]["reply"] == "dropped"
    assert send(fake, token, openid).json()["errcode"] == 0


def test_control_subscriptions_and_lost_answers(fake: FakeWeChat, ctl: Any, token: str, openid: str) -> None:
    ctl.set_options(subscription_quota=True)
    assert ctl.grant_subscription(openid, TEMPLATE)["List"][0]["TemplateId"] == TEMPLATE
    assert ctl.subscriptions(openid) == {TEMPLATE: 1}
    ctl.inject_dropped_reply("subscribe_send", times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        send(fake, token, openid)
    assert ctl.subscriptions(openid) == {TEMPLATE: 0}
    ctl.grant_subscription(openid, TEMPLATE)
    ctl.inject_slow_reply("subscribe_send", 0.3, times=1)
    assert send(fake, token, openid).json()["errcode"] == 0  # a client that waits long enough gets the answer
    assert [c["reply"] for c in ctl.calls("subscribe_send")] == ["dropped", "late"]
