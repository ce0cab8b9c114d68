"""Who may watch which camera, and when.

Parents and committee members watch cameras in public areas only, and only inside the canteen's live
windows (Asia/Shanghai). Managers, staff, principals, regulators of the school's region and platform admins
watch any camera of the school at any time, and the viewer cap never refuses them: an inspection is not
turned away because parents filled the seats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.errors import ApiError, forbidden
from backend.permissions import Principal, Viewer, live_viewer
from backend.schools.models import Camera, Canteen, School
from backend.timeutil import shanghai_iso, to_shanghai
from backend.timewindows import WindowState, parse_windows, window_state

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def live_window_state(canteen: Canteen, now: datetime) -> WindowState:
    """The canteen's live windows at ``now``; a malformed stored window opens nothing."""
    return window_state(parse_windows(canteen.live_windows, skip_invalid=True), now)


def describe_opening(moment: datetime) -> str:
    """A Chinese description of an opening time, e.g. ``11月23日（周一）06:30``."""
    local = to_shanghai(moment)
    return f"{local.month}月{local.day}日（{WEEKDAY_NAMES[local.weekday()]}）{local:%H:%M}"


@dataclass(frozen=True)
class PlayDecision:
    """A permitted play: who watches in which capacity, and (for parents) until when."""

    viewer: Viewer
    school: School
    window: WindowState | None


def check_play(principal: Principal, camera: Camera, now: datetime) -> PlayDecision:
    """Decide whether ``principal`` may watch ``camera`` at ``now``; raise the ApiError a user should read."""
    area = camera.area
    canteen = area.canteen
    school = canteen.school
    viewer = live_viewer(principal, school)
    if viewer is None:
        raise forbidden("无权观看该学校的直播")
    if not camera.enabled:
        raise ApiError(409, "camera_disabled", "该摄像头已停用")
    if viewer.privileged:
        return PlayDecision(viewer, school, None)
    if not area.public:
        raise ApiError(403, "live_area_not_public", "该区域不对家长开放直播")
    if not canteen.live_windows:
        raise ApiError(403, "live_not_scheduled", "食堂尚未设置直播开放时间")
    state = live_window_state(canteen, now)
    if not state.open:
        details: dict[str, Any] = {"timezone": "Asia/Shanghai"}
        message = "当前不在直播开放时间"
        if state.next_open_at is not None:
            details["next_open_at"] = shanghai_iso(state.next_open_at)
            message += f"，下次开放时间：{describe_opening(state.next_open_at)}"
        raise ApiError(403, "live_window_closed", message, details)
    return PlayDecision(viewer, school, state)
