"""Request and response schemas of the schools feature."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested
from apiflask.validators import Length, OneOf, Range

from backend.fields import DateTime, Id, Integer, String
from backend.schemas_common import MealWindowSchema, TrimmedString, WindowSchema, patch_schema
from backend.schools.models import AreaKind, SchoolKind, SourceKind

DETECTION_CHECKS = ["no_mask", "no_hat", "no_uniform", "smoking", "phone", "rodent", "person_after_hours",
                    "camera_offline", "camera_blurred", "camera_occluded"]


class RegionOut(Schema):
    """A region without its children."""

    id = Integer()
    code = String()
    name = String()
    level = String()


class RegionNodeOut(RegionOut):
    """A region with the regions under it."""

    children = List(Nested(lambda: RegionNodeOut()), required=True)


class RegionTreeOut(Schema):
    """The region tree: provinces, their cities, their counties."""

    regions = List(Nested(RegionNodeOut), required=True)


class SchoolOut(Schema):
    """A school as members see it."""

    id = Integer()
    name = String()
    kind = String()
    address = String(allow_none=True)
    region = Nested(RegionOut)


class SchoolIn(Schema):
    """Register a school (admin)."""

    region_code = String(required=True, validate=Length(1, 12))
    name = String(required=True, validate=Length(1, 100))
    kind = String(required=True, validate=OneOf([k.value for k in SchoolKind]))
    address = String(load_default=None, validate=Length(max=200))


SchoolPatch = patch_schema("SchoolPatch", "Change a school.", SchoolIn, ["name", "address"], nullable=["address"])


class CanteenIn(Schema):
    """Create a canteen."""

    name = String(required=True, validate=Length(1, 100))
    meal_windows = List(Nested(MealWindowSchema), load_default=list)
    live_windows = List(Nested(WindowSchema), load_default=list)


CanteenPatch = patch_schema("CanteenPatch", "Change a canteen.", CanteenIn, ["name", "meal_windows", "live_windows"])


class CanteenOut(Schema):
    """A canteen with its windows (Asia/Shanghai)."""

    id = Integer()
    school_id = Integer()
    name = String()
    meal_windows = List(Nested(MealWindowSchema))
    live_windows = List(Nested(WindowSchema))


class AreaIn(Schema):
    """Create a kitchen area."""

    name = String(required=True, validate=Length(1, 100))
    kind = String(required=True, validate=OneOf([k.value for k in AreaKind]))
    public = Boolean(load_default=False)


AreaPatch = patch_schema("AreaPatch", "Change a kitchen area.", AreaIn, ["name", "kind", "public"])


class AreaOut(Schema):
    """A kitchen area."""

    id = Integer()
    canteen_id = Integer()
    name = String()
    kind = String()
    public = Boolean()


class CameraIn(Schema):
    """Create a camera. The source and credentials are write-only."""

    name = String(required=True, validate=Length(1, 100))
    source_kind = String(required=True, validate=OneOf([k.value for k in SourceKind]))
    # Single-line text (backend/fields.py): a line break would end the one line ffmpeg's input script gives the
    # source (backend/live/sources.py). Spaces stay allowed: a demo file's path may have them.
    source_url = String(load_default="", validate=Length(max=1000), load_only=True, metadata={
        "description": "required but for ``push`` (the camera pushes to the platform's media server)"})
    source_username = String(load_default=None, validate=Length(max=200), load_only=True)
    source_password = String(load_default=None, validate=Length(max=200), load_only=True)
    sampling_interval_seconds = Integer(load_default=5, validate=Range(1, 3600))
    work_hours = List(Nested(WindowSchema), load_default=list)
    enabled_checks = List(String(validate=OneOf(DETECTION_CHECKS)), load_default=list)
    regions_of_interest = List(List(List(Float(validate=Range(0, 1)), validate=Length(2, 2))), load_default=list)
    enabled = Boolean(load_default=True)


CameraPatch = patch_schema(
    "CameraPatch", "Change a camera.", CameraIn,
    ["name", "source_kind", "source_url", "source_username", "source_password", "sampling_interval_seconds",
     "work_hours", "enabled_checks", "regions_of_interest", "enabled"],
    nullable=["source_username", "source_password"], area_id=Id())


class CameraOut(Schema):
    """A camera as clients see it: never its source URL or credentials."""

    id = Integer()
    area_id = Integer()
    name = String()
    source_kind = String()
    sampling_interval_seconds = Integer()
    work_hours = List(Nested(WindowSchema))
    enabled_checks = List(String())
    enabled = Boolean()
    created_at = DateTime()
    # Whether the write-only secrets are set: clients show "已设置", never the values.
    source_url_set = Boolean(attribute="source_url_set")
    credentials_set = Boolean(attribute="credentials_set")


class SchoolClassIn(Schema):
    """Add a class to the school's list."""

    name = TrimmedString(required=True, validate=Length(1, 64))
    position = Integer(load_default=None, validate=Range(0, 10000))


SchoolClassPatch = patch_schema("SchoolClassPatch", "Rename or move a class.", SchoolClassIn, ["name", "position"])


class SchoolClassOut(Schema):
    """A class of the school, as pickers list it."""

    id = Integer()
    school_id = Integer()
    name = String()
    position = Integer()
