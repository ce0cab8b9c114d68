"""Request and output schemas of seals (封存, ``records/sealing.py``) and of the keeping-time report
(``records/retention.py``)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, List, Nested
from apiflask.validators import Length, OneOf, Range

from backend.fields import Date, Id, Integer, String
from backend.records.models import SealTarget
from backend.records.schemas import RecordEnvelopeOut

SEAL_TARGETS = [t.value for t in SealTarget]


class SealIn(Schema):
    """What to seal and why: a received batch (``item``: the item's id), a retained sample (``sample``: the
    sample record's id) or a kitchen area (``area``: the area's id)."""

    target = String(required=True, validate=OneOf(SEAL_TARGETS), metadata={"description": "item, sample or area"})
    target_id = Id(required=True)
    reason = String(required=True, validate=Length(2, 500), multiline=True)


class SealReleaseIn(Schema):
    """Why the seal is released."""

    reason = String(required=True, validate=Length(2, 500), multiline=True)


class SealQuery(Schema):
    """Which of the canteen's seals to list."""

    status = String(load_default="all", validate=OneOf(["all", "in_force", "released"]))
    target = String(load_default=None, validate=OneOf(SEAL_TARGETS))
    limit = Integer(load_default=100, validate=Range(1, 500))


class SealActOut(Schema):
    """Why a seal was made or released, and on whose authority (``permissions.seal_authority``)."""

    reason = String(required=True)
    authority = String(required=True, metadata={"description": "regulator, principal or admin"})
    authority_label = String(required=True)


class SealReleaseOut(SealActOut):
    """A seal's release."""

    release_id = Integer(required=True)
    released_at = String(required=True)
    released_by_id = Integer(required=True, allow_none=True)


class SealOut(RecordEnvelopeOut, SealActOut):
    """A seal (a record of the canteen's chain), whether it is in force, and its release."""

    target = String(required=True, metadata={"description": "item, sample or area"})
    target_label = String(required=True)
    item_id = Integer(required=True, allow_none=True)
    sample_id = Integer(required=True, allow_none=True)
    area_id = Integer(required=True, allow_none=True)
    target_name = String(required=True)
    sealed_at = String(required=True)
    in_force = Boolean(required=True)
    release = Nested(SealReleaseOut, required=True, allow_none=True)


class SealListOut(Schema):
    """The canteen's seals, newest first."""

    canteen_id = Integer(required=True)
    items = List(Nested(SealOut), required=True)


class RemovableQuery(Schema):
    """The day to judge on (default today) and a page of the list."""

    on = Date(load_default=None)
    limit = Integer(load_default=100, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 1_000_000))


class RetentionRuleOut(Schema):
    """How long a kind of record is kept."""

    kind = String(required=True)
    kind_label = String(required=True)
    rule = String(required=True)


class RemovableOut(RetentionRuleOut):
    """A record past the keeping time of its kind's rule."""

    record_id = Integer(required=True)
    version_id = Integer(required=True)
    record_date = String(required=True)
    kept_until = String(required=True, metadata={"description": "the last day the record had to be kept"})
    removable_on = String(required=True, metadata={"description": "the day it became removable"})


class RemovableListOut(Schema):
    """The canteen's records past their keeping time (reported, never deleted)."""

    school_id = Integer(required=True)
    canteen_id = Integer(required=True)
    canteen_name = String(required=True)
    on = String(required=True)
    generated_at = String(required=True)
    total = Integer(required=True)
    items = List(Nested(RemovableOut), required=True)
    rules = List(Nested(RetentionRuleOut), required=True)
