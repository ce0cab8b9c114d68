"""Fixtures of the channel tests: the Tencent Cloud SMS and WeCom robot fakes on loopback, the app pointed at
them, people's channel choices and robots, and a fixed clock (Monday 30 November 2026)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.channels import key_hint
from backend.notices.models import ChannelDelivery, NoticeChannelSetting, NoticeRobot
from tests.fakes.channels_server import FakeTencentSms, FakeWeComRobot

# 10:00 and 23:00 in Shanghai on a school day.
MONDAY_10 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
MONDAY_23 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SCHOOL_KEY = "11111111-2222-4333-8444-555555555555"
COUNTY_KEY = "66666666-7777-4888-9999-aaaaaaaaaaaa"
TEMPLATE_ID = "1000001"


@pytest.fixture
def sms_fake() -> Iterator[FakeTencentSms]:
    """Tencent Cloud SMS on loopback."""
    with FakeTencentSms() as fake:
        yield fake


@pytest.fixture
def robot_fake() -> Iterator[FakeWeComRobot]:
    """WeCom robots on loopback, knowing the school's and the county's keys."""
    with FakeWeComRobot([SCHOOL_KEY, COUNTY_KEY]) as fake:
        yield fake


def channel_settings(sms: FakeTencentSms, robot: FakeWeComRobot) -> dict[str, Any]:
    """The app's settings for both fakes."""
    account = sms.account
    return {"TENCENT_SMS_SECRET_ID": account.secret_id, "TENCENT_SMS_SECRET_KEY": account.secret_key,
            "TENCENT_SMS_SDK_APP_ID": account.sdk_app_id, "TENCENT_SMS_SIGN_NAME": account.sign_name,
            "TENCENT_SMS_TEMPLATE_ID": TEMPLATE_ID, "TENCENT_SMS_ENDPOINT": sms.endpoint,
            "TENCENT_SMS_SCHEME": "http", "WECOM_API_BASE": robot.base_url, "CHANNEL_TIMEOUT_SECONDS": "1"}


@pytest.fixture
def app_config(app_config: dict[str, Any], sms_fake: FakeTencentSms, robot_fake: FakeWeComRobot) -> dict[str, Any]:
    """The violations' settings plus both channel fakes."""
    return {**app_config, **channel_settings(sms_fake, robot_fake)}


def uid(openid: str) -> int:
    """A demo user's id."""
    return db.session.scalar(sa.select(User.id).where(User.openid == openid))


def choose(openid: str, *, sms: bool = True, wechat: bool = True, phone: str | None = None,
           quiet: tuple[str, str] | None = None, sms_classes: tuple[int, ...] = (1, 2)) -> str:
    """Set a person's channels; returns their SMS number (11 digits)."""
    user_id = uid(openid)
    phone = phone or f"139{user_id:08d}"
    db.session.merge(NoticeChannelSetting(user_id=user_id, wechat=wechat, sms=sms, phone=phone,
                                          sms_classes=list(sms_classes),
                                          quiet_start=quiet[0] if quiet else None,
                                          quiet_end=quiet[1] if quiet else None, updated_at=MONDAY_10))
    db.session.commit()
    return phone


def add_robot(key: str, *, school_id: int | None = None, region_id: int | None = None,
              classes: tuple[int, ...] = (1, 2)) -> int:
    """A robot of a school or a region."""
    robot = NoticeRobot(school_id=school_id, region_id=region_id, name="群机器人", webhook_key=key,
                        key_hint=key_hint(key), classes=list(classes), enabled=True, created_at=MONDAY_10,
                        updated_at=MONDAY_10)
    db.session.add(robot)
    db.session.commit()
    return robot.id


def deliveries(**where: Any) -> list[ChannelDelivery]:
    """Channel deliveries, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ChannelDelivery).filter_by(**where).order_by(ChannelDelivery.id)))
