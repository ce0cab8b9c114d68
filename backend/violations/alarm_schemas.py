"""Request and response schemas of the AI-alarm review queue."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, List, Nested
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema

from backend.fields import DateTime, Id, Integer, String
from backend.schemas_common import PageQuerySchema, brief, labelled, signed
from backend.violations.alarm_queue import STATES
from backend.violations.models import AlarmVerdict, ViolationKind
from backend.violations.schemas import PeriodQuery, ViolationFields
from backend.violations.training_set import TRAINING_CLASSES

VERDICTS = [v.value for v in AlarmVerdict]


class AlarmQuery(PageQuerySchema):
    """Filters of the queue (default: the pending alarms), newest first, paged by id."""

    state = String(load_default="pending", validate=OneOf(STATES))
    camera_id = Id(load_default=None)
    kind = String(load_default=None, validate=OneOf([k.value for k in ViolationKind]))


class RegionAlarmQuery(AlarmQuery):
    """A region's queue, optionally one school's part of it."""

    school_id = Id(load_default=None)


class AlarmStatsQuery(PeriodQuery):
    """Verdict counts over a period of local days (default: the last 30)."""


class RegionAlarmStatsQuery(AlarmStatsQuery):
    """A region's verdict counts, optionally one school's."""

    school_id = Id(load_default=None)


class BoxIn(Schema):
    """A box the reviewer drew on the alarm's picture: what it shows and where, in fractions of the picture
    (0 = left / top edge, 1 = right / bottom edge)."""

    label = String(required=True, validate=OneOf(TRAINING_CLASSES),
                   metadata={"description": "person 人员, no_mask 未戴口罩, no_hat 未戴帽子, no_uniform 未穿工作服, "
                                            "smoking 吸烟, phone 玩手机, rodent 老鼠"})
    x1 = Float(required=True, validate=Range(0, 1))
    y1 = Float(required=True, validate=Range(0, 1))
    x2 = Float(required=True, validate=Range(0, 1))
    y2 = Float(required=True, validate=Range(0, 1))

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["x2"] <= data["x1"] or data["y2"] <= data["y1"]:
            raise ValidationError("框的右下角必须在左上角的右下方", "x2")


class BoxOut(Schema):
    """A reviewer's box (fractions of the picture)."""

    label = String()
    x1 = Float()
    y1 = Float()
    x2 = Float()
    y2 = Float()


class ReviewOut(labelled("verdict"), signed("reviewer", "reviewed_at")):
    """The verdict on an alarm: what, who, when, why, and the reviewer's corrected boxes (null: none given)."""

    id = Integer()
    reason = String(allow_none=True)
    boxes = List(Nested(BoxOut), allow_none=True)


class AlarmWhereOut(brief("camera", id_nullable=True), labelled("kind", label_nullable=True)):
    """Which camera (and school) saw what."""

    school_name = String(allow_none=True)


class AlarmOut(ViolationFields, AlarmWhereOut, brief("canteen"), labelled("status", label_nullable=True)):
    """One alarm of the queue (a violation the detector raised)."""

    confidence = Float(allow_none=True)
    evidence_url = String(allow_none=True, metadata={"description": "signed URL of the annotated frame (5 min)"})
    review = Nested(ReviewOut, allow_none=True)


class AlarmGroupOut(AlarmWhereOut):
    """Alarms of one camera and kind following each other within 10 minutes (ids newest first)."""

    key = String()
    count = Integer()
    first_occurred_at = DateTime()
    last_occurred_at = DateTime()
    ids = List(Integer())


class AlarmPageOut(Schema):
    """A page of the queue: the alarms, their groups, and ``before_id`` of the next page (null: the last)."""

    items = List(Nested(AlarmOut))
    groups = List(Nested(AlarmGroupOut))
    next_before_id = Integer(allow_none=True)


class AlarmReviewIn(Schema):
    """A verdict; marking a false positive needs the reason. A confirmation (or escalation) may correct the
    detector: ``boxes`` are then what the picture really shows (the training set's labels)."""

    verdict = String(required=True, validate=OneOf(VERDICTS))
    reason = String(load_default=None, validate=Length(max=500), multiline=True)
    boxes = List(Nested(BoxIn), load_default=None, validate=Length(1, 50))


class AlarmReviewOut(Schema):
    """The alarm after the verdict, and whether this request made it (false: the same verdict stood already)."""

    created = Boolean()
    alarm = Nested(AlarmOut)


class CursorOut(Schema):
    """The newest alarm id the caller may see and a revision that changes with every new alarm or verdict."""

    latest_id = Integer(allow_none=True)
    revision = String()


class VerdictCountsOut(Schema):
    """Alarms raised and their verdicts; the false-positive rate is over reviewed alarms (null before any)."""

    total = Integer()
    pending = Integer()
    confirmed = Integer()
    false_positive = Integer()
    escalated = Integer()
    false_positive_rate = Float(allow_none=True)


class CameraCountsOut(VerdictCountsOut, brief("camera", id_nullable=True), brief("school")):
    """One camera's alarms."""


class KindCountsOut(VerdictCountsOut, labelled("kind")):
    """One kind's alarms."""


class AlarmStatsOut(VerdictCountsOut):
    """Verdict counts of a period: overall, per camera (its false-alarm rate) and per kind."""

    period = Dict()
    camera_count = Integer(metadata={"description": "How many cameras raised alarms in the period"})
    by_camera = List(Nested(CameraCountsOut), metadata={"description": "The 50 cameras with the most alarms"})
    by_kind = List(Nested(KindCountsOut))
