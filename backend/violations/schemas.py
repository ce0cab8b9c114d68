"""Request and response schemas of violations, rectification, figures and the parents' page."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Float, List, Nested
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, validates_schema

from backend.fields import Date, DateTime, Id, Integer, String
from backend.parent_meals.schemas import TransparencyMealsOut
from backend.schemas_common import PageQuerySchema, brief, labelled, signed
from backend.violations.models import ViolationKind, ViolationSource, ViolationStatus
from backend.violations.stats import STATES

KINDS = [k.value for k in ViolationKind]
SOURCES = [s.value for s in ViolationSource]
STATUSES = [s.value for s in ViolationStatus]
PHOTO_KEY = String(validate=Length(1, 300))


class ViolationQuery(PageQuerySchema):
    """Filters of a school's violation list, newest first, paged by id (``X-Total-Count``: how many match).

    ``from`` / ``to``: local days (Asia/Shanghai) on which they were found; ``state``: the overview's figures
    (in_progress: not closed; rectified / dismissed: closed that way); ``overdue``: still owed and past due.
    """

    status = String(load_default=None, validate=OneOf(STATUSES))
    kind = String(load_default=None, validate=OneOf(KINDS))
    source = String(load_default=None, validate=OneOf(SOURCES))
    overdue = Boolean(load_default=None)
    state = String(load_default=None, validate=OneOf(STATES))
    date_from = Date(data_key="from", load_default=None)
    date_to = Date(data_key="to", load_default=None)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("开始日期不能晚于结束日期", "from")


class TotalHeader(Schema):
    """The headers of a paged list."""

    total = Integer(data_key="X-Total-Count", metadata={
        "description": "how many rows match the filters; 10001 means more than 10000 (not counted further)"})


class RegionViolationQuery(ViolationQuery):
    """A region's violations; ``escalated=true`` lists those escalated to the principal or the regulator."""

    escalated = Boolean(load_default=None)


class ReportIn(Schema):
    """A problem someone saw: which canteen, what, and photos uploaded first."""

    canteen_id = Id(required=True)
    camera_id = Id(load_default=None)
    kind = String(load_default=ViolationKind.REPORTED.value, validate=OneOf(KINDS))
    title = String(load_default=None, validate=Length(2, 50))
    description = String(required=True, validate=Length(5, 1000), multiline=True)
    photos = List(PHOTO_KEY, load_default=list, validate=Length(max=9))


class PhotoIn(Schema):
    """A photo sent by ``wx.uploadFile`` (field ``file``)."""

    file = File(required=True)


class PhotoOut(Schema):
    """A stored photo: the key to reference it and a short-lived URL to show it."""

    key = String()
    url = String()
    size = Integer()


class StartIn(Schema):
    """Taking a violation on."""

    note = String(load_default=None, validate=Length(max=500), multiline=True)


class RectificationIn(Schema):
    """What was done, with photos uploaded first."""

    measures = String(required=True, validate=Length(5, 2000), multiline=True)
    photos = List(PHOTO_KEY, load_default=list, validate=Length(max=9))


class ReviewIn(Schema):
    """The reviewer's verdict; a rejection needs a reason."""

    approve = Boolean(required=True)
    reason = String(load_default=None, validate=Length(max=500), multiline=True)


class DismissIn(Schema):
    """Why a violation is withdrawn."""

    reason = String(required=True, validate=Length(2, 500), multiline=True)


class EscalateIn(Schema):
    """Why the principal hands the problem to the regulators."""

    reason = String(required=True, validate=Length(2, 500), multiline=True)


class ViolationFields(Schema):
    """What every staff view of a violation (a list row, an alarm of the review queue) shows: which, at which
    school, what it is called, when it happened and when it was recorded."""

    id = Integer()
    school_id = Integer()
    title = String()
    occurred_at = DateTime()
    created_at = DateTime()


class ViolationOut(ViolationFields, labelled("kind"), labelled("status")):
    """A violation as a list row."""

    school_name = String(allow_none=True)
    overdue = Boolean(metadata={"description": "still owed a fix and past due (the overview's 已超期)"})
    canteen_id = Integer()
    camera_id = Integer(allow_none=True)
    source = String()
    due_at = DateTime()
    escalation_level = Integer()
    risk_class = Integer(allow_none=True, metadata={"description": "1, 2 or 3 (风险等级), set when raised"})
    closed_at = DateTime(allow_none=True)
    resolution = String(allow_none=True)


class EventOut(brief("actor", id_nullable=True)):
    """One transition (no actor: the system's)."""

    id = Integer()
    action = String()
    label = String()
    at = DateTime()
    from_status = String(allow_none=True)
    to_status = String()
    reason = String(allow_none=True)


class RectificationOut(signed("submitted_by", "submitted_at")):
    """A submitted rectification and its verdict."""

    id = Integer()
    measures = String()
    photos = List(String())
    verdict = String(allow_none=True)
    review_reason = String(allow_none=True)
    reviewed_by_id = Integer(allow_none=True)
    reviewed_at = DateTime(allow_none=True)


class EvidenceOut(Schema):
    """Signed URLs of the evidence the reader may see."""

    image = String(allow_none=True)
    photos = List(String())


class ViolationDetailOut(ViolationOut):
    """A violation with its evidence, timeline and rectifications."""

    description = String(allow_none=True)
    confidence = Float(allow_none=True)
    location = String()
    reviewer = String()
    evidence = Nested(EvidenceOut)
    events = List(Nested(EventOut))
    rectifications = List(Nested(RectificationOut))


class PeriodQuery(Schema):
    """A period of local days (Asia/Shanghai), by default the last 30."""

    date_from = Date(data_key="from", load_default=None)
    date_to = Date(data_key="to", load_default=None)


class StatsQuery(PeriodQuery):
    """Figures for a school or a region (default: the caller's own school or regions)."""

    school_id = Id(load_default=None)
    region_id = Id(load_default=None)


class PageByIdQuery(PageQuerySchema):
    """A page of a list, newest first: up to ``limit`` rows older than ``before_id`` (smaller pages than the
    common paging)."""

    limit = Integer(load_default=20, validate=Range(1, 50))


class TransparencyQuery(PeriodQuery, PageByIdQuery):
    """The parents' page: the period's summary and a page of the closed violations timeline."""


class BucketOut(Schema):
    """Counts of one slice."""

    found = Integer()
    rectified = Integer()
    dismissed = Integer()
    in_progress = Integer()
    overdue = Integer()


class KindOut(Schema):
    """A violation kind and its Chinese name."""

    kind = String()
    label = String()


class KindBucketOut(BucketOut, KindOut):
    """Counts of one violation kind."""


class SourceBucketOut(BucketOut):
    """Counts of one source."""

    source = String()
    label = String()


class DayOut(Schema):
    """One local day of the trend."""

    date = String()
    found = Integer()
    rectified = Integer()


class WeekOut(Schema):
    """One ISO week (Monday to Sunday, Asia/Shanghai) of the trend, clipped to the period."""

    week = String(metadata={"description": "ISO week, e.g. 2026-W49"})
    date_from = String(data_key="from", attribute="from")
    date_to = String(data_key="to", attribute="to")
    found = Integer()
    rectified = Integer()


class RatedBucketOut(BucketOut):
    """Counts of one slice and its rectification rate."""

    rectification_rate = Float(allow_none=True)


class SchoolRankOut(RatedBucketOut):
    """A school of the ranking."""

    school_id = Integer()
    name = String()


class CrumbOut(Schema):
    """A step of the way down to the scope."""

    type = String(metadata={"description": "region | school"})
    id = Integer()
    name = String()


class ChildOut(RatedBucketOut, CrumbOut):
    """A row of the drill-down: a child region or a school directly under the region."""

    level = String()


class CamerasOut(Schema):
    """Enabled cameras of the scope and how many are online now."""

    enabled = Integer()
    online = Integer()
    online_rate = Float(allow_none=True)


class RecordsTodayOut(Schema):
    """Today's record completeness of the scope's canteens (definition: backend/records/completeness.py)."""

    date = String()
    complete = Integer()
    total = Integer()
    percent = Integer(allow_none=True)


class StatsOut(BucketOut):
    """The figures (definitions: backend/violations/stats.py and overview.py)."""

    scope = Dict()
    period = Dict()
    rectification_rate = Float(allow_none=True)
    median_hours_to_rectify = Float(allow_none=True)
    by_kind = List(Nested(KindBucketOut))
    by_source = List(Nested(SourceBucketOut))
    daily = List(Nested(DayOut))
    weekly = List(Nested(WeekOut))
    by_school = List(Nested(SchoolRankOut))
    by_region = List(Nested(ChildOut))
    cameras = Nested(CamerasOut)
    records_today = Nested(RecordsTodayOut)
    breadcrumbs = List(Nested(CrumbOut))
    generated_at = String()


class PublicEventOut(Schema):
    """A step of a closed violation as parents see it (no names, no internal reasons)."""

    label = String()
    at = DateTime()


class PublicEvidenceOut(Schema):
    """Only the parent-safe frame (faces blurred)."""

    image = String(allow_none=True)


class TimelineItemOut(labelled("kind"), labelled("resolution")):
    """A closed violation on the parents' page."""

    id = Integer()
    title = String()
    found_at = DateTime()
    closed_at = DateTime()
    measures = String(allow_none=True)
    evidence = Nested(PublicEvidenceOut)
    events = List(Nested(PublicEventOut))


class TransparencyOut(brief("school", name_nullable=False)):
    """The parents' page of a school."""

    summary = Dict()
    published_kinds = List(Nested(KindOut))
    timeline = List(Nested(TimelineItemOut))
    parent_meals = Nested(TransparencyMealsOut)


class NoticeSettingsIn(Schema):
    """The violation kinds the school publishes to the parents' committee and parents."""

    published_kinds = List(String(validate=OneOf(KINDS)), required=True, validate=Length(max=len(KINDS)))


class NoticeSettingsOut(Schema):
    """A school's notice settings."""

    school_id = Integer()
    published_kinds = List(String())
    customised = Boolean()
    updated_at = DateTime(allow_none=True)


class ReportRectificationOut(Schema):
    """Where the latest rectification of a reported problem stands (measures only once accepted)."""

    state = String(metadata={"description": "none | submitted | accepted | rejected"})
    label = String()
    submitted_at = DateTime(allow_none=True)
    reviewed_at = DateTime(allow_none=True)
    measures = String(allow_none=True)


class MyReportOut(brief("school"), labelled("kind", label_nullable=True), labelled("status", label_nullable=True),
                  labelled("resolution", nullable=True)):
    """A problem the caller reported, and the violation it became (open: no resolution yet), as its reporter may
    see it."""

    id = Integer()
    violation_id = Integer()
    canteen_id = Integer()
    title = String()
    description = String(allow_none=True)
    photos = List(String())
    reported_at = DateTime()
    closed_at = DateTime(allow_none=True)
    rectification = Nested(ReportRectificationOut)
    events = List(Nested(PublicEventOut))
