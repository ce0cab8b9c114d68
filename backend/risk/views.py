"""What the risk routes read: a school's cards and camera uptime, for its staff and regulators and (filtered)
for its parents, and a region's schools' uptime for regulators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.monitoring.camera_uptime import region_scope, school_scope, school_uptimes
from backend.notices.recipients import published_kinds
from backend.risk.cards import list_cards
from backend.risk.index import public_index
from backend.schools.models import Region, School
from backend.timeutil import shanghai_iso
from backend.violations.alarm_visibility import is_public
from backend.violations.models import Violation

PERIODS = (7, 30)


def _empty_uptime(school: School) -> dict[str, Any]:
    return {"school_id": school.id, "school_name": school.name, "cameras": 0,
            **{f"uptime_{days}d": None for days in PERIODS}}


def school_uptime(school: School, now: datetime) -> dict[str, Any]:
    """A school's camera uptime over the last 7 and 30 days (enabled cameras together)."""
    return school_uptimes(school_scope(school.id), now, PERIODS).get(school.id) or _empty_uptime(school)


def region_uptime(region: Region, now: datetime) -> dict[str, Any]:
    """Every school of the region (and below) with its 7- and 30-day uptime, lowest 7-day uptime first."""
    found = school_uptimes(region_scope(region), now, PERIODS)
    schools = db.session.execute(select(School).where(region_scope(region)).order_by(School.id)).scalars()
    items = [found.get(school.id) or _empty_uptime(school) for school in schools]
    items.sort(key=lambda s: (s["uptime_7d"] is None, s["uptime_7d"] if s["uptime_7d"] is not None else 0,
                              s["school_id"]))
    return {"generated_at": shanghai_iso(now), "schools": items}


def school_risk(school: School, now: datetime) -> dict[str, Any]:
    """The school's cards (active and lifted) and its uptime, as its staff and regulators read them."""
    return {"school_id": school.id, "uptime": school_uptime(school, now),
            "cards": list_cards(School.id == school.id)}


def public_risk(school: School, now: datetime) -> dict[str, Any]:
    """The parents' transparency data: the school's uptime and its active cards on problems parents may see
    (kinds the school publishes; AI alarms only once a reviewer confirmed them: the one rule of
    ``backend/violations/alarm_visibility.py``). No names, no reasons, no evidence."""
    published = set(published_kinds(school.id))
    cards = []
    for card in list_cards(School.id == school.id, active=True):
        violation = db.session.get(Violation, card["violation_id"])
        if card["kind"] in published and is_public(violation):
            cards.append({key: card[key] for key in ("id", "color", "color_label", "risk_class", "kind",
                                                     "kind_label", "issued_at")})
    return {"school_id": school.id, "uptime": school_uptime(school, now), "cards": cards,
            "index": public_index(school, now)}
