"""Schemas of the camera health routes (the desk's 摄像头 page)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested

from backend.fields import DateTime, Id, Integer
from backend.fields import String as Text


class CameraHealthQuery(Schema):
    """Filters of a camera health report."""

    school_id = Id(load_default=None)
    canteen_id = Id(load_default=None)


class DayUptimeOut(Schema):
    """A camera's uptime on one Asia/Shanghai day (null: nothing known that day)."""

    date = Text()
    uptime_percent = Float(allow_none=True)


class CameraHealthItemOut(Schema):
    """One camera: its health now, when it was last seen and its uptime over the window."""

    id = Integer()
    name = Text()
    enabled = Boolean()
    area_name = Text()
    canteen_id = Integer()
    canteen_name = Text()
    school_id = Integer()
    school_name = Text()
    status = Text(metadata={"description": "ok, offline, frozen, occluded, too_dark, too_bright, blurred, "
                                           "colour_cast or unknown (never reported)"})
    status_label = Text()
    online = Boolean()
    status_since = Text(allow_none=True)
    last_seen_at = Text(allow_none=True)
    uptime_percent = Float(allow_none=True, metadata={"description": "online / known time over the window"})
    online_seconds = Integer()
    known_seconds = Integer()
    days = List(Nested(DayUptimeOut))


class WindowOut(Schema):
    """The report's window: the last 7 local days, today up to now."""

    start = Text(data_key="from")
    end = Text(data_key="to")
    days = List(Text())


class OnlineRateOut(Schema):
    """Cameras online now over enabled cameras (the overview's camera online rate)."""

    online = Integer()
    enabled = Integer()
    percent = Float(allow_none=True)


class CameraHealthOut(Schema):
    """The camera health report of a school or a region, offline cameras first."""

    generated_at = Text()
    window = Nested(WindowOut)
    online_rate = Nested(OnlineRateOut)
    cameras = List(Nested(CameraHealthItemOut))


class ShareOut(Schema):
    """Reviewed alarms and the false positives among them (``share`` null before any verdict)."""

    verdicts = Integer()
    false_positives = Integer()
    share = Float(allow_none=True)


class TuningChangeOut(Schema):
    """One change of a kind's confidence threshold, and the false-alarm share before and after it."""

    id = Integer()
    setting = Text()
    old_value = Float()
    new_value = Float()
    reason = Text(metadata={"description": "false_alarms: raised because most reviewed alarms were false"})
    at = DateTime()
    reverted_at = DateTime(allow_none=True)
    reverted_by_id = Integer(allow_none=True)
    before = Nested(ShareOut, metadata={"description": "alarms raised from the previous change (or the start) to it"})
    after = Nested(ShareOut, metadata={"description": "alarms raised after it, until it was reverted or changed"})


class FalseAlarmItemOut(Schema):
    """One camera and kind: its verdicts, its threshold now and the changes of it."""

    camera_id = Integer()
    camera_name = Text()
    kind = Text()
    kind_label = Text(allow_none=True)
    all_time = Nested(ShareOut)
    since_last_change = Nested(ShareOut, metadata={"description": "what the next raise is judged on"})
    min_confidence = Float()
    default_min_confidence = Float()
    over_limit = Boolean()
    changes = List(Nested(TuningChangeOut), metadata={"description": "newest first"})


class FalseAlarmPolicyOut(Schema):
    """When a threshold rises (share ``limit`` of at least ``min_verdicts`` raised in the last ``window_days``), by
    ``step``, up to ``ceiling``."""

    limit = Float()
    min_verdicts = Integer()
    step = Float()
    ceiling = Float()
    window_days = Integer(metadata={"description": "only alarms raised in these last days are judged"})


class FalseAlarmsOut(Schema):
    """A school's cameras and kinds with reviewed alarms or threshold changes."""

    policy = Nested(FalseAlarmPolicyOut)
    items = List(Nested(FalseAlarmItemOut))


class RevertOut(Schema):
    """The reverted change."""

    change = Nested(TuningChangeOut)
