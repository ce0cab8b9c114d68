"""WeCom group robots (企业微信群机器人): ``POST {base}/cgi-bin/webhook/send?key=KEY`` with a JSON message.

The API answers HTTP 200 with ``{"errcode", "errmsg"}``: 0 is sent; 45009 (a robot may post 20 messages a minute)
and -1 (busy) are retried, after a minute at least for 45009; 93000 (invalid webhook key), 40008 (bad message
type), 44004 (empty content), 40058 and the other codes are failed. No connection → retry; a read timeout, a reset,
an HTTP status other than 200 or an unreadable answer → unknown (the group may have the message).
``WECOM_API_BASE`` points tests and the demo at tests/fakes/channels_server.py.
"""

from __future__ import annotations

from typing import Any

import requests

from backend.integrations.channels import FAILED, RETRY, SENT, UNKNOWN, ChannelReply, network_reply

DEFAULT_BASE = "https://qyapi.weixin.qq.com/"
RATE_LIMITED = 45009
RETRYABLE = frozenset({-1, RATE_LIMITED})
#: A robot's limit: 20 messages a minute.
PER_MINUTE = 20


class WeComRobot:
    """Posts markdown messages to robots' webhooks."""

    def __init__(self, base: str = DEFAULT_BASE, timeout: float = 10.0) -> None:
        self.url = base.rstrip("/") + "/cgi-bin/webhook/send"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    def send(self, key: str, markdown: str) -> ChannelReply:
        """Post one markdown message with the webhook ``key``."""
        body = {"msgtype": "markdown", "markdown": {"content": markdown}}
        try:
            response = self.session.post(self.url, params={"key": key}, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            reply = network_reply(exc)  # its text names the URL: never store the key with it
            return ChannelReply(reply.outcome, reply.code, reply.message.replace(key, "****" + key[-4:]))
        if response.status_code != 200:
            return ChannelReply(UNKNOWN, f"http_{response.status_code}", response.reason or "")
        try:
            answer: dict[str, Any] = response.json()
            errcode = int(answer["errcode"])
        except (ValueError, KeyError, TypeError):
            return ChannelReply(UNKNOWN, "unreadable", response.text[:200])
        errmsg = str(answer.get("errmsg") or "")[:200]
        if errcode == 0:
            return ChannelReply(SENT, "0", errmsg)
        if errcode in RETRYABLE:
            wait = 60 if errcode == RATE_LIMITED else None  # the limit is per minute
            return ChannelReply(RETRY, str(errcode), errmsg, retry_after_seconds=wait)
        return ChannelReply(FAILED, str(errcode), errmsg)


def from_config(config: dict[str, Any]) -> WeComRobot:
    """The robot client for the configured base URL."""
    return WeComRobot(config.get("WECOM_API_BASE") or DEFAULT_BASE,
                      timeout=float(config.get("CHANNEL_TIMEOUT_SECONDS") or 10))
