"""Schemas of the camera health routes (the desk's 摄像头 page)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested

from backend.fields import Id, Integer
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
