"""Channels on a fixed clock: class 1 and 2 reach the school's people and the region's inspectors at the same
moment on every channel they chose (双推送: inbox, WeChat, SMS, the school's and the region's WeCom robots);
quiet hours hold class 2 and 3 until they end and never class 1; WeChat turned off leaves the inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import time_machine

from backend.extensions import db
from backend.notices.channel_dispatcher import dispatch_channels
from backend.notices.channels import Choice, normalize_phone, webhook_key
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import Notice
from backend.violations.models import Violation
from backend.violations.services import raise_violation
from tests.notices import channel_fixtures
from tests.notices.channel_fixtures import (
    COUNTY_KEY,
    MONDAY_10,
    MONDAY_23,
    SCHOOL_KEY,
    add_robot,
    choose,
    deliveries,
    uid,
)
from tests.violations.conftest import grant

app_config, sms_fake, robot_fake = channel_fixtures.app_config, channel_fixtures.sms_fake, channel_fixtures.robot_fake

COUNTY = 3
# The people told to fix it, and the parents' committee (the school publishes these kinds).
SCHOOL_PEOPLE = {"demo-manager-1", "demo-staff-1", "demo-committee-1"}
INSPECTORS = {"demo-regulator", "demo-regulator-2"}


def _raise(kind: str, key: str) -> Violation:
    return raise_violation(canteen_id=1, kind=kind, source="record_rule", idempotency_key=key,
                           occurred_at=MONDAY_10).violation


def _notices(violation_id: int) -> dict[str, Notice]:
    from backend.accounts.models import User

    rows = db.session.execute(sa.select(User.openid, Notice).join(Notice, Notice.user_id == User.id)
                              .where(Notice.subject_id == violation_id, Notice.purpose == "violation_created")).all()
    return dict(rows)


def test_quiet_hours_arithmetic_in_shanghai_time():
    night = Choice(quiet_start="22:00", quiet_end="07:00")
    at = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert night.quiet_until(at) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 next morning
    assert night.quiet_until(datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == datetime(2026, 11, 30, 23, 0,
                                                                                      tzinfo=UTC)  # 06:59
    assert night.quiet_until(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) is None  # 07:00: the end is exclusive
    assert night.quiet_until(datetime(2026, 11, 30, 13, 59, tzinfo=UTC)) is None  # 21:59
    assert night.quiet_until(datetime(2026, 11, 30, 14, 0, tzinfo=UTC)) is not None  # 22:00: the start is inclusive
    noon = Choice(quiet_start="12:00", quiet_end="14:00")
    assert noon.quiet_until(datetime(2026, 11, 30, 5, 0, tzinfo=UTC)) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert noon.quiet_until(datetime(2026, 11, 30, 6, 0, tzinfo=UTC)) is None
    assert Choice().quiet_until(at) is None


def test_phone_numbers_and_webhook_keys_are_validated():
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("008613800138000") == "13800138000"
    for bad in ("12800138000", "1380013800", "138001380001", "tel:13800138000", ""):
        assert normalize_phone(bad) is None
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={SCHOOL_KEY}"
    assert webhook_key(url) == webhook_key(SCHOOL_KEY) == SCHOOL_KEY
    for bad in ("not-a-key", f"https://evil.example/cgi-bin/webhook/send?key={SCHOOL_KEY}", SCHOOL_KEY + "0"):
        assert webhook_key(bad) is None


def test_class_1_reaches_school_and_inspectors_at_once_on_every_channel(app, kitchen, sms_fake, robot_fake):
    phones = {openid: choose(openid) for openid in ("demo-manager-1", "demo-regulator")}
    school_robot = add_robot(SCHOOL_KEY, school_id=1)
    county_robot = add_robot(COUNTY_KEY, region_id=COUNTY)
    for openid in SCHOOL_PEOPLE | INSPECTORS:
        grant(openid, "violation")
    with time_machine.travel(MONDAY_10, tick=False):
        rodent = _raise("rodent", "rodent-1")
        notices = _notices(rodent.id)
        # The school's responsible people and the county's inspectors, written in one transaction at one moment.
        assert set(notices) == SCHOOL_PEOPLE | INSPECTORS
        assert {n.created_at for n in notices.values()} == {rodent.created_at}
        assert {n.next_attempt_at for n in notices.values()} == {rodent.created_at}
        sms = deliveries(channel="sms")
        assert {(d.user_id, d.phone, d.risk_class) for d in sms} == {
            (uid(openid), phone, 1) for openid, phone in phones.items()}
        assert {d.notice_id for d in sms} == {notices["demo-manager-1"].id, notices["demo-regulator"].id}
        robots = deliveries(channel="wecom")
        assert {d.robot_id for d in robots} == {school_robot, county_robot}
        assert {d.created_at for d in sms + robots} == {rodent.created_at}

        assert dispatch_due(MONDAY_10).sent == len(SCHOOL_PEOPLE | INSPECTORS)
        report = dispatch_channels(MONDAY_10)
    assert (report.sent, report.failed, report.retried) == (4, 0, 0)
    assert {m["phone"] for m in sms_fake.messages} == {f"+86{p}" for p in phones.values()}
    school = sms_fake.messages[0]["params"]
    assert school[1:3] == ["发现鼠患", "1"] and len(school) == 4
    assert robot_fake.received() == {SCHOOL_KEY: 1, COUNTY_KEY: 1}
    assert "1级" in robot_fake.messages[0]["content"] and "发现鼠患" in robot_fake.messages[0]["content"]
    assert {d.status for d in deliveries()} == {"sent"}
    assert all(d.external_id.startswith("5000:") for d in deliveries(channel="sms"))


def test_class_3_stays_with_the_school_and_robots_post_only_their_classes(app, kitchen, sms_fake, robot_fake):
    choose("demo-manager-1", sms_classes=(1, 2, 3))
    choose("demo-staff-1")  # SMS for classes 1 and 2 only (the default)
    choose("demo-regulator")
    add_robot(SCHOOL_KEY, school_id=1, classes=(1, 2, 3))
    add_robot(COUNTY_KEY, region_id=COUNTY, classes=(1, 2))
    with time_machine.travel(MONDAY_10, tick=False):
        mask = _raise("no_mask", "mask-1")
    assert set(_notices(mask.id)) == SCHOOL_PEOPLE  # no inspectors for class 3
    assert [(d.user_id, d.risk_class) for d in deliveries(channel="sms")] == [(uid("demo-manager-1"), 3)]
    assert [d.robot_id is not None and d.risk_class for d in deliveries(channel="wecom")] == [3]
    dispatch_channels(MONDAY_10)
    assert robot_fake.received() == {SCHOOL_KEY: 1}


def test_the_same_cause_never_adds_a_second_delivery(app, kitchen, sms_fake, robot_fake):
    choose("demo-manager-1")
    add_robot(SCHOOL_KEY, school_id=1)
    with time_machine.travel(MONDAY_10, tick=False):
        rodent = _raise("rodent", "rodent-1")
        again = _raise("rodent", "rodent-1")
    assert again.id == rodent.id
    assert len(deliveries(channel="sms")) == 1 and len(deliveries(channel="wecom")) == 1


def test_quiet_hours_hold_class_2_until_morning_but_never_class_1(app, kitchen, sms_fake, wechat):
    phone = choose("demo-manager-1", quiet=("22:00", "07:00"))
    grant("demo-manager-1", "violation", times=2)
    morning = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # 07:00 on Tuesday in Shanghai
    with time_machine.travel(MONDAY_23, tick=False):
        smoking = _raise("smoking", "smoking-1")  # class 2, found at 23:00
        rodent = _raise("rodent", "rodent-1")     # class 1, found at 23:00
        assert _notices(smoking.id)["demo-manager-1"].next_attempt_at == morning
        assert _notices(rodent.id)["demo-manager-1"].next_attempt_at == MONDAY_23
        # Somebody without quiet hours is told at once of both.
        assert _notices(smoking.id)["demo-staff-1"].next_attempt_at == MONDAY_23
        held = {d.subject_id: d.next_attempt_at for d in deliveries(channel="sms")}
        assert held == {smoking.id: morning, rodent.id: MONDAY_23}
        dispatch_due(MONDAY_23)
        dispatch_channels(MONDAY_23)
    assert [m["params"][1] for m in sms_fake.messages] == ["发现鼠患"]
    manager_openid_messages = [m for m in wechat.calls("subscribe_send") if m["json"]["touser"] == "demo-manager-1"]
    assert len(manager_openid_messages) == 1
    # In the inbox at once, whatever the hour.
    assert _notices(smoking.id)["demo-manager-1"].created_at == MONDAY_23
    with time_machine.travel(morning - timedelta(minutes=1), tick=False):
        assert dispatch_channels(morning - timedelta(minutes=1)).claimed == 0
    with time_machine.travel(morning, tick=False):
        dispatch_due(morning)
        dispatch_channels(morning)
    assert [m["params"][1] for m in sms_fake.messages] == ["发现鼠患", "后厨吸烟"]
    assert sms_fake.sent_to(phone) == 2
    assert len([m for m in wechat.calls("subscribe_send") if m["json"]["touser"] == "demo-manager-1"]) == 2
    assert {d.status for d in deliveries()} == {"sent"}


def test_a_person_who_turned_wechat_off_keeps_the_inbox_only(app, kitchen, sms_fake, wechat):
    choose("demo-manager-1", wechat=False, sms=False)
    grant("demo-manager-1", "violation")
    grant("demo-staff-1", "violation")
    with time_machine.travel(MONDAY_10, tick=False):
        rodent = _raise("rodent", "rodent-1")
        dispatch_due(MONDAY_10)
    db.session.expire_all()
    notices = _notices(rodent.id)
    assert (notices["demo-manager-1"].status, notices["demo-manager-1"].last_error) == ("inbox_only",
                                                                                        "wechat_not_chosen")
    assert notices["demo-staff-1"].status == "sent"
    assert {c["json"]["touser"] for c in wechat.calls("subscribe_send")} == {"demo-staff-1"}
    assert deliveries(channel="sms") == []
