"""Tencent Cloud SMS (腾讯云短信) through its Python SDK (``tencentcloud-sdk-python-sms``, API 2021-01-11).

One ``SendSms`` per message (one number): the SDK signs it (TC3-HMAC-SHA256) and posts it to
``sms.tencentcloudapi.com``, or to ``TENCENT_SMS_ENDPOINT`` (``host:port``, plain HTTP when
``TENCENT_SMS_SCHEME`` is ``http``: the tests' and the demo's fake, tests/fakes/channels_server.py).

How its answers map to the dispatcher's outcomes (backend/integrations/channels.py):

- ``SendStatusSet[0].Code == "Ok"`` → sent, ``SerialNo`` kept;
- per-number codes: the 30-second and one-hour limits of a number and ``InternalError.*`` → retry;
  ``LimitExceeded.PhoneNumberDailyLimit`` (no more today), ``FailedOperation.ContainSensitiveWord``,
  ``InvalidParameterValue.IncorrectPhoneNumber`` and the others → failed;
- an ``Error`` answer of the whole request: ``InternalError*``, ``RequestLimitExceeded*`` → retry;
  ``AuthFailure.*``, ``InvalidParameter*``, ``FailedOperation.*``, ``UnauthorizedOperation.*``... → failed;
- no connection (refused, connect timeout) → retry; a read timeout, a reset or an HTTP status other than 200
  (the SDK's ``ServerNetworkError``) → unknown: the message may have been sent.
"""

from __future__ import annotations

from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from backend.integrations.channels import FAILED, RETRY, SENT, UNKNOWN, ChannelReply, network_reply

RETRY_STATUS_CODES = frozenset({"LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit",
                                "LimitExceeded.PhoneNumberSameContentDailyLimit"})
RETRY_ERROR_PREFIXES = ("InternalError", "RequestLimitExceeded", "ResourceUnavailable")


def _retryable(code: str) -> bool:
    return code in RETRY_STATUS_CODES or code.startswith(RETRY_ERROR_PREFIXES)


class TencentSms:
    """Sends one templated SMS at a time; thread-safe (a client per call: the SDK's client is cheap)."""

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str, template_id: str, *,
                 region: str = "ap-guangzhou", endpoint: str | None = None, scheme: str = "https",
                 timeout: float = 10.0) -> None:
        self.secret_id, self.secret_key = secret_id, secret_key
        self.sdk_app_id, self.sign_name, self.template_id = sdk_app_id, sign_name, template_id
        self.region, self.endpoint, self.scheme, self.timeout = region, endpoint, scheme, timeout

    def _client(self) -> sms_client.SmsClient:
        http = HttpProfile(protocol=self.scheme, endpoint=self.endpoint or "sms.tencentcloudapi.com",
                           reqTimeout=max(1, int(self.timeout)))
        return sms_client.SmsClient(credential.Credential(self.secret_id, self.secret_key), self.region,
                                    ClientProfile(httpProfile=http))

    def send(self, phone: str, params: list[str], session: str = "") -> ChannelReply:
        """Send the configured template with ``params`` to an 11-digit mainland number."""
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{phone}"]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.TemplateParamSet = list(params)
        request.SessionContext = session
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            return _sdk_error(exc)
        except (ValueError, KeyError, TypeError) as exc:  # an answer that is not the API's JSON
            return ChannelReply(UNKNOWN, "unreadable", f"{type(exc).__name__}: {exc}"[:200])
        statuses: list[Any] = response.SendStatusSet or []
        if not statuses:
            return ChannelReply(UNKNOWN, "empty", f"no SendStatusSet, RequestId {response.RequestId}")
        status = statuses[0]
        code, message = str(status.Code or ""), str(status.Message or "")
        if code == "Ok":
            return ChannelReply(SENT, code, message, external_id=status.SerialNo)
        return ChannelReply(RETRY if _retryable(code) else FAILED, code, message[:200])


def _sdk_error(exc: TencentCloudSDKException) -> ChannelReply:
    code = str(exc.get_code() or "")
    message = f"{exc.get_message()} (RequestId {exc.get_request_id()})"[:200]
    if code == "ClientNetworkError":
        cause = exc.__cause__ or exc.__context__
        return network_reply(cause) if cause is not None else ChannelReply(UNKNOWN, code, message)
    if code == "ServerNetworkError":  # an HTTP status other than 200: the request arrived somewhere
        return ChannelReply(UNKNOWN, code, message)
    if code.startswith("ClientParamsError") or code == "ClientError":
        return ChannelReply(FAILED, code, message)
    return ChannelReply(RETRY if _retryable(code) else FAILED, code, message)


def from_config(config: dict[str, Any]) -> TencentSms | None:
    """The configured sender, or None when SMS is not configured (deliveries then wait, never dropped)."""
    needed = ("TENCENT_SMS_SECRET_ID", "TENCENT_SMS_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME",
              "TENCENT_SMS_TEMPLATE_ID")
    if not all(config.get(name) for name in needed):
        return None
    return TencentSms(config["TENCENT_SMS_SECRET_ID"], config["TENCENT_SMS_SECRET_KEY"],
                      str(config["TENCENT_SMS_SDK_APP_ID"]), config["TENCENT_SMS_SIGN_NAME"],
                      str(config["TENCENT_SMS_TEMPLATE_ID"]), region=config.get("TENCENT_SMS_REGION") or "ap-guangzhou",
                      endpoint=config.get("TENCENT_SMS_ENDPOINT") or None,
                      scheme=config.get("TENCENT_SMS_SCHEME") or "https",
                      timeout=float(config.get("CHANNEL_TIMEOUT_SECONDS") or 10))



