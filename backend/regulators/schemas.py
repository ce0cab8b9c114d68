"""Request and response schemas of spot checks, inspection rounds, findings and supervision orders."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, List, Nested
from apiflask.validators import Length, OneOf, Range

from backend.fields import DateTime, Id, Integer, String
from backend.regulators.models import Severity
from backend.schemas_common import brief, labelled, signed
from backend.schools.models import SchoolKind
from backend.violations.schemas import KINDS, PHOTO_KEY, PhotoIn


class SpotCheckIn(Schema):
    """Draw ``size`` canteens of the region at random (give ``seed`` to reproduce an earlier draw)."""

    size = Integer(required=True, validate=Range(1, 500))
    seed = String(load_default=None, validate=Length(1, 64))
    school_kind = String(load_default=None, validate=OneOf([k.value for k in SchoolKind]))
    note = String(load_default=None, validate=Length(max=200))


class CanteenNameOut(brief("canteen"), brief("school", id_nullable=True)):
    """A canteen with its name and its school's."""


class RegionWorkOut(brief("region"), signed("created_by", "created_at")):
    """What a spot check and an inspection round both show: their region and who created them, when."""

    id = Integer()


class SpotCheckOut(RegionWorkOut):
    """A spot check: its seed, the population it drew from and the sample (named)."""

    seed = String()
    sample_size = Integer()
    school_kind = String(allow_none=True)
    population_ids = List(Integer())
    canteen_ids = List(Integer())
    canteens = List(Nested(CanteenNameOut))
    note = String(allow_none=True)


class RoundIn(Schema):
    """A joint inspection: inspectors (with the creator, at least two) and the canteens to visit."""

    title = String(required=True, validate=Length(2, 100))
    planned_at = DateTime(required=True)
    inspector_ids = List(Id(), required=True, validate=Length(1, 20))
    canteen_ids = List(Id(), load_default=list, validate=Length(max=500))
    spot_check_id = Id(load_default=None)


class InspectorOut(Schema):
    """An inspector of a round."""

    user_id = Integer()
    name = String(allow_none=True)
    lead = Boolean()


class TargetOut(CanteenNameOut):
    """A canteen of a round."""

    result = String(allow_none=True)
    visited_at = DateTime(allow_none=True)


class FindingFieldsIn(Schema):
    """What every regulator's finding says (an inspection's, a patrol's); ``open_violation`` opens a violation the
    school must rectify."""

    description = String(required=True, validate=Length(5, 1000), multiline=True)
    severity = String(required=True, validate=OneOf([s.value for s in Severity]))
    kind = String(load_default=None, validate=OneOf(KINDS))
    open_violation = Boolean(load_default=True)


class FindingIn(FindingFieldsIn):
    """What was found in one canteen, with photos uploaded first."""

    canteen_id = Id(required=True)
    photos = List(PHOTO_KEY, load_default=list, validate=Length(max=9))


class FindingFieldsOut(CanteenNameOut, signed("inspector", "created_at")):
    """What every regulator's finding says (an inspection's, a patrol's): where, who, what, the violation opened."""

    id = Integer()
    kind = String()
    severity = String()
    description = String()
    violation_id = Integer(allow_none=True)


class FindingOut(FindingFieldsOut):
    """A finding of an inspection round (with signed URLs of its photos) and the violation it opened."""

    round_id = Integer()
    photos = List(String())


class VisitOut(TargetOut):
    """A canteen just marked visited (its own component: TargetOut is also nested in RoundOut)."""


class FindingCreatedOut(FindingOut):
    """A finding just recorded (its own component: FindingOut is also nested in RoundOut)."""


class RoundFieldsOut(RegionWorkOut):
    """What an inspection round and a patrol round both show: their region, who created them and when, the title,
    where the round stands and its conclusion (null until it ends)."""

    title = String()
    status = String()
    summary = String(allow_none=True)


class RoundOut(RoundFieldsOut):
    """An inspection round with inspectors, canteens and findings."""

    spot_check_id = Integer(allow_none=True)
    planned_at = DateTime()
    completed_at = DateTime(allow_none=True)
    inspectors = List(Nested(InspectorOut))
    targets = List(Nested(TargetOut))
    findings = List(Nested(FindingOut))


class VisitIn(Schema):
    """A canteen visited, with its overall result."""

    canteen_id = Id(required=True)
    result = String(required=True, validate=OneOf(["pass", "issues"]))


class CompleteIn(Schema):
    """The round's conclusion."""

    summary = String(load_default=None, validate=Length(max=2000), multiline=True)


class OrderIn(Schema):
    """A supervision order to a school."""

    title = String(required=True, validate=Length(2, 100))
    content = String(required=True, validate=Length(5, 5000), multiline=True)
    due_at = DateTime(required=True)
    violation_ids = List(Id(), load_default=list, validate=Length(max=100))


class RespondIn(Schema):
    """The school's answer."""

    response = String(required=True, validate=Length(5, 5000), multiline=True)


class CloseIn(Schema):
    """Why the regulator closes the order."""

    reason = String(load_default=None, validate=Length(max=500), multiline=True)


class OrderViolationOut(labelled("status")):
    """A problem an order names: enough to list it and open it."""

    id = Integer()
    title = String()


class OrderOut(brief("school"), signed("issued_by", "issued_at"), signed("responded_by", "responded_at", pending=True),
               signed("closed_by", "closed_at", pending=True), labelled("status")):
    """A supervision order: issued by a regulator, answered by the school, closed by a regulator."""

    id = Integer()
    title = String()
    content = String()
    violation_ids = List(Integer())
    violations = List(Nested(OrderViolationOut), metadata={"description": "the problems of violation_ids, in order"})
    due_at = DateTime()
    response = String(allow_none=True)
    close_reason = String(allow_none=True)


class FindingPhotoIn(PhotoIn):
    """A photo for a finding in one of the round's canteens (multipart: ``file`` and ``canteen_id``)."""

    canteen_id = Integer(required=True, validate=Range(min=1))


class InspectorChoiceOut(brief("scope_region", name_nullable=False)):
    """A regulator who may join a joint inspection in the region, and the region their authority comes from."""

    user_id = Integer()
    name = String(allow_none=True)
