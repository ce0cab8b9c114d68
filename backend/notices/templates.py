"""The subscribe-message templates the platform sends, and how a notice's payload becomes their keywords.

The keyword layout of each template must match the template chosen in the WeChat console (公共模板库);
the template ids come from the ``WECHAT_SUBSCRIBE_TEMPLATES`` setting, e.g.
``violation=AbC...,progress=DeF...,escalation=GhI...,supervision=JkL...,binding=MnO...,
unreported=PqR...,warning=StU...``. A purpose without an id
is delivered to the in-app inbox only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.notices import fields

# Development and test ids (well-formed, so the local WeChat fake accepts them).
DEV_TEMPLATE_IDS = {
    "violation": "dev-tmpl-violation-notice",
    "progress": "dev-tmpl-rectification-progress",
    "escalation": "dev-tmpl-overdue-escalation",
    "supervision": "dev-tmpl-supervision-order",
    "binding": "dev-tmpl-binding-review",
    "unreported": "dev-tmpl-records-unreported",
    "warning": "dev-tmpl-risk-warnings",
    "seal": "dev-tmpl-seal-notice",
}


def _as_time(value: Any) -> str:
    return fields.time_value(datetime.fromisoformat(value))


@dataclass(frozen=True)
class Keyword:
    """One keyword of a template: its key (kind + number), the payload entry it shows, and the formatter."""

    key: str
    source: str
    label: str
    format: Callable[[Any], str]


@dataclass(frozen=True)
class Template:
    """A subscribe-message template: the purpose it serves, its title in the console and its keywords."""

    name: str
    title: str
    keywords: tuple[Keyword, ...]

    def build(self, payload: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """The ``data`` of ``subscribeMessage.send`` for a payload; every value within its kind's rule."""
        return {kw.key: {"value": kw.format(payload.get(kw.source))} for kw in self.keywords}


TEMPLATES: dict[str, Template] = {
    "violation": Template("violation", "食品安全问题提醒", (
        Keyword("thing1", "school", "学校", fields.thing),
        Keyword("thing2", "problem", "问题", fields.thing),
        Keyword("thing3", "location", "地点", fields.thing),
        Keyword("time4", "occurred_at", "发生时间", _as_time),
        Keyword("time5", "due_at", "整改期限", _as_time),
    )),
    "progress": Template("progress", "整改进度通知", (
        Keyword("thing1", "problem", "问题", fields.thing),
        Keyword("phrase2", "progress", "进度", fields.phrase),
        Keyword("thing3", "remark", "说明", fields.thing),
        Keyword("time4", "at", "更新时间", _as_time),
    )),
    "escalation": Template("escalation", "逾期督办提醒", (
        Keyword("thing1", "school", "学校", fields.thing),
        Keyword("thing2", "problem", "问题", fields.thing),
        Keyword("time3", "due_at", "整改期限", _as_time),
        Keyword("phrase4", "level", "督办级别", fields.phrase),
    )),
    "supervision": Template("supervision", "监督整改通知", (
        Keyword("thing1", "title", "通知事项", fields.thing),
        Keyword("thing2", "school", "学校", fields.thing),
        Keyword("time3", "due_at", "整改期限", _as_time),
        Keyword("thing4", "issuer", "下发单位", fields.thing),
    )),
    "binding": Template("binding", "绑定审核通知", (
        Keyword("thing1", "school", "学校", fields.thing),
        Keyword("thing2", "applicant", "申请人", fields.thing),
        Keyword("phrase3", "result", "审核结果", fields.phrase),
        Keyword("time4", "at", "时间", _as_time),
    )),
    # The regulators' daily 未报送 summary (backend/records/completeness.py).
    "unreported": Template("unreported", "台账未报送汇总", (
        Keyword("thing1", "region", "地区", fields.thing),
        Keyword("number2", "count", "未报送食堂数", fields.number),
        Keyword("time3", "at", "统计时间", _as_time),
    )),
    # The regulators' weekly early-warning summary (backend/risk/warning_list.py).
    "warning": Template("warning", "风险预警汇总", (
        Keyword("thing1", "region", "地区", fields.thing),
        Keyword("number2", "count", "未处理预警数", fields.number),
        Keyword("time3", "at", "统计时间", _as_time),
    )),
    # A batch, a sample or a kitchen area sealed (封存) or released, told to the school's staff.
    "seal": Template("seal", "封存通知", (
        Keyword("thing1", "school", "学校", fields.thing),
        Keyword("thing2", "target", "封存对象", fields.thing),
        Keyword("thing3", "reason", "原因", fields.thing),
        Keyword("phrase4", "state", "状态", fields.phrase),
        Keyword("time5", "at", "时间", _as_time),
    )),
}


def parse_template_ids(setting: str | None) -> dict[str, str]:
    """``name=id,name=id`` → {name: id}; unknown names are refused so a typo does not silently drop notices."""
    result: dict[str, str] = {}
    for part in (setting or "").split(","):
        if not part.strip():
            continue
        name, sep, template_id = part.partition("=")
        name, template_id = name.strip(), template_id.strip()
        if not sep or name not in TEMPLATES or not template_id:
            raise ValueError(f"WECHAT_SUBSCRIBE_TEMPLATES: cannot read {part!r}; names: {sorted(TEMPLATES)}")
        result[name] = template_id
    return result


def template_ids(config: Mapping[str, Any]) -> dict[str, str]:
    """The template id of each purpose for these settings (development ids outside production)."""
    configured = parse_template_ids(config.get("WECHAT_SUBSCRIBE_TEMPLATES"))
    if not configured and config.get("APP_ENV") != "production":
        return dict(DEV_TEMPLATE_IDS)
    return configured


def miniprogram_state(config: Mapping[str, Any]) -> str:
    """Which version of the mini-program a tap on the message opens."""
    state = config.get("WECHAT_MINIPROGRAM_STATE")
    if state:
        return str(state)
    return "formal" if config.get("APP_ENV") == "production" else "developer"
