"""Request and response schemas of the inbox, subscriptions and the admins' delivery view."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, List, Nested
from apiflask.validators import Length, OneOf
from marshmallow import ValidationError, fields, validates

from backend.fields import DateTime, Integer, String
from backend.notices.models import NoticeStatus
from backend.notices.quota import CHOICES
from backend.schemas_common import PageQuerySchema, validate_hhmm


class InboxQuery(PageQuerySchema):
    """The caller's notices, newest first."""

    unread = Boolean(load_default=False)


class SubjectFields(Schema):
    """What a message is about: the subject (a violation, an order, a warning, ...) and its school (null: none)."""

    school_id = Integer(allow_none=True)
    subject_type = String()
    subject_id = Integer()


class NoticeFields(SubjectFields):
    """What every view of a notice shows: which one, about what, why and when."""

    id = Integer()
    purpose = String()
    title = String()
    created_at = DateTime()


class NoticeOut(NoticeFields):
    """An inbox item, with how its WeChat copy fared."""

    body = String()
    page = String(allow_none=True)
    read_at = DateTime(allow_none=True)
    read = fields.Function(lambda notice: notice.read_at is not None)
    delivery = String(attribute="status")


class ReadOut(NoticeOut):
    """The notice just marked read (its own component: NoticeOut is also nested in InboxOut)."""


class InboxOut(Schema):
    """A page of the inbox and the unread count."""

    items = List(Nested(NoticeOut))
    unread = Integer()


class ReadAllOut(Schema):
    """How many notices were marked read."""

    marked = Integer()


class TemplateOut(Schema):
    """A subscribe-message template the mini-program may ask for."""

    purpose = String()
    template_id = String()
    title = String()
    keywords = List(String())


class SubscriptionOut(TemplateOut):
    """The caller's remaining one-time messages of a template."""

    remaining = Integer()
    last_choice = String(allow_none=True)


class SubscriptionsIn(Schema):
    """What ``wx.requestSubscribeMessage`` answered: ``{templateId: accept|reject|ban|filter}``."""

    results = Dict(keys=String(validate=Length(1, 64)), values=String(validate=OneOf(sorted(CHOICES))),
                   required=True)

    @validates("results")
    def _not_empty(self, value: dict[str, str], **kwargs: object) -> None:
        if not value or len(value) > 20:
            raise ValidationError("应包含 1 到 20 个模板的结果")


class SubscriptionsReportOut(Schema):
    """What was applied, and the caller's quotas after it."""

    applied = List(String())
    ignored = List(String())
    subscriptions = List(Nested(SubscriptionOut))


class DeliveryQuery(PageQuerySchema):
    """Notices by delivery state (admins)."""

    status = String(load_default=NoticeStatus.FAILED.value, validate=OneOf([s.value for s in NoticeStatus]))


class DeliveryStateFields(Schema):
    """Where a delivery stands, for admins: the same for a WeChat copy and for an SMS or robot message."""

    status = String()
    attempts = Integer()
    attempt_budget = Integer()
    next_attempt_at = DateTime()
    sent_at = DateTime(allow_none=True)
    last_error = String(allow_none=True)
    # Resends after an attempt that may have been delivered, so the recipient may have seen the message twice
    # (backend/notices/dispatcher.py for WeChat, channel_dispatcher.py for SMS and robots).
    possible_duplicates = Integer()


class RecipientFields(Schema):
    """To whom a delivery went, in words (backend/notices/delivery_views.py), and the school's name."""

    recipient_name = String(allow_none=True, metadata={"description": "the person as the school names them, or the "
                                                                      "group robot's name"})
    recipient_role_label = String(metadata={"description": "校长, 家长 …, 监管部门, 群机器人, or empty"})
    school_name = String(allow_none=True)


class DeliveryOut(NoticeFields, DeliveryStateFields, RecipientFields):
    """A notice's delivery (its WeChat copy), for admins."""

    user_id = Integer()
    msgid = String(allow_none=True)
    delivery_report = String(allow_none=True)


class AttemptOut(Schema):
    """One send attempt."""

    id = Integer()
    number = Integer()
    claimed_at = DateTime()
    started_at = DateTime(allow_none=True)
    finished_at = DateTime(allow_none=True)
    outcome = String()
    errcode = Integer(allow_none=True)
    errmsg = String(allow_none=True)
    duration_ms = Integer(allow_none=True)
    dispatcher = String(allow_none=True)


def _classes_ok(value: list[int]) -> None:
    if not value or len(set(value)) != len(value):
        raise ValidationError("请选择要推送的风险等级（不重复）")


class ChannelsIn(Schema):
    """A person's channels: WeChat subscribe messages, SMS (with a number, else the account's), quiet hours
    (Asia/Shanghai, HH:MM, both or neither; class-1 problems come through anyway). The inbox is always on."""

    wechat = Boolean(required=True)
    sms = Boolean(required=True)
    phone = String(load_default=None, allow_none=True, validate=Length(11, 20))
    # The risk classes worth an SMS (default 1 and 2).
    sms_classes = List(Integer(validate=OneOf([1, 2, 3])), load_default=[1, 2], validate=_classes_ok)
    quiet_start = String(load_default=None, allow_none=True, validate=validate_hhmm)
    quiet_end = String(load_default=None, allow_none=True, validate=validate_hhmm)


class ChannelsOut(Schema):
    """A person's channels as they stand."""

    inbox = Boolean()
    wechat = Boolean()
    sms = Boolean()
    sms_classes = List(Integer())
    phone = String(allow_none=True)
    # The number bound to the account, masked (138****8000); SMS goes to it when ``phone`` is not set.
    account_phone = String(allow_none=True)
    sms_phone = String(allow_none=True)
    quiet_start = String(allow_none=True)
    quiet_end = String(allow_none=True)
    updated_at = DateTime(allow_none=True)


class RobotIn(Schema):
    """A WeCom group robot: a name, its webhook (the whole URL or its key), the risk classes it posts."""

    name = String(required=True, validate=Length(1, 50))
    webhook_key = String(required=True, validate=Length(1, 300))
    classes = List(Integer(validate=OneOf([1, 2, 3])), load_default=[1, 2], validate=_classes_ok)
    enabled = Boolean(load_default=True)


class RobotUpdateIn(RobotIn):
    """A robot's new settings; leave ``webhook_key`` out (or empty) to keep the stored key."""

    webhook_key = String(load_default=None, allow_none=True, validate=Length(0, 300))


class RobotOut(Schema):
    """A robot as stored: its key never leaves the server, only ``key_hint`` (****abcd)."""

    id = Integer()
    name = String()
    key_hint = String()
    classes = List(Integer())
    enabled = Boolean()
    scope = String()
    school_id = Integer(allow_none=True)
    region_id = Integer(allow_none=True)
    updated_at = DateTime()


class ChannelDeliveryQuery(DeliveryQuery):
    """SMS and robot deliveries by state (admins)."""

    channel = String(load_default=None, validate=OneOf(["sms", "wecom"]))


class ChannelDeliveryOut(SubjectFields, DeliveryStateFields, RecipientFields):
    """An SMS or robot delivery, for admins (the number masked)."""

    id = Integer()
    channel = String()
    notice_id = Integer(allow_none=True)
    robot_id = Integer(allow_none=True)
    user_id = Integer(allow_none=True)
    phone = String(allow_none=True)
    risk_class = Integer(allow_none=True)
    external_id = String(allow_none=True)
    created_at = DateTime()
