"""The SMS and WeCom robot fakes answer the real APIs' shapes and codes: the Tencent Cloud SDK itself is the
client (its TC3 signature checked), WeCom's webhook is called as its documentation shows; outages behave as the
network does (a refused connection, a bare 5xx, a late answer, a closed connection)."""

from __future__ import annotations

import json
import re

import pytest
import requests
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from tests.fakes.channels_server import FakeTencentSms, FakeWeComRobot, closed_port

KEY = "693a91f6-7a2b-4bc4-97a0-0ec2a1fa5aaa"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def sms():
    with FakeTencentSms(daily_limit=2) as fake:
        yield fake


@pytest.fixture
def robot():
    with FakeWeComRobot([KEY], per_minute=3) as fake:
        yield fake


def _client(fake: FakeTencentSms, secret_key: str | None = None, timeout: int = 5) -> sms_client.SmsClient:
    account = fake.account
    http = HttpProfile(protocol="http", endpoint=fake.endpoint, reqTimeout=timeout)
    return sms_client.SmsClient(credential.Credential(account.secret_id, secret_key or account.secret_key),
                                "ap-guangzhou", ClientProfile(httpProfile=http))


def _request(fake: FakeTencentSms, phones: list[str], params: list[str] | None = None, **override: str):
    request = models.SendSmsRequest()
    request.PhoneNumberSet = phones
    request.SmsSdkAppId = override.get("app", fake.account.sdk_app_id)
    request.SignName = override.get("sign", fake.account.sign_name)
    request.TemplateId = override.get("template", "1000001")
    request.TemplateParamSet = params if params is not None else ["西湖小学", "发现鼠患", "1", "12月01日14:00"]
    request.SessionContext = "ctx-1"
    return request


def test_send_sms_answers_a_status_per_number(sms):
    response = _client(sms).SendSms(_request(sms, ["+8613800138000", "+8612800138000"]))
    assert UUID_RE.match(response.RequestId)
    ok, bad = response.SendStatusSet
    assert (ok.Code, ok.Message, ok.PhoneNumber, ok.Fee, ok.SessionContext, ok.IsoCode) == (
        "Ok", "send success", "+8613800138000", 1, "ctx-1", "CN")
    assert re.match(r"^5000:\d{28}$", ok.SerialNo)
    assert (bad.Code, bad.Fee, bad.SerialNo) == ("InvalidParameterValue.IncorrectPhoneNumber", 0, "")
    assert sms.sent_to("13800138000") == 1 and sms.messages[0]["params"][1] == "发现鼠患"


def test_sensitive_words_and_the_daily_limit_are_per_number_codes(sms):
    client = _client(sms)
    words = client.SendSms(_request(sms, ["+8613800138000"], ["西湖小学", "代开发票", "1", "今天"]))
    assert words.SendStatusSet[0].Code == "FailedOperation.ContainSensitiveWord"
    codes = [client.SendSms(_request(sms, ["+8613900139000"])).SendStatusSet[0].Code for _ in range(3)]
    assert codes == ["Ok", "Ok", "LimitExceeded.PhoneNumberDailyLimit"]
    sms.thirty_second_limit = True
    assert client.SendSms(_request(sms, ["+8613700137000"])).SendStatusSet[0].Code == "Ok"
    assert client.SendSms(_request(sms, ["+8613700137000"])).SendStatusSet[0].Code == \
        "LimitExceeded.PhoneNumberThirtySecondLimit"


@pytest.mark.parametrize(("change", "code"), [
    ({"secret_key": "wrong"}, "AuthFailure.SignatureFailure"),
    ({"app": "1400999999"}, "UnauthorizedOperation.SmsSdkAppIdVerifyFail"),
    ({"sign": "别的签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
    ({"template": "999"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
    ({"params": ["a", "b"]}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
    ({"params": ["一二三四五六七八九十一二三", "b", "c", "d"]}, "InvalidParameterValue.TemplateParameterLengthLimit"),
])
def test_whole_request_errors_come_as_the_sdks_exception(sms, change, code):
    client = _client(sms, secret_key=change.pop("secret_key", None))
    params = change.pop("params", None)
    with pytest.raises(TencentCloudSDKException) as caught:
        client.SendSms(_request(sms, ["+8613800138000"], params, **change))
    assert caught.value.get_code() == code
    assert UUID_RE.match(caught.value.get_request_id())
    assert sms.messages == []


def test_the_raw_error_shape_and_an_unknown_secret_id(sms):
    response = requests.post(f"http://{sms.endpoint}/", data=b"{}", timeout=5,
                             headers={"Content-Type": "application/json", "X-TC-Action": "SendSms",
                                      "Authorization": "TC3-HMAC-SHA256 Credential=AKIDnobody/2026-11-30/sms/"
                                                       "tc3_request, SignedHeaders=content-type;host, Signature="
                                                       + "0" * 64})
    body = response.json()
    assert response.status_code == 200 and set(body) == {"Response"}
    assert set(body["Response"]) == {"Error", "RequestId"}
    assert body["Response"]["Error"]["Code"] == "AuthFailure.SecretIdNotFound"


def test_sms_outages(sms):
    client = _client(sms, timeout=1)
    sms.inject_error("InternalError.Timeout")
    with pytest.raises(TencentCloudSDKException) as caught:
        client.SendSms(_request(sms, ["+8613800138000"]))
    assert caught.value.get_code() == "InternalError.Timeout"
    sms.inject_http_status(502)
    with pytest.raises(TencentCloudSDKException) as caught:
        client.SendSms(_request(sms, ["+8613800138000"]))
    assert caught.value.get_code() == "ServerNetworkError"
    assert sms.messages == []  # neither delivered anything
    sms.inject_delay(1.5)
    with pytest.raises(TencentCloudSDKException) as caught:
        client.SendSms(_request(sms, ["+8613800138000"]))
    assert caught.value.get_code() == "ClientNetworkError" and "timed out" in caught.value.get_message()
    sms.inject_dropped_reply()
    with pytest.raises(TencentCloudSDKException):
        client.SendSms(_request(sms, ["+8613800138000"]))
    assert sms.sent_to("13800138000") == 2  # the late and the dropped answers came after delivery
    sms.stop()
    with pytest.raises(TencentCloudSDKException) as caught:
        client.SendSms(_request(sms, ["+8613800138000"]))
    assert "Connection refused" in caught.value.get_message() or "NewConnectionError" in caught.value.get_message()


def _post(robot: FakeWeComRobot, body, key: str = KEY, timeout: float = 5) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(f"{robot.base_url}cgi-bin/webhook/send", params={"key": key}, data=data, timeout=timeout,
                         headers={"Content-Type": "application/json"})


def test_wecom_webhook_codes(robot):
    assert _post(robot, {"msgtype": "text", "text": {"content": "你好"}}).json() == {"errcode": 0, "errmsg": "ok"}
    cases = [({"msgtype": "markdown", "markdown": {"content": "x"}}, "00000000-0000-4000-8000-000000000000", 93000),
             ({"msgtype": "video", "video": {}}, KEY, 40008),
             ({"msgtype": "markdown", "markdown": {"content": ""}}, KEY, 44004),
             ({"msgtype": "markdown", "markdown": {"content": "字" * 1400}}, KEY, 40058),
             (b"{not json", KEY, 40035)]
    for body, key, errcode in cases:
        answer = _post(robot, body, key).json()
        assert answer["errcode"] == errcode
        assert f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}" in answer["errmsg"]
    assert robot.received() == {KEY: 1}


def test_wecom_rate_limit_and_outages(robot):
    for _ in range(3):  # this robot's limit: 3 a minute (WeCom's is 20)
        assert _post(robot, {"msgtype": "markdown", "markdown": {"content": "**告警**"}}).json()["errcode"] == 0
    assert _post(robot, {"msgtype": "markdown", "markdown": {"content": "c"}}).json()["errcode"] == 45009
    robot.per_minute = 100
    robot.inject_http_status(503)
    assert _post(robot, {"msgtype": "text", "text": {"content": "d"}}).status_code == 503
    robot.inject_delay(1.5)
    with pytest.raises(requests.ReadTimeout):
        _post(robot, {"msgtype": "text", "text": {"content": "late"}}, timeout=0.5)
    robot.inject_dropped_reply()
    with pytest.raises(requests.ConnectionError):
        _post(robot, {"msgtype": "text", "text": {"content": "dropped"}})
    assert [m["content"] for m in robot.messages][-2:] == ["late", "dropped"]
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{closed_port()}/cgi-bin/webhook/send", params={"key": KEY}, json={},
                      timeout=2)
