"""Who may watch which camera, and when.

Parents and committee members watch cameras in public areas only, and only inside the canteen's live
windows (Asia/Shanghai). Managers, staff, principals, regulators of the school's region and platform admins
watch any camera of the school at any time, and the viewer cap never refuses them: an inspection is not
turned away because parents filled the seats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backend.accounts.models import Role
from backend.errors import ApiError
from backend.permissions import Principal
from backend.schools.models import Camera, School
from backend.timeutil import SHANGHAI, shanghai_iso, to_shanghai

PRIVILEGED_ROLES = (Role.PRINCIPAL, Role.STAFF, Role.MANAGER)
RESTRICTED_ROLES = (Role.COMMITTEE, Role.PARENT)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# The HH:MM validator cannot say 24:00, so a window ending 23:59 runs to midnight: "00:00–23:59" is all day.
END_OF_DAY = "23:59"
HORIZON_DAYS = 8


@dataclass(frozen=True)
class WindowState:
    """Whether the live windows are open at an instant, until when, or when they open next."""

    open: bool
    closes_at: datetime | None = None
    next_open_at: datetime | None = None


def _clock(value: str) -> time | None:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except (AttributeError, ValueError):
        return None


def _intervals(windows: Iterable[dict[str, Any]], first: date, days: int) -> list[tuple[datetime, datetime]]:
    """Concrete Shanghai intervals of the weekly windows over ``days`` days from ``first``, merged."""
    spans: list[tuple[datetime, datetime]] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        for window in windows:
            if not isinstance(window, dict) or window.get("weekday") != day.weekday():
                continue
            start, end = _clock(window.get("start", "")), _clock(window.get("end", ""))
            if start is None or end is None:
                continue  # a malformed stored window opens nothing
            begin = datetime.combine(day, start, SHANGHAI)
            finish = (datetime.combine(day + timedelta(days=1), time(0), SHANGHAI) if window.get("end") == END_OF_DAY
                      else datetime.combine(day, end, SHANGHAI))
            if finish > begin:
                spans.append((begin, finish))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def window_state(windows: Iterable[dict[str, Any]], now: datetime) -> WindowState:
    """Evaluate weekly windows (``{"weekday": 0-6, "start": "HH:MM", "end": "HH:MM"}``, Monday = 0) at ``now``."""
    local = to_shanghai(now)
    intervals = _intervals(list(windows or []), local.date() - timedelta(days=1), HORIZON_DAYS + 1)
    for begin, finish in intervals:
        if begin <= local < finish:
            return WindowState(open=True, closes_at=finish)
        if begin > local:
            return WindowState(open=False, next_open_at=begin)
    return WindowState(open=False)


def describe_opening(moment: datetime) -> str:
    """A Chinese description of an opening time, e.g. ``11月23日（周一）06:30``."""
    local = to_shanghai(moment)
    return f"{local.month}月{local.day}日（{WEEKDAY_NAMES[local.weekday()]}）{local:%H:%M}"


@dataclass(frozen=True)
class Viewer:
    """How a principal relates to a camera's school for live viewing."""

    role: str
    privileged: bool


def classify_viewer(principal: Principal, school: School) -> Viewer | None:
    """The strongest capacity in which the principal may watch this school, or None."""
    if principal.is_admin:
        return Viewer("admin", True)
    roles = principal.roles_in(school.id)
    for role in PRIVILEGED_ROLES:
        if role in roles:
            return Viewer(role.value, True)
    if principal.regulates(school.region.path):
        return Viewer("regulator", True)
    for role in RESTRICTED_ROLES:
        if role in roles:
            return Viewer(role.value, False)
    return None


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
    viewer = classify_viewer(principal, school)
    if viewer is None:
        raise ApiError(403, "forbidden", "无权观看该学校的直播")
    if not camera.enabled:
        raise ApiError(409, "camera_disabled", "该摄像头已停用")
    if viewer.privileged:
        return PlayDecision(viewer, school, None)
    if not area.public:
        raise ApiError(403, "live_area_not_public", "该区域不对家长开放直播")
    windows = canteen.live_windows or []
    if not windows:
        raise ApiError(403, "live_not_scheduled", "食堂尚未设置直播开放时间")
    state = window_state(windows, now)
    if not state.open:
        details: dict[str, Any] = {"timezone": "Asia/Shanghai"}
        message = "当前不在直播开放时间"
        if state.next_open_at is not None:
            details["next_open_at"] = shanghai_iso(state.next_open_at)
            message += f"，下次开放时间：{describe_opening(state.next_open_at)}"
        raise ApiError(403, "live_window_closed", message, details)
    return PlayDecision(viewer, school, state)
