"""Request and response schemas of the inbox, subscriptions and the admins' delivery view."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, List, Nested
from apiflask.validators import Length, OneOf
from marshmallow import ValidationError, fields, validates

from backend.fields import DateTime, Integer, String
from backend.notices.models import NoticeStatus
from backend.notices.quota import CHOICES
from backend.schemas_common import PageQuerySchema


class InboxQuery(PageQuerySchema):
    """The caller's notices, newest first."""

    unread = Boolean(load_default=False)


class NoticeFields(Schema):
    """What every view of a notice shows: which one, about what, why and when."""

    id = Integer()
    school_id = Integer(allow_none=True)
    subject_type = String()
    subject_id = Integer()
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


class DeliveryOut(NoticeFields):
    """A notice's delivery, for admins."""

    user_id = Integer()
    status = String()
    attempts = Integer()
    attempt_budget = Integer()
    next_attempt_at = DateTime()
    sent_at = DateTime(allow_none=True)
    msgid = String(allow_none=True)
    last_error = String(allow_none=True)
    delivery_report = String(allow_none=True)
    # Sends that may have shown the recipient this message twice (see backend/notices/dispatcher.py).
    possible_duplicates = Integer()


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
