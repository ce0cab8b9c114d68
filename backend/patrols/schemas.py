"""Request and response schemas of online patrol rounds (times shown in Asia/Shanghai)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import List, Nested
from apiflask.validators import Length

from backend.fields import DateTime, Id, Integer, String
from backend.live.schemas import TreeCameraOut
from backend.regulators.schemas import CanteenNameOut, CompleteIn, FindingFieldsIn, FindingFieldsOut, RoundFieldsOut
from backend.schemas_common import brief


class PatrolIn(Schema):
    """Start a patrol over chosen canteens of the region; without ``canteen_ids``, every canteen of it."""

    title = String(load_default=None, validate=Length(2, 100))
    canteen_ids = List(Id(), load_default=list, validate=Length(max=500))


class WatchingIn(Schema):
    """The cameras the wall shows now (an empty list: none)."""

    camera_ids = List(Id(), required=True, validate=Length(max=16))


class PatrolFindingIn(FindingFieldsIn):
    """What the regulator sees on a camera; a snapshot of it now becomes the evidence. With ``inspection_id`` the
    finding is filed in that inspection round instead."""

    camera_id = Id(required=True)
    inspection_id = Id(load_default=None)


class PatrolEndIn(CompleteIn):
    """The patrol round's conclusion (as an inspection round's)."""


class PatrolCameraOut(TreeCameraOut, brief("canteen", name_nullable=False)):
    """A camera the round walks through, with where it is."""

    area_name = String()
    school_name = String()


class PatrolViewOut(brief("camera")):
    """A camera on the wall from ``started_at`` to ``ended_at`` (null while still on screen)."""

    id = Integer()
    canteen_id = Integer()
    started_at = DateTime()
    ended_at = DateTime(allow_none=True)


class PatrolFindingOut(FindingFieldsOut, brief("camera")):
    """A patrol's finding with a signed URL of its snapshot and what it opened."""

    patrol_id = Integer()
    snapshot_url = String()
    inspection_finding_id = Integer(allow_none=True)


class PatrolSummaryOut(RoundFieldsOut):
    """A patrol round as the list shows it (``created_at`` is when it started)."""

    started_at = DateTime()
    ended_at = DateTime(allow_none=True)
    canteens = List(Nested(CanteenNameOut))
    view_count = Integer()
    finding_count = Integer()


class PatrolOut(PatrolSummaryOut):
    """A patrol round with its record: the cameras it walks, what was watched when, and the findings."""

    cameras = List(Nested(PatrolCameraOut))
    views = List(Nested(PatrolViewOut))
    findings = List(Nested(PatrolFindingOut))


class PatrolFindingCreatedOut(PatrolFindingOut):
    """A finding just filed (its own component: PatrolFindingOut is also nested in PatrolOut)."""


class WatchingOut(Schema):
    """The views open now."""

    views = List(Nested(PatrolViewOut))
