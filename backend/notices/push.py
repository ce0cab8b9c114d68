"""WeChat message push (消息推送): URL verification, signature checks, decryption and event handling.

- ``GET ?signature&timestamp&nonce&echostr``: answer ``echostr`` when sha1(sort(token, timestamp, nonce))
  equals ``signature`` (how WeChat verifies the URL configured in the console).
- ``POST`` plain mode: the same ``signature`` must be valid; the body is XML or JSON.
- ``POST`` safe mode (``encrypt_type=aes``): ``msg_signature`` over the ciphertext is checked and the body
  decrypted with the EncodingAESKey (wechatpy's ``WeChatCrypto``), which also checks the AppID inside.

Handled events: ``subscribe_msg_popup_event`` (quota granted or refused), ``subscribe_msg_change_event``
(messages switched off in the settings page), ``subscribe_msg_sent_event`` (WeChat's delivery report of a
message we sent) and ``wxa_media_check`` (verdict on an uploaded image). WeChat re-sends a push it did
not get a quick answer to, so each push is applied once (keyed by the sha256 of its plaintext).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import xmltodict
from sqlalchemy import select, update
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from backend.accounts.models import User
from backend.db_util import insert_if_absent
from backend.errors import ApiError
from backend.extensions import db
from backend.notices import quota
from backend.notices.media_checks import record_media_verdict
from backend.notices.models import Notice, WeChatPushEvent
from backend.notices.templates import template_ids
from backend.timeutil import utcnow

log = logging.getLogger(__name__)


def _signature_error() -> ApiError:
    return ApiError(403, "signature_invalid", "签名校验失败")


def _require(args: Mapping[str, str], *names: str) -> list[str]:
    values = [args.get(name) or "" for name in names]
    if not all(values):
        raise _signature_error()
    return values


def _token(config: Mapping[str, Any]) -> str:
    token = config.get("WECHAT_PUSH_TOKEN")
    if not token:
        raise ApiError(404, "push_not_configured", "未配置消息推送")
    return str(token)


def signature_valid(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """WeChat's URL signature: sha1 of token, timestamp and nonce sorted and joined."""
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return False
    return True


def verify_url(config: Mapping[str, Any], args: Mapping[str, str]) -> str:
    """The GET verification: the echostr back when the signature is right, 403 otherwise."""
    token = _token(config)
    signature, timestamp, nonce, echostr = _require(args, "signature", "timestamp", "nonce", "echostr")
    if not signature_valid(token, signature, timestamp, nonce):
        raise _signature_error()
    return echostr


def _parse(text: str) -> dict[str, Any]:
    """A push body, XML or JSON, as a dict."""
    text = text.strip()
    try:
        data = json.loads(text) if text.startswith("{") else xmltodict.parse(text).get("xml")
    except Exception as exc:  # xmltodict raises expat errors, json ValueError
        raise ApiError(400, "bad_push_body", "推送内容无法解析") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "bad_push_body", "推送内容无法解析")
    return data


def decode(config: Mapping[str, Any], args: Mapping[str, str], body: bytes) -> tuple[dict[str, Any], str]:
    """Check the signatures of a POST and return the message (decrypted in safe mode) and its plaintext."""
    token = _token(config)
    text = body.decode("utf-8", "replace")
    timestamp, nonce = _require(args, "timestamp", "nonce")
    signature = args.get("signature")
    encrypted = args.get("encrypt_type") == "aes" or bool(args.get("msg_signature"))
    if signature and not signature_valid(token, signature, timestamp, nonce):
        raise _signature_error()
    if not encrypted:
        if not signature:
            raise _signature_error()
        return _parse(text), text
    aes_key = config.get("WECHAT_PUSH_AES_KEY")
    if not aes_key:
        raise ApiError(403, "push_not_configured", "未配置消息加密密钥")
    (msg_signature,) = _require(args, "msg_signature")
    envelope = _parse(text)
    if "Encrypt" not in envelope:
        raise ApiError(400, "bad_push_body", "加密推送缺少 Encrypt 字段")
    try:
        crypto = WeChatCrypto(token, aes_key, config["WECHAT_APPID"])
        plaintext = crypto.decrypt_message(envelope, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise _signature_error() from exc
    except Exception as exc:  # bad padding or base64: not a message WeChat encrypted with our key
        raise ApiError(400, "bad_push_body", "推送内容无法解密") from exc
    return _parse(plaintext), plaintext


def _items(message: Mapping[str, Any], wrapper: str) -> list[dict[str, Any]]:
    """The ``List`` entries of an event, in JSON (top-level List) or XML (<Wrapper><List>) form."""
    container = message.get(wrapper) if isinstance(message.get(wrapper), dict) else message
    items = container.get("List") if isinstance(container, dict) else None
    if isinstance(items, dict):
        return [items]
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _event_time(message: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(message.get("CreateTime")), UTC)
    except (TypeError, ValueError, OverflowError):
        return utcnow()


def handle(config: Mapping[str, Any], message: dict[str, Any], plaintext: str) -> str:
    """Apply one push once; returns what WeChat expects back ("success")."""
    event = str(message.get("Event") or message.get("MsgType") or "unknown")
    openid = message.get("FromUserName") or None
    key = hashlib.sha256(plaintext.encode()).hexdigest()
    new = insert_if_absent(WeChatPushEvent, {"dedupe_key": key, "event": event[:64], "openid": openid,
                                             "received_at": utcnow(), "payload": message}, ["dedupe_key"])
    if new is None:  # WeChat re-sent a push we already applied
        db.session.rollback()
        return "success"
    user = db.session.scalar(select(User).where(User.openid == openid)) if openid else None
    apply = _EVENTS.get(event)
    if apply is not None:
        apply(user, message, set(template_ids(config).values()), _event_time(message))
    db.session.commit()
    return "success"


def _popup(user: User | None, message: dict[str, Any], known: set[str], at: datetime) -> None:
    """The user answered the subscribe pop-up: record each choice for our templates."""
    if user is None:
        return
    for item in _items(message, "SubscribeMsgPopupEvent"):
        template_id, choice = item.get("TemplateId"), item.get("SubscribeStatusString")
        if template_id in known and choice in quota.CHOICES:
            quota.record_choice(user.id, template_id, choice, "push", at)


def _change(user: User | None, message: dict[str, Any], known: set[str], at: datetime) -> None:
    """The user switched templates off in the settings: their quota is gone."""
    if user is None:
        return
    for item in _items(message, "SubscribeMsgChangeEvent"):
        if item.get("TemplateId") in known and item.get("SubscribeStatusString") == "reject":
            quota.switch_off(user.id, item["TemplateId"], at)


def _sent(user: User | None, message: dict[str, Any], known: set[str], at: datetime) -> None:
    """WeChat's delivery reports of messages we sent."""
    for item in _items(message, "SubscribeMsgSentEvent"):
        _delivery_report(user, item, at)


def _media_check(user: User | None, message: dict[str, Any], known: set[str], at: datetime) -> None:
    """The asynchronous verdict of WeChat's media check on an uploaded photo."""
    result = message.get("result") if isinstance(message.get("result"), dict) else {}
    if not record_media_verdict(str(message.get("trace_id") or ""), result.get("suggest"), _int(result.get("label"))):
        log.info("wxa_media_check for unknown trace_id %s", message.get("trace_id"))


_EVENTS = {"subscribe_msg_popup_event": _popup, "subscribe_msg_change_event": _change,
           "subscribe_msg_sent_event": _sent, "wxa_media_check": _media_check}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _delivery_report(user: User | None, item: Mapping[str, Any], at: datetime) -> None:
    """WeChat's report on a message we sent: success, or refused by the user (their quota is gone)."""
    msgid, code = str(item.get("MsgID") or ""), _int(item.get("ErrorCode"))
    status = str(item.get("ErrorStatus") or ("success" if code == 0 else "failed"))
    if msgid:
        db.session.execute(update(Notice).where(Notice.msgid == msgid).values(delivery_report=status[:100])
                           .execution_options(synchronize_session=False))
    if code not in (0, None) and user is not None and item.get("TemplateId"):
        quota.switch_off(user.id, str(item["TemplateId"]), at)
