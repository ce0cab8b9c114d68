"""Request and response schemas of live view, recordings and snapshots (times shown in Asia/Shanghai)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, File, Float, List, Nested
from apiflask.validators import Length

from backend.fields import Date, DateTime, Id, Integer, String
from backend.schemas_common import WindowSchema, brief
from backend.violations.schemas import KindOut


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


class SignedUrlFields(Schema):
    """A signed URL of a stored file (a segment, a clip, a snapshot) and when it stops working."""

    url = String()
    expires_at = DateTime()


class SegmentFields(Schema):
    """What every view of a recording segment shows: which, of which camera, the span it covers."""

    id = Integer()
    camera_id = Integer()
    started_at = DateTime()
    ended_at = DateTime()


class RecordingOut(SegmentFields):
    """A stored recording segment."""

    duration_seconds = Float()
    size_bytes = Integer()
    width = Integer(allow_none=True)
    height = Integer(allow_none=True)


class RecordingListOut(Schema):
    """Segments overlapping the asked range, oldest first."""

    start = DateTime()
    end = DateTime()
    recordings = List(Nested(RecordingOut))


class RecordingPlayOut(SegmentFields, SignedUrlFields):
    """A signed URL of one segment (MP4) and where to start playing it."""

    offset_seconds = Float(metadata={"description": "seconds into the file of the asked time (0: its start)"})


class PlaybackQuery(Schema):
    """A calendar day in Asia/Shanghai."""

    day = Date(required=True)


class SpanOut(Schema):
    """A span of time with no recording."""

    start = DateTime()
    end = DateTime()


class ViolationMarkOut(Schema):
    """A violation of the camera on the timeline."""

    id = Integer()
    kind = String()
    title = String()
    status = String()
    at = DateTime(metadata={"description": "when it occurred"})


class HealthMarkOut(Schema):
    """A change of the camera's health on the timeline."""

    at = DateTime()
    status = String(metadata={"description": "ok, offline, frozen, occluded, blurred, ..."})
    label = String()
    from_status = String()


class TimelineOut(brief("camera", name_nullable=False)):
    """One camera's day: recordings, the gaps between them (up to now), violation and health marks."""

    day = Date()
    start = DateTime()
    end = DateTime()
    recordings = List(Nested(RecordingOut))
    gaps = List(Nested(SpanOut))
    violations = List(Nested(ViolationMarkOut))
    health = List(Nested(HealthMarkOut))


class PlayAtIn(Schema):
    """Play from this instant."""

    at = DateTime(required=True)


class ClipIn(Schema):
    """A span to cut into one MP4 (at most 10 minutes; may cross segments)."""

    start = DateTime(required=True)
    end = DateTime(required=True)


class ClipOut(SignedUrlFields):
    """A clip cut and stored; ``url`` downloads it (signed, 10 minutes)."""

    camera_id = Integer()
    start = DateTime(metadata={"description": "the first recorded instant in the clip"})
    end = DateTime(metadata={"description": "the last recorded instant in the clip"})
    requested_start = DateTime()
    requested_end = DateTime()
    duration_seconds = Float()
    size_bytes = Integer()
    copied = Boolean(metadata={"description": "the video was copied (the span began on a keyframe), not re-encoded"})
    filename = String()


class SnapshotOut(SignedUrlFields):
    """A snapshot just taken."""

    camera_id = Integer()
    taken_at = DateTime()
    width = Integer()
    height = Integer()


class TreeNodeOut(Schema):
    """A node of the wall's tree: what it is called."""

    id = Integer()
    name = String()


class TreeCameraOut(TreeNodeOut):
    """A camera of the wall's tree; ``live`` false means offline (switched off, or nothing publishing)."""

    enabled = Boolean()
    live = Boolean()


class TreeAreaOut(TreeNodeOut):
    """A kitchen area and its cameras."""

    public = Boolean()
    cameras = List(Nested(TreeCameraOut))


# The levels above an area (a canteen and its areas, a school and its canteens, a region, the schools' own
# county, and its schools) are a node and the list of the level below.
TreeCanteenOut = TreeNodeOut.from_dict({"areas": List(Nested(TreeAreaOut))}, name="TreeCanteenOut")
TreeSchoolOut = TreeNodeOut.from_dict({"canteens": List(Nested(TreeCanteenOut))}, name="TreeSchoolOut")
TreeRegionOut = TreeNodeOut.from_dict({"schools": List(Nested(TreeSchoolOut))}, name="TreeRegionOut")


class CameraTreeOut(Schema):
    """The cameras the caller may watch at any time, region → school → canteen → area → camera."""

    regions = List(Nested(TreeRegionOut))


class TalkIn(Schema):
    """A push-to-talk recording from the browser (multipart field ``file``: WebM, Ogg or WAV, judged by content)."""

    file = File(required=True, metadata={"description": "at most 2 MB and 60 seconds of audio"})


class BroadcastIn(Schema):
    """A broadcast: a canned prompt (``kind``) or a text, to every camera of a canteen or of a school."""

    kind = String(metadata={"description": "a violation kind with a canned prompt (GET /live/talk-prompts)"})
    text = String(validate=Length(min=1, max=100), metadata={"description": "spoken by the speech synthesiser"})
    canteen_id = Id()
    school_id = Id()


class TalkResultOut(brief("camera", name_nullable=False)):
    """What one camera did with the talk."""

    status = String(metadata={"description": "delivered | refused"})
    reason = String(allow_none=True, metadata={
        "description": "backchannel_unsupported | camera_unreachable | camera_auth_failed | backchannel_failed"})
    message = String(allow_none=True)


class TalkOut(Schema):
    """A talk or broadcast as delivered (``id`` is its audit row)."""

    id = Integer()
    kind = String(metadata={"description": "talk | broadcast"})
    at = DateTime()
    seconds = Float()
    text = String(allow_none=True)
    delivered = Integer()
    refused = Integer()
    results = List(Nested(TalkResultOut))


class TalkPromptOut(KindOut):
    """A canned prompt of a violation kind: the kind, its name and what the kitchen hears."""

    text = String()


class TalkPromptsOut(Schema):
    """Every canned prompt."""

    prompts = List(Nested(TalkPromptOut))
