"""Request and response schemas of live view, recordings and snapshots (times shown in Asia/Shanghai)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested

from backend.fields import DateTime, Integer, String
from backend.schemas_common import WindowSchema


class PlayOut(Schema):
    """Signed play URLs of one camera; each token opens one view session and must be used before it expires."""

    camera_id = Integer()
    rtmp_url = String(metadata={"description": "for <live-player>"})
    hls_url = String(metadata={"description": "for <video>"})
    expires_at = DateTime(metadata={"description": "start playing before this time"})
    viewer = String(metadata={"description": "parent | committee | manager | staff | principal | regulator | admin"})
    window_closes_at = DateTime(allow_none=True,
                                metadata={"description": "parents: when the live window closes"})


class LobbyCameraOut(Schema):
    """A camera as the live lobby shows it."""

    id = Integer()
    name = String()
    area_id = Integer()
    area_name = String()
    area_public = Boolean()
    enabled = Boolean()
    live = Boolean()


class LobbyOut(Schema):
    """What a canteen's live page needs."""

    canteen_id = Integer()
    any_time = Boolean(metadata={"description": "the caller may watch outside the live windows"})
    open_now = Boolean()
    window_closes_at = DateTime(allow_none=True)
    next_open_at = DateTime(allow_none=True)
    live_windows = List(Nested(WindowSchema))
    cameras = List(Nested(LobbyCameraOut))


class PublishKeyOut(Schema):
    """A new publish key; shown once, only its hash is kept."""

    camera_id = Integer()
    stream = String()
    publish_key = String()
    publish_url = String()
    created_at = DateTime()


class RecordingQuery(Schema):
    """A time range; without one, the last 24 hours. Times without an offset are Asia/Shanghai."""

    start = DateTime(load_default=None)
    end = DateTime(load_default=None)


class RecordingOut(Schema):
    """A stored recording segment."""

    id = Integer()
    camera_id = Integer()
    started_at = DateTime()
    ended_at = DateTime()
    duration_seconds = Float()
    size_bytes = Integer()
    width = Integer(allow_none=True)
    height = Integer(allow_none=True)


class RecordingListOut(Schema):
    """Segments overlapping the asked range, oldest first."""

    start = DateTime()
    end = DateTime()
    recordings = List(Nested(RecordingOut))


class RecordingPlayOut(Schema):
    """A signed URL of one segment (MP4)."""

    id = Integer()
    camera_id = Integer()
    url = String()
    expires_at = DateTime()
    started_at = DateTime()
    ended_at = DateTime()


class SnapshotOut(Schema):
    """A snapshot just taken."""

    camera_id = Integer()
    taken_at = DateTime()
    width = Integer()
    height = Integer()
    url = String()
    expires_at = DateTime()


class TreeCameraOut(Schema):
    """A camera of the wall's tree; ``live`` false means offline (switched off, or nothing publishing)."""

    id = Integer()
    name = String()
    enabled = Boolean()
    live = Boolean()


class TreeAreaOut(Schema):
    """A kitchen area and its cameras."""

    id = Integer()
    name = String()
    public = Boolean()
    cameras = List(Nested(TreeCameraOut))


class TreeCanteenOut(Schema):
    """A canteen and its areas."""

    id = Integer()
    name = String()
    areas = List(Nested(TreeAreaOut))


class TreeSchoolOut(Schema):
    """A school and its canteens."""

    id = Integer()
    name = String()
    canteens = List(Nested(TreeCanteenOut))


class TreeRegionOut(Schema):
    """A region (the schools' own county) and its schools."""

    id = Integer()
    name = String()
    schools = List(Nested(TreeSchoolOut))


class CameraTreeOut(Schema):
    """The cameras the caller may watch at any time, region → school → canteen → area → camera."""

    regions = List(Nested(TreeRegionOut))
