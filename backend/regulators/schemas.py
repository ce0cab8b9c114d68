"""Request and response schemas of spot checks, inspection rounds, findings and supervision orders."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow.fields import AwareDateTime

from backend.regulators.models import Severity
from backend.schools.models import SchoolKind
from backend.timeutil import SHANGHAI
from backend.violations.schemas import KINDS, PHOTO_KEY, LocalDateTime, PhotoIn


def _when(**kwargs: object) -> AwareDateTime:
    # A time without an offset is read as Asia/Shanghai, as people in the region write it.
    return AwareDateTime(default_timezone=SHANGHAI, **kwargs)


class SpotCheckIn(Schema):
    """Draw ``size`` canteens of the region at random (give ``seed`` to reproduce an earlier draw)."""

    size = Integer(required=True, validate=Range(1, 500))
    seed = String(load_default=None, validate=Length(1, 64))
    school_kind = String(load_default=None, validate=OneOf([k.value for k in SchoolKind]))
    note = String(load_default=None, validate=Length(max=200))


class CanteenNameOut(Schema):
    """A canteen with its name and its school's."""

    canteen_id = Integer()
    canteen_name = String(allow_none=True)
    school_id = Integer(allow_none=True)
    school_name = String(allow_none=True)


class SpotCheckOut(Schema):
    """A spot check: its seed, the population it drew from and the sample (named)."""

    id = Integer()
    region_id = Integer()
    region_name = String(allow_none=True)
    seed = String()
    sample_size = Integer()
    school_kind = String(allow_none=True)
    population_ids = List(Integer())
    canteen_ids = List(Integer())
    canteens = List(Nested(CanteenNameOut))
    note = String(allow_none=True)
    created_by_id = Integer()
    created_by_name = String(allow_none=True)
    created_at = LocalDateTime()


class RoundIn(Schema):
    """A joint inspection: inspectors (with the creator, at least two) and the canteens to visit."""

    title = String(required=True, validate=Length(2, 100))
    planned_at = _when(required=True)
    inspector_ids = List(Integer(validate=Range(min=1)), required=True, validate=Length(1, 20))
    canteen_ids = List(Integer(validate=Range(min=1)), load_default=list, validate=Length(max=500))
    spot_check_id = Integer(load_default=None, validate=Range(min=1))


class InspectorOut(Schema):
    """An inspector of a round."""

    user_id = Integer()
    name = String(allow_none=True)
    lead = Boolean()


class TargetOut(CanteenNameOut):
    """A canteen of a round."""

    result = String(allow_none=True)
    visited_at = LocalDateTime(allow_none=True)


class FindingIn(Schema):
    """What was found in one canteen; ``open_violation`` opens a violation the school must rectify."""

    canteen_id = Integer(required=True, validate=Range(min=1))
    description = String(required=True, validate=Length(5, 1000))
    severity = String(required=True, validate=OneOf([s.value for s in Severity]))
    kind = String(load_default=None, validate=OneOf(KINDS))
    photos = List(PHOTO_KEY, load_default=list, validate=Length(max=9))
    open_violation = Boolean(load_default=True)


class FindingOut(CanteenNameOut):
    """A finding (with signed URLs of its photos) and the violation it opened."""

    id = Integer()
    round_id = Integer()
    inspector_id = Integer()
    inspector_name = String(allow_none=True)
    kind = String()
    severity = String()
    description = String()
    photos = List(String())
    violation_id = Integer(allow_none=True)
    created_at = LocalDateTime()


class VisitOut(TargetOut):
    """A canteen just marked visited (its own component: TargetOut is also nested in RoundOut)."""


class FindingCreatedOut(FindingOut):
    """A finding just recorded (its own component: FindingOut is also nested in RoundOut)."""


class RoundOut(Schema):
    """An inspection round with inspectors, canteens and findings."""

    id = Integer()
    region_id = Integer()
    region_name = String(allow_none=True)
    spot_check_id = Integer(allow_none=True)
    title = String()
    planned_at = LocalDateTime()
    status = String()
    summary = String(allow_none=True)
    created_by_id = Integer()
    created_by_name = String(allow_none=True)
    created_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)
    inspectors = List(Nested(InspectorOut))
    targets = List(Nested(TargetOut))
    findings = List(Nested(FindingOut))


class VisitIn(Schema):
    """A canteen visited, with its overall result."""

    canteen_id = Integer(required=True, validate=Range(min=1))
    result = String(required=True, validate=OneOf(["pass", "issues"]))


class CompleteIn(Schema):
    """The round's conclusion."""

    summary = String(load_default=None, validate=Length(max=2000))


class OrderIn(Schema):
    """A supervision order to a school."""

    title = String(required=True, validate=Length(2, 100))
    content = String(required=True, validate=Length(5, 5000))
    due_at = _when(required=True)
    violation_ids = List(Integer(validate=Range(min=1)), load_default=list, validate=Length(max=100))


class RespondIn(Schema):
    """The school's answer."""

    response = String(required=True, validate=Length(5, 5000))


class CloseIn(Schema):
    """Why the regulator closes the order."""

    reason = String(load_default=None, validate=Length(max=500))


class OrderOut(Schema):
    """A supervision order."""

    id = Integer()
    school_id = Integer()
    school_name = String(allow_none=True)
    title = String()
    content = String()
    violation_ids = List(Integer())
    due_at = LocalDateTime()
    status = String()
    issued_by_id = Integer()
    issued_by_name = String(allow_none=True)
    issued_at = LocalDateTime()
    response = String(allow_none=True)
    responded_by_id = Integer(allow_none=True)
    responded_by_name = String(allow_none=True)
    responded_at = LocalDateTime(allow_none=True)
    closed_by_id = Integer(allow_none=True)
    closed_by_name = String(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    close_reason = String(allow_none=True)


class FindingPhotoIn(PhotoIn):
    """A photo for a finding in one of the round's canteens (multipart: ``file`` and ``canteen_id``)."""

    canteen_id = Integer(required=True, validate=Range(min=1))


class InspectorChoiceOut(Schema):
    """A regulator who may join a joint inspection in the region, and the region their authority comes from."""

    user_id = Integer()
    name = String(allow_none=True)
    scope_region_id = Integer()
    scope_region_name = String()
