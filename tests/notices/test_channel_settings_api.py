"""The channel settings API: a person's channels and quiet hours (validated, audited), a school's and a region's
WeCom robots (principal and staff, regulators of the region; keys stored encrypted and never echoed), each
scoped so nobody reads or changes another school's or region's robots; admins see deliveries with duplicates."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import time_machine

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.notices.models import ChannelDelivery, NoticeRobot
from backend.schools.models import Region
from backend.schools.services import create_region
from backend.violations.services import raise_violation
from tests.notices import channel_fixtures
from tests.notices.channel_fixtures import COUNTY_KEY, MONDAY_10, SCHOOL_KEY, choose, uid

app_config, sms_fake, robot_fake = channel_fixtures.app_config, channel_fixtures.sms_fake, channel_fixtures.robot_fake
URL = "/api/v1/me/notice-channels"
WEBHOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={SCHOOL_KEY}"


@pytest.fixture(autouse=True)
def frozen():
    """10:00 on Monday 30 November 2026 in Shanghai."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


def _code(response) -> str:
    return response.get_json()["error"]["code"]


def test_a_person_reads_the_defaults_and_sets_channels_with_validation(app, demo, client, as_user):
    headers = as_user("demo-manager-1")
    assert client.get(URL, headers=headers).get_json() == {
        "inbox": True, "wechat": True, "sms": False, "sms_classes": [1, 2], "phone": None, "account_phone": None,
        "sms_phone": None, "quiet_start": None, "quiet_end": None, "updated_at": None}
    refusals = [
        ({"wechat": True, "sms": True}, 422, "phone_required", "phone"),
        ({"wechat": True, "sms": True, "phone": "12800138000"}, 422, "phone_invalid", "phone"),
        ({"wechat": True, "sms": False, "quiet_start": "22:00"}, 422, "quiet_hours_incomplete", "quiet_end"),
        ({"wechat": True, "sms": False, "quiet_end": "07:00"}, 422, "quiet_hours_incomplete", "quiet_start"),
        ({"wechat": True, "sms": False, "quiet_start": "22:00", "quiet_end": "22:00"}, 422, "quiet_hours_empty",
         "quiet_end"),
        ({"wechat": True, "sms": False, "quiet_start": "24:00", "quiet_end": "07:00"}, 422, None, None),
        ({"wechat": "yes please", "sms": False}, 422, None, None),
        ({"sms": False}, 422, None, None),
        ({"wechat": True, "sms": False, "sms_classes": [4]}, 422, None, None),
        ({"wechat": True, "sms": False, "sms_classes": []}, 422, None, None),
    ]
    for body, status, code, field in refusals:
        response = client.put(URL, json=body, headers=headers)
        assert response.status_code == status, body
        if code:
            assert _code(response) == code
            # The form shows the message next to the field it is about.
            assert response.get_json()["error"]["details"] == {"field": field}
    response = client.put(URL, json={"wechat": False, "sms": True, "phone": "+86 138 0013 8000", "sms_classes": [1],
                                     "quiet_start": "22:00", "quiet_end": "07:00"}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["wechat"], body["sms"], body["phone"], body["sms_phone"], body["sms_classes"]) == (
        False, True, "13800138000", "138****8000", [1])
    assert (body["quiet_start"], body["quiet_end"], body["updated_at"]) == ("22:00", "07:00",
                                                                             "2026-11-30T10:00:00+08:00")
    assert client.get(URL, headers=headers).get_json() == body
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "notice.channels")).all()
    assert len(audit) == 1 and audit[0].actor_id == uid("demo-manager-1")
    assert audit[0].details["after"]["phone"] == "138****8000"  # the log never holds the whole number
    # Saving the same again is no change: no second audit row.
    client.put(URL, json={"wechat": False, "sms": True, "phone": "13800138000", "sms_classes": [1],
                          "quiet_start": "22:00", "quiet_end": "07:00"}, headers=headers)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "notice.channels")) == 1
    assert client.get(URL).status_code == 401


def test_the_account_phone_serves_sms_when_no_number_is_given(app, demo, client, as_user):
    from backend.accounts.models import User

    db.session.get(User, uid("demo-staff-1")).phone = "13912345678"
    db.session.commit()
    headers = as_user("demo-staff-1")
    response = client.put(URL, json={"wechat": True, "sms": True}, headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["account_phone"], response.get_json()["sms_phone"]) == ("139****5678",
                                                                                       "139****5678")


def test_the_principal_manages_the_schools_robots_and_never_sees_a_key(app, demo, client, as_user):
    principal = as_user("demo-principal-1")
    url = "/api/v1/schools/1/notice-robots"
    assert client.post(url, json={"name": "食堂群", "webhook_key": "https://evil.example/hook"},
                       headers=principal).status_code == 422
    refused = client.post(url, json={"name": "食堂群", "webhook_key": "abc"}, headers=principal)
    assert _code(refused) == "webhook_key_invalid"
    assert refused.get_json()["error"]["details"] == {"field": "webhook_key"}
    assert client.post(url, json={"name": "食堂群", "webhook_key": SCHOOL_KEY, "classes": [4]},
                       headers=principal).status_code == 422
    assert client.post(url, json={"name": "食堂群", "webhook_key": SCHOOL_KEY, "classes": []},
                       headers=principal).status_code == 422
    response = client.post(url, json={"name": "食堂群", "webhook_key": WEBHOOK}, headers=principal)
    assert response.status_code == 201
    robot = response.get_json()
    assert robot == {"id": robot["id"], "name": "食堂群", "key_hint": "****5555", "classes": [1, 2], "enabled": True,
                     "scope": "school", "school_id": 1, "region_id": None, "updated_at": "2026-11-30T10:00:00+08:00"}
    listed = client.get(url, headers=principal)
    assert listed.get_json() == [robot]
    for answer in (response, listed):
        assert SCHOOL_KEY not in answer.get_data(as_text=True)
    # Stored encrypted: the key is not in the database row as written.
    raw = db.session.execute(sa.text("SELECT webhook_key FROM notice_robot")).scalar()
    assert SCHOOL_KEY not in raw and db.session.get(NoticeRobot, robot["id"]).webhook_key == SCHOOL_KEY
    # A change without a key keeps the stored one; a new key replaces it.
    item = f"{url}/{robot['id']}"
    changed = client.put(item, json={"name": "后厨群", "classes": [1, 2, 3], "enabled": False}, headers=principal)
    assert changed.status_code == 200 and changed.get_json()["key_hint"] == "****5555"
    assert client.put(item, json={"name": "后厨群", "webhook_key": COUNTY_KEY},
                      headers=principal).get_json()["key_hint"] == "****aaaa"
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "notice.robot")
                               .order_by(AuditLog.id)).all()
    assert [(a.school_id, a.details["change"]) for a in audit] == [(1, "create"), (1, "update"), (1, "update")]
    assert all(SCHOOL_KEY not in str(a.details) and COUNTY_KEY not in str(a.details) for a in audit)
    assert client.delete(item, headers=principal).status_code == 204
    assert client.get(url, headers=principal).get_json() == []


def test_robots_are_scoped_to_their_school_and_role(app, demo, client, as_user):
    principal = as_user("demo-principal-1")
    robot = client.post("/api/v1/schools/1/notice-robots", json={"name": "食堂群", "webhook_key": SCHOOL_KEY},
                        headers=principal).get_json()
    other = as_user("demo-principal-2")
    assert client.get("/api/v1/schools/1/notice-robots", headers=other).status_code == 403
    # Through its own school's URL, another school's robot does not exist.
    assert client.put(f"/api/v1/schools/2/notice-robots/{robot['id']}", json={"name": "x"},
                      headers=other).status_code == 404
    assert client.delete(f"/api/v1/schools/2/notice-robots/{robot['id']}", headers=other).status_code == 404
    for openid in ("demo-parent-1", "demo-committee-1", "demo-manager-1"):
        assert client.get("/api/v1/schools/1/notice-robots", headers=as_user(openid)).status_code == 403
    assert client.get("/api/v1/schools/1/notice-robots", headers=as_user("demo-staff-1")).status_code == 200
    # The school's robots are the school's to set; regulators set their own region's robots.
    assert client.get("/api/v1/schools/1/notice-robots", headers=as_user("demo-regulator")).status_code == 403
    assert db.session.get(NoticeRobot, robot["id"]).school_id == 1


def test_regulators_manage_their_regions_robots_only(app, demo, client, as_user):
    regulator = as_user("demo-regulator")
    county = db.session.scalar(sa.select(Region.id).where(Region.level == "county"))
    response = client.post(f"/api/v1/regions/{county}/notice-robots",
                           json={"name": "西湖区监管群", "webhook_key": COUNTY_KEY, "classes": [1]}, headers=regulator)
    assert response.status_code == 201
    assert response.get_json()["scope"] == "region" and response.get_json()["key_hint"] == "****aaaa"
    assert COUNTY_KEY not in response.get_data(as_text=True)
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    elsewhere = create_region("330200", "宁波市", "city", province)
    db.session.commit()
    assert client.get(f"/api/v1/regions/{elsewhere.id}/notice-robots", headers=regulator).status_code == 403
    assert client.post(f"/api/v1/regions/{elsewhere.id}/notice-robots",
                       json={"name": "x", "webhook_key": SCHOOL_KEY}, headers=regulator).status_code == 403
    assert client.get(f"/api/v1/regions/{county}/notice-robots",
                      headers=as_user("demo-principal-1")).status_code == 403
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "notice.robot")).all()
    assert [(a.target_type, a.target_id, a.school_id) for a in audit] == [("region", county, None)]


def test_removing_a_robot_fails_what_it_still_had_to_post(app, kitchen, client, as_user, robot_fake):
    principal = as_user("demo-principal-1")
    robot = client.post("/api/v1/schools/1/notice-robots", json={"name": "食堂群", "webhook_key": SCHOOL_KEY},
                        headers=principal).get_json()
    raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key="r", occurred_at=MONDAY_10)
    assert client.delete(f"/api/v1/schools/1/notice-robots/{robot['id']}", headers=principal).status_code == 204
    db.session.expire_all()
    delivery = db.session.scalar(sa.select(ChannelDelivery).where(ChannelDelivery.channel == "wecom"))
    assert (delivery.status, delivery.last_error, delivery.robot_id) == ("failed", "robot_removed", None)


def test_admins_list_channel_deliveries_with_masked_numbers(app, kitchen, client, as_user):
    choose("demo-manager-1", phone="13800138000")
    raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key="r", occurred_at=MONDAY_10)
    url = "/api/v1/admin/channel-deliveries?status=pending&channel=sms"
    response = client.get(url, headers=as_user("demo-admin"))
    assert response.status_code == 200
    [row] = response.get_json()
    assert (row["phone"], row["risk_class"], row["possible_duplicates"], row["status"]) == ("138****8000", 1, 0,
                                                                                         "pending")
    assert (row["recipient_name"], row["recipient_role_label"], row["school_name"]) == (
        "西湖实验小学食堂负责人", "食堂负责人", "西湖实验小学")
    assert client.get(url, headers=as_user("demo-principal-1")).status_code == 403
    assert client.get("/api/v1/admin/channel-deliveries?channel=fax",
                      headers=as_user("demo-admin")).status_code == 422


def test_admins_see_a_robot_delivery_named_by_its_robot(app, kitchen, client, as_user, robot_fake):
    """A group robot's message names the robot (the group), not a person."""
    client.post("/api/v1/schools/1/notice-robots", json={"name": "食堂群", "webhook_key": SCHOOL_KEY},
                headers=as_user("demo-principal-1"))
    raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key="r", occurred_at=MONDAY_10)
    [row] = client.get("/api/v1/admin/channel-deliveries?status=pending&channel=wecom",
                       headers=as_user("demo-admin")).get_json()
    assert (row["recipient_name"], row["recipient_role_label"], row["school_name"], row["phone"]) == (
        "食堂群", "群机器人", "西湖实验小学", None)
