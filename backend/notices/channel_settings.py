"""Reading and changing notice channels: a person's own choice and quiet hours, and the WeCom group robots of a
school (its principal and food-safety staff) or of a region (its regulators). Every change is audited; a robot's
webhook key is stored encrypted and shown only as its last four characters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from backend.accounts.models import User
from backend.accounts.people import mask_phone
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.notices.channels import choices_of, key_hint, normalize_phone, webhook_key
from backend.notices.models import ChannelDelivery, NoticeChannelSetting, NoticeRobot, NoticeStatus
from backend.permissions import Principal
from backend.schools.models import Region, School

CHANNELS_AUDIT = AuditAction.NOTICE_CHANNELS
ROBOT_AUDIT = AuditAction.NOTICE_ROBOT


def read_channels(user_id: int) -> dict[str, Any]:
    """A person's channels as they stand (defaults when never set)."""
    setting = db.session.get(NoticeChannelSetting, user_id)
    user = db.session.get(User, user_id)
    choice = choices_of([user_id])[user_id]
    return {"inbox": True, "wechat": choice.wechat, "sms": choice.sms, "sms_classes": list(choice.sms_classes),
            "phone": setting.phone if setting is not None else None,
            "account_phone": mask_phone(normalize_phone(user.phone or "")),
            "sms_phone": mask_phone(choice.phone), "quiet_start": choice.quiet_start,
            "quiet_end": choice.quiet_end, "updated_at": setting.updated_at if setting is not None else None}


def _quiet(body: dict[str, Any]) -> tuple[str | None, str | None]:
    start, end = body.get("quiet_start"), body.get("quiet_end")
    if (start is None) != (end is None):
        raise ApiError(422, "quiet_hours_incomplete", "免打扰时段需要同时填写开始和结束时间",
                       {"field": "quiet_end" if start is not None else "quiet_start"})
    if start is not None and start == end:
        raise ApiError(422, "quiet_hours_empty", "免打扰时段的开始和结束时间不能相同", {"field": "quiet_end"})
    return start, end


def update_channels(user_id: int, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Set a person's channels; SMS needs a valid number (their own, or the one bound to the account)."""
    start, end = _quiet(body)
    phone = body.get("phone")
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            raise ApiError(422, "phone_invalid", "请填写正确的11位手机号码", {"field": "phone"})
    user = db.session.get(User, user_id)
    if body["sms"] and phone is None and normalize_phone(user.phone or "") is None:
        raise ApiError(422, "phone_required", "开启短信通知需要填写手机号码", {"field": "phone"})
    setting = db.session.get(NoticeChannelSetting, user_id)
    before = _snapshot(setting)
    if setting is None:
        setting = NoticeChannelSetting(user_id=user_id)
        db.session.add(setting)
    setting.wechat, setting.sms, setting.phone = body["wechat"], body["sms"], phone
    setting.sms_classes = sorted(set(body["sms_classes"]))
    setting.quiet_start, setting.quiet_end, setting.updated_at = start, end, now
    after = _snapshot(setting)
    if before != after:
        record_audit(user_id, CHANNELS_AUDIT, target=("user", user_id), details={"before": before, "after": after})
    db.session.commit()
    return read_channels(user_id)


def _snapshot(setting: NoticeChannelSetting | None) -> dict[str, Any] | None:
    if setting is None:
        return None
    return {"wechat": setting.wechat, "sms": setting.sms, "sms_classes": list(setting.sms_classes or []),
            "phone": mask_phone(setting.phone),
            "quiet": [setting.quiet_start, setting.quiet_end] if setting.quiet_start else None}


# -- robots ---------------------------------------------------------------------------------------------

def _owner(owner: School | Region) -> dict[str, int | None]:
    if isinstance(owner, School):
        return {"school_id": owner.id, "region_id": None}
    return {"school_id": None, "region_id": owner.id}


def robot_view(robot: NoticeRobot) -> dict[str, Any]:
    """A robot as the API shows it: never its key, only the key's last four characters."""
    return {"id": robot.id, "name": robot.name, "key_hint": robot.key_hint, "classes": sorted(robot.classes or []),
            "enabled": robot.enabled, "school_id": robot.school_id, "region_id": robot.region_id,
            "scope": "school" if robot.school_id is not None else "region", "updated_at": robot.updated_at}


def list_robots(owner: School | Region) -> list[dict[str, Any]]:
    """The robots of a school or a region."""
    where = _owner(owner)
    robots = db.session.scalars(select(NoticeRobot).filter_by(**where).order_by(NoticeRobot.id))
    return [robot_view(r) for r in robots]


def _robot_of(owner: School | Region, robot_id: int) -> NoticeRobot:
    robot = db.session.get(NoticeRobot, robot_id)
    if robot is None or {"school_id": robot.school_id, "region_id": robot.region_id} != _owner(owner):
        raise not_found("群机器人")
    return robot


def _key(value: str) -> str:
    key = webhook_key(value)
    if key is None:
        raise ApiError(422, "webhook_key_invalid", "请填写企业微信群机器人的 Webhook 地址或其中的 key",
                       {"field": "webhook_key"})
    return key


def _audit(actor: Principal, owner: School | Region, robot: NoticeRobot, change: str,
           before: dict[str, Any] | None) -> None:
    after = None if change == "delete" else _robot_audit_view(robot)
    target = ("school", owner.id) if isinstance(owner, School) else ("region", owner.id)
    record_audit(actor.user_id, ROBOT_AUDIT, school_id=owner.id if isinstance(owner, School) else None,
                 target=target, details={"robot_id": robot.id, "change": change, "before": before, "after": after})


def _robot_audit_view(robot: NoticeRobot) -> dict[str, Any]:
    return {"name": robot.name, "key_hint": robot.key_hint, "classes": sorted(robot.classes or []),
            "enabled": robot.enabled}


def create_robot(actor: Principal, owner: School | Region, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Add a robot (audited)."""
    key = _key(body["webhook_key"])
    robot = NoticeRobot(**_owner(owner), name=body["name"], webhook_key=key, key_hint=key_hint(key),
                        classes=sorted(set(body["classes"])), enabled=body["enabled"], created_at=now,
                        updated_at=now, updated_by_id=actor.user_id)
    db.session.add(robot)
    db.session.flush()
    _audit(actor, owner, robot, "create", None)
    db.session.commit()
    return robot_view(robot)


def update_robot(actor: Principal, owner: School | Region, robot_id: int, body: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    """Change a robot (a new key only when given; audited)."""
    robot = _robot_of(owner, robot_id)
    before = _robot_audit_view(robot)
    if body.get("webhook_key"):
        key = _key(body["webhook_key"])
        robot.webhook_key, robot.key_hint = key, key_hint(key)
    robot.name, robot.classes, robot.enabled = body["name"], sorted(set(body["classes"])), body["enabled"]
    robot.updated_at, robot.updated_by_id = now, actor.user_id
    _audit(actor, owner, robot, "update", before)
    db.session.commit()
    return robot_view(robot)


def delete_robot(actor: Principal, owner: School | Region, robot_id: int) -> None:
    """Remove a robot: what it still had to post is settled failed (``robot_removed``); audited."""
    robot = _robot_of(owner, robot_id)
    _audit(actor, owner, robot, "delete", _robot_audit_view(robot))
    db.session.execute(update(ChannelDelivery).where(ChannelDelivery.robot_id == robot.id,
                                                     ChannelDelivery.status == NoticeStatus.PENDING)
                       .values(status=NoticeStatus.FAILED, last_error="robot_removed", claim_token=None,
                               claimed_until=None))
    db.session.execute(update(ChannelDelivery).where(ChannelDelivery.robot_id == robot.id).values(robot_id=None))
    db.session.delete(robot)
    db.session.commit()
