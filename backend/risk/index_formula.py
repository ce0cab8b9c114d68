"""The food-safety index (食安指数) formula and the 阳光食堂 rating: pure functions of a school-month's inputs.

Index = 100 − the sum of six deductions, each capped, rounded to one decimal (docs/risk.md, "食安指数"):

- violations (cap 35): problems found in the month by class (AI alarms once confirmed or escalated, none
  dismissed, inspection findings counted below): 6 per class 1, 2 per class 2, 0.5 per class 3;
- timeliness (cap 20): 20 × late / due over the problems due in the month (late: closed after the deadline or
  still owed);
- records (cap 20): 20 × (1 − complete / canteen-days) (complete: every required record, 晨检, 菜单, 留样,
  餐具消毒, in time);
- uptime (cap 10): 0.5 per point of the enabled cameras' online time below 100 %;
- review (cap 5): 2.5 per AI alarm of the month a reviewer escalated (升级督办);
- inspections (cap 10): findings of regulators' inspections in the month, 1 minor, 3 major, 5 critical.

A component without data (nothing due, no canteen-day, no known camera second) deducts nothing and shows
``null`` as its rate. The caps add up to 100, so the index is never below 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CLASS_POINTS = {1: 6.0, 2: 2.0, 3: 0.5}
SEVERITY_POINTS = {"minor": 1.0, "major": 3.0, "critical": 5.0}
ESCALATED_POINTS = 2.5
UPTIME_POINTS_PER_PERCENT = 0.5
CAPS = {"violations": 35.0, "timeliness": 20.0, "records": 20.0, "uptime": 10.0, "review": 5.0,
        "inspections": 10.0}
COMPONENT_LABELS = {"violations": "分级问题", "timeliness": "整改及时", "records": "台账完整",
                    "uptime": "摄像头在线", "review": "告警审核", "inspections": "监督检查"}

# 阳光食堂 rating, best first: the first whose conditions hold. ``max_class1`` bounds the month's class-1 problems.
RATINGS = (
    {"rating": "A", "label": "A级（阳光食堂）", "min_score": 90.0, "max_class1": 0,
     "text": "食安指数不低于 90 分，且当月无一级风险问题"},
    {"rating": "B", "label": "B级（良好）", "min_score": 75.0, "max_class1": None,
     "text": "食安指数不低于 75 分"},
    {"rating": "C", "label": "C级（需整改）", "min_score": 0.0, "max_class1": None,
     "text": "食安指数低于 75 分"},
)
RATING_LABELS = {r["rating"]: r["label"] for r in RATINGS}

# The inputs of a school-month, as ``risk_index`` stores them.
INPUTS = ("class1", "class2", "class3", "due", "late", "canteen_days", "canteen_days_complete", "online_seconds",
          "known_seconds", "alarms_confirmed", "alarms_escalated", "alarms_false", "findings_minor",
          "findings_major", "findings_critical")


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def components(inputs: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Each component's figures and its deduction (capped), in the documented order."""
    late_rate = _rate(inputs["late"], inputs["due"])
    complete_rate = _rate(inputs["canteen_days_complete"], inputs["canteen_days"])
    uptime_rate = _rate(inputs["online_seconds"], inputs["known_seconds"])
    raw = {
        "violations": sum(CLASS_POINTS[c] * inputs[f"class{c}"] for c in CLASS_POINTS),
        "timeliness": 0.0 if late_rate is None else CAPS["timeliness"] * late_rate,
        "records": 0.0 if complete_rate is None else CAPS["records"] * (1 - complete_rate),
        "uptime": 0.0 if uptime_rate is None else UPTIME_POINTS_PER_PERCENT * 100 * (1 - uptime_rate),
        "review": ESCALATED_POINTS * inputs["alarms_escalated"],
        "inspections": sum(SEVERITY_POINTS[s] * inputs[f"findings_{s}"] for s in SEVERITY_POINTS),
    }
    figures = {
        "violations": {"class1": inputs["class1"], "class2": inputs["class2"], "class3": inputs["class3"]},
        "timeliness": {"due": inputs["due"], "late": inputs["late"], "rate": _percent(late_rate)},
        "records": {"canteen_days": inputs["canteen_days"], "complete": inputs["canteen_days_complete"],
                    "rate": _percent(complete_rate)},
        "uptime": {"online_seconds": inputs["online_seconds"], "known_seconds": inputs["known_seconds"],
                   "rate": _percent(uptime_rate)},
        "review": {"confirmed": inputs["alarms_confirmed"], "escalated": inputs["alarms_escalated"],
                   "false_positive": inputs["alarms_false"]},
        "inspections": {"minor": inputs["findings_minor"], "major": inputs["findings_major"],
                        "critical": inputs["findings_critical"]},
    }
    return {name: {"label": COMPONENT_LABELS[name], "cap": CAPS[name],
                   "deduction": round(min(CAPS[name], raw[name]), 2), "figures": figures[name]}
            for name in CAPS}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def score(inputs: Mapping[str, int]) -> float:
    """The index: 100 minus the capped deductions, one decimal."""
    return round(100.0 - sum(min(CAPS[name], part["deduction"]) for name, part in components(inputs).items()), 1)


def rating(index: float, class1: int) -> str:
    """The 阳光食堂 rating (A, B or C) of an index and the month's class-1 problems."""
    for rule in RATINGS:
        if index >= rule["min_score"] and (rule["max_class1"] is None or class1 <= rule["max_class1"]):
            return rule["rating"]
    return RATINGS[-1]["rating"]


def criteria() -> dict[str, Any]:
    """The published formula and rating criteria, as the API serves them."""
    return {"max_score": 100,
            "components": [{"name": name, "label": COMPONENT_LABELS[name], "cap": cap} for name, cap in CAPS.items()],
            "class_points": {str(c): p for c, p in CLASS_POINTS.items()},
            "severity_points": SEVERITY_POINTS, "escalated_points": ESCALATED_POINTS,
            "uptime_points_per_percent": UPTIME_POINTS_PER_PERCENT,
            "ratings": [{key: rule[key] for key in ("rating", "label", "min_score", "max_class1", "text")}
                        for rule in RATINGS]}
