"""The WeChat message-push endpoint: WeChat's documented signature examples, plain and encrypted pushes,
subscription events updating quotas, delivery reports, media-check verdicts and re-sent pushes."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import sqlalchemy as sa
from wechatpy.crypto import WeChatCrypto

from backend.accounts.models import User
from backend.extensions import db
from backend.notices import quota
from backend.notices.models import MediaCheck, Notice, SubscriptionQuota, WeChatPushEvent
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.timeutil import utcnow
from tests.violations.conftest import PUSH_AES_KEY, PUSH_TOKEN, user_id

VIOLATION_TEMPLATE = DEV_TEMPLATE_IDS["violation"]


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _plain_url(timestamp: str = "1714036504", nonce: str = "1514711492") -> str:
    return f"/api/v1/wechat/push?signature={_sign(PUSH_TOKEN, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}"


def _remaining(openid: str) -> int:
    return db.session.scalar(sa.select(SubscriptionQuota.remaining).where(
        SubscriptionQuota.user_id == user_id(openid), SubscriptionQuota.template_id == VIOLATION_TEMPLATE)) or 0


def test_url_verification_with_wechats_documented_example(app, client):
    # developers.weixin.qq.com, 消息推送: Token "AAAAA" and this exact request.
    app.config["WECHAT_PUSH_TOKEN"] = "AAAAA"
    url = ("/api/v1/wechat/push?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&echostr=4375120948345356249"
           "&timestamp=1714036504&nonce=1514711492")
    response = client.get(url)
    assert response.status_code == 200 and response.get_data(as_text=True) == "4375120948345356249"
    bad = client.get(url.replace("f464b24f", "f464b24e"))
    assert bad.status_code == 403 and bad.json["error"]["code"] == "signature_invalid"
    assert client.get(url.replace("nonce=1514711492", "nonce=1514711493")).status_code == 403
    assert client.get("/api/v1/wechat/push?echostr=1").status_code == 403


def test_encrypted_push_with_wechats_documented_sample(app, client):
    # WeChat's message encryption sample (WXBizMsgCrypt demo): token, key, AppID and this exact message.
    app.config.update(WECHAT_PUSH_TOKEN="spamtest", WECHAT_PUSH_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                      WECHAT_APPID="wx2c2769f8efd9abc2")
    body = ("<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSI"
            "WZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"
            "<![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6u"
            "BmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn"
            "896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjp"
            "A912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1"
            "DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt>"
            "</xml>")
    url = ("/api/v1/wechat/push?encrypt_type=aes&timestamp=1409735669&nonce=1320562132"
           "&msg_signature=5d197aaffba7e9b25a30732f161a50dee96bd5fa")
    response = client.post(url, data=body, content_type="text/xml")
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    stored = db.session.scalar(sa.select(WeChatPushEvent))
    assert (stored.event, stored.openid, stored.payload["Content"]) == ("text", "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
                                                                        "abcdteT")
    tampered = client.post(url.replace("5d197aaf", "5d197aae"), data=body, content_type="text/xml")
    assert tampered.status_code == 403 and tampered.json["error"]["code"] == "signature_invalid"
    wrong_app = app.config["WECHAT_APPID"] = "wx_someone_else"
    assert wrong_app and client.post(url, data=body, content_type="text/xml").status_code == 403


def _popup(openid: str, choice: str = "accept", at: int | None = None) -> dict:
    return {"ToUserName": "gh_123456789abc", "FromUserName": openid, "CreateTime": str(at or int(utcnow().timestamp())),
            "MsgType": "event", "Event": "subscribe_msg_popup_event",
            "List": [{"TemplateId": VIOLATION_TEMPLATE, "SubscribeStatusString": choice, "PopupScene": "0"}]}


def test_plain_json_popup_event_grants_quota_once_even_when_the_client_reports_it_too(client, as_user, kitchen):
    message = _popup("demo-staff-1")
    response = client.post(_plain_url(), data=json.dumps(message), content_type="application/json")
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert _remaining("demo-staff-1") == 1
    # WeChat re-sends the same push: applied once.
    client.post(_plain_url(), data=json.dumps(message), content_type="application/json")
    assert _remaining("demo-staff-1") == 1
    # The mini-program reports the same tap: matched with the push, not counted again.
    response = client.post("/api/v1/me/subscriptions", json={"results": {VIOLATION_TEMPLATE: "accept"}},
                           headers=as_user("demo-staff-1"))
    assert response.status_code == 200
    assert _remaining("demo-staff-1") == 1
    # A second tap later is reported by both sides again: one more message.
    later = int((utcnow() + timedelta(minutes=10)).timestamp())
    client.post(_plain_url(), data=json.dumps(_popup("demo-staff-1", at=later)), content_type="application/json")
    assert _remaining("demo-staff-1") == 2
    # Without a signature, or with a wrong one, nothing is applied.
    other = _popup("demo-staff-1", at=later + 600)
    assert client.post("/api/v1/wechat/push?timestamp=1&nonce=2", data=json.dumps(other),
                       content_type="application/json").status_code == 403
    forged = _plain_url().replace("signature=", "signature=0")
    response = client.post(forged, data=json.dumps(other), content_type="application/json")
    assert response.status_code == 403 and response.json["error"]["code"] == "signature_invalid"
    assert _remaining("demo-staff-1") == 2


def test_xml_popup_and_change_events(client, kitchen):
    xml = ("<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[demo-manager-1]]>"
           "</FromUserName><CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA["
           "subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[{tid}]]>"
           "</TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene>"
           "</List><List><TemplateId><![CDATA[not-our-template-1]]></TemplateId><SubscribeStatusString><![CDATA["
           "accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent></xml>"
           ).replace("{tid}", VIOLATION_TEMPLATE)
    assert client.post(_plain_url(), data=xml, content_type="text/xml").status_code == 200
    assert _remaining("demo-manager-1") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubscriptionQuota)) == 1
    change = {"ToUserName": "gh_123456789abc", "FromUserName": "demo-manager-1", "CreateTime": "1610969500",
              "MsgType": "event", "Event": "subscribe_msg_change_event",
              "List": {"TemplateId": VIOLATION_TEMPLATE, "SubscribeStatusString": "reject"}}
    assert client.post(_plain_url(), data=json.dumps(change), content_type="application/json").status_code == 200
    assert _remaining("demo-manager-1") == 0


def test_encrypted_json_event_with_our_key(client, kitchen):
    crypto = WeChatCrypto(PUSH_TOKEN, PUSH_AES_KEY, "wx_test_appid")
    plaintext = json.dumps(_popup("demo-principal-1"))
    envelope_xml = crypto.encrypt_message(plaintext, nonce="88888", timestamp="1700000000")
    encrypted = envelope_xml.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    signature = _sign(PUSH_TOKEN, "1700000000", "88888", encrypted)
    url = f"/api/v1/wechat/push?encrypt_type=aes&timestamp=1700000000&nonce=88888&msg_signature={signature}"
    body = json.dumps({"ToUserName": "gh_123456789abc", "Encrypt": encrypted})
    assert client.post(url, data=body, content_type="application/json").status_code == 200
    assert _remaining("demo-principal-1") == 1


def test_sent_event_records_wechats_delivery_report(client, kitchen):
    from backend.notices.dispatcher import dispatch_due
    from backend.violations.services import raise_violation
    from tests.violations.conftest import grant

    grant("demo-staff-1", "violation", times=2)
    raise_violation(canteen_id=1, kind="rodent", source="ai", idempotency_key="r1", occurred_at=utcnow())
    dispatch_due(utcnow(), 10)
    notice = db.session.scalar(sa.select(Notice).where(Notice.status == "sent"))
    event = {"ToUserName": "gh_123456789abc", "FromUserName": "demo-staff-1", "CreateTime": "1620963428",
             "MsgType": "event", "Event": "subscribe_msg_sent_event",
             "List": {"TemplateId": VIOLATION_TEMPLATE, "MsgID": notice.msgid, "ErrorCode": "20001",
                      "ErrorStatus": "failed:user refuse to accept the msg"}}
    assert client.post(_plain_url(), data=json.dumps(event), content_type="application/json").status_code == 200
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).delivery_report == "failed:user refuse to accept the msg"
    assert _remaining("demo-staff-1") == 0


def test_media_check_verdict_hides_a_risky_photo(client, as_user, kitchen):
    import io

    from tests.violations.conftest import png_bytes

    fake = kitchen["fake"]
    parent = as_user("demo-parent-1")
    response = client.post("/api/v1/schools/1/violation-photos", headers=parent,
                           data={"file": (io.BytesIO(png_bytes()), "kitchen.png")}, content_type="multipart/form-data")
    key = response.json["key"]
    check = db.session.scalar(sa.select(MediaCheck).where(MediaCheck.object_key == key))
    [requested] = fake.media_checks()
    assert check.status == "pending" and check.trace_id == requested["trace_id"]
    assert requested["media_url"].startswith("http://localhost/api/v1/files/")
    response = client.post("/api/v1/schools/1/violations", headers={**parent, "Idempotency-Key": "report-0001"},
                           json={"canteen_id": 1, "description": "看到后厨有人不戴口罩切菜", "photos": [key]})
    assert response.status_code == 201
    vid = response.json["id"]
    staff = as_user("demo-staff-1")
    assert len(client.get(f"/api/v1/violations/{vid}", headers=staff).json["evidence"]["photos"]) == 1
    verdict = fake.media_check_event(check.trace_id, suggest="risky", label=20002, openid="demo-parent-1")
    assert client.post(_plain_url(), data=json.dumps(verdict), content_type="application/json").status_code == 200
    db.session.expire_all()
    assert (db.session.get(MediaCheck, check.id).status, db.session.get(MediaCheck, check.id).label) == ("risky",
                                                                                                       20002)
    assert client.get(f"/api/v1/violations/{vid}", headers=staff).json["evidence"]["photos"] == []


def test_unconfigured_push_answers_not_found(app, client):
    app.config["WECHAT_PUSH_TOKEN"] = None
    assert client.get(_plain_url() + "&echostr=1").status_code == 404


def test_quota_matching_window_is_per_tap(kitchen):
    uid = user_id("demo-committee-1")
    now = utcnow()
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "accept", "client", now) is True
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "accept", "client", now + timedelta(seconds=5)) is True
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "accept", "push", now + timedelta(seconds=1)) is False
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "accept", "push", now + timedelta(seconds=6)) is False
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "accept", "push", now + timedelta(minutes=5)) is True
    db.session.commit()
    assert _remaining("demo-committee-1") == 3
    assert quota.record_choice(uid, VIOLATION_TEMPLATE, "reject", "client", now) is False
    db.session.commit()
    assert _remaining("demo-committee-1") == 0
    assert db.session.scalar(sa.select(User.id).where(User.openid == "demo-committee-1")) == uid
