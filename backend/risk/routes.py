"""HTTP routes of risk: a region's classes and card durations (regulators), cards (regulators, the school,
parents' transparency part), lifting a card, and camera uptime over 7 and 30 days."""

from __future__ import annotations

from datetime import date
from typing import Any

from apiflask import APIBlueprint

from backend.extensions import db
from backend.monitoring.camera_uptime import region_scope
from backend.permissions import Action, current_principal, current_school, rule
from backend.risk import cards, index, schemas, settings, views, warning_list
from backend.risk.models import RiskCard, RiskWarning
from backend.schools.models import School
from backend.timeutil import utcnow

bp = APIBlueprint("risk", __name__, tag="风险分级与警示")

STATE_FILTER = {"active": True, "lifted": False, "all": None}


@bp.get("/regions/<id:region_id>/risk/settings")
@rule(Action.RISK_SETTINGS, scope="region")
@bp.output(schemas.RiskSettingsOut)
def get_risk_settings(region_id: int) -> Any:
    """Each violation kind's class (1/2/3) and deadline in the region, and the card durations, with where
    each comes from (the region's own, inherited from a parent region, or the default)."""
    return settings.read_settings(current_school())


@bp.put("/regions/<id:region_id>/risk/settings")
@rule(Action.RISK_SETTINGS, scope="region")
@bp.input(schemas.RiskSettingsIn, arg_name="body")
@bp.output(schemas.RiskSettingsOut)
def put_risk_settings(region_id: int, body: dict[str, Any]) -> Any:
    """Set the region's own values of the kinds listed (``inherit``: take the parent's again), of the card
    durations and of the early-warning limits listed; audited. New violations take the new values; raised ones
    keep theirs."""
    return settings.update_settings(current_principal(), current_school(), body["kinds"], body["cards"], utcnow(),
                                    body["warnings"])


@bp.get("/regions/<id:region_id>/risk/settings/history")
@rule(Action.RISK_SETTINGS, scope="region")
@bp.output(schemas.SettingsChangeOut(many=True))
def risk_settings_history(region_id: int) -> Any:
    """Who changed the region's risk settings, when, from what to what (newest first)."""
    return settings.settings_history(current_school())


@bp.get("/regions/<id:region_id>/risk/cards")
@rule(Action.RISK_READ, scope="region")
@bp.input(schemas.CardQuery, location="query", arg_name="query")
@bp.output(schemas.CardOut(many=True))
def region_cards(region_id: int, query: dict[str, Any]) -> Any:
    """Yellow and red cards of the region's schools, newest first (default: the active ones)."""
    return cards.list_cards(region_scope(current_school()), active=STATE_FILTER[query["state"]],
                            color=query["color"], school_id=query["school_id"])


@bp.get("/regions/<id:region_id>/risk/uptime")
@rule(Action.RISK_READ, scope="region")
@bp.output(schemas.RegionUptimeOut)
def region_uptime(region_id: int) -> Any:
    """Each school's camera uptime over the last 7 and 30 days, lowest first."""
    return views.region_uptime(current_school(), utcnow())


@bp.get("/schools/<id:school_id>/risk")
@rule(Action.RISK_READ, scope="school")
@bp.output(schemas.SchoolRiskOut)
def school_risk(school_id: int) -> Any:
    """The school's cards (active and lifted, with reasons) and its camera uptime over 7 and 30 days."""
    return views.school_risk(db.session.get(School, school_id), utcnow())


@bp.get("/schools/<id:school_id>/risk/public")
@rule(Action.RISK_PUBLIC, scope="school")
@bp.output(schemas.PublicRiskOut)
def public_risk(school_id: int) -> Any:
    """The parents' transparency data: camera uptime over 7 and 30 days, the active cards on problems parents
    may see, and the food-safety index of the newest finished month with its rating and the published
    criteria."""
    return views.public_risk(db.session.get(School, school_id), utcnow())


def _month(query: dict[str, Any]) -> date | None:
    return None if query["month"] is None else date.fromisoformat(query["month"] + "-01")


@bp.get("/regions/<id:region_id>/risk/index")
@rule(Action.RISK_READ, scope="region")
@bp.input(schemas.IndexQuery, location="query", arg_name="query")
@bp.output(schemas.RegionIndexOut)
def region_index(region_id: int, query: dict[str, Any]) -> Any:
    """The month's food-safety index (食安指数) ranking of the region's schools, best first, with the count of
    each 阳光食堂 rating and the published criteria (default: the newest month computed)."""
    return index.region_ranking(current_school(), _month(query))


@bp.get("/schools/<id:school_id>/risk/index")
@rule(Action.RISK_READ, scope="school")
@bp.input(schemas.IndexQuery, location="query", arg_name="query")
@bp.output(schemas.SchoolIndexOut)
def school_index(school_id: int, query: dict[str, Any]) -> Any:
    """A school's food-safety index of the month with each component and the figures behind it, its place in
    its region, its last twelve months and the published criteria."""
    return index.school_index(db.session.get(School, school_id), _month(query))


@bp.post("/risk-cards/<id:card_id>/lift")
@rule(Action.RISK_CARD_LIFT, scope="risk_card")
@bp.input(schemas.LiftIn, arg_name="body")
@bp.output(schemas.CardOut)
def lift_card(card_id: int, body: dict[str, Any]) -> Any:
    """A regulator of the school's region lifts a card, with a reason (audited; the card stays on record)."""
    card = cards.lift_card(current_principal(), db.session.get(RiskCard, card_id), body["reason"], utcnow())
    return cards.list_cards(RiskCard.id == card.id, active=None)[0]


@bp.get("/regions/<id:region_id>/risk/warnings")
@rule(Action.RISK_WARNINGS, scope="region")
@bp.input(schemas.WarningQuery, location="query", arg_name="query")
@bp.output(schemas.WarningOut(many=True))
def region_warnings(region_id: int, query: dict[str, Any]) -> Any:
    """Early warnings (预警) of the region's schools, newest first (default: the open ones), each with its reason
    and the data behind it."""
    return warning_list.list_warnings(region_scope(current_school()), state=query["state"], kind=query["kind"],
                                      school_id=query["school_id"])


@bp.get("/schools/<id:school_id>/risk/warnings")
@rule(Action.RISK_WARNINGS, scope="school")
@bp.input(schemas.SchoolWarningQuery, location="query", arg_name="query")
@bp.output(schemas.WarningOut(many=True))
def school_warnings(school_id: int, query: dict[str, Any]) -> Any:
    """The school's early warnings, newest first (default: the open ones)."""
    return warning_list.list_warnings(School.id == school_id, state=query["state"], kind=query["kind"])


@bp.post("/risk-warnings/<id:warning_id>/acknowledge")
@rule(Action.RISK_WARNING_ACK, scope="risk_warning")
@bp.input(schemas.AcknowledgeIn, arg_name="body")
@bp.output(schemas.WarningOut)
def acknowledge_warning(warning_id: int, body: dict[str, Any]) -> Any:
    """A regulator of the school's region acknowledges a warning with a note (audited; it stays until its
    condition clears)."""
    return warning_list.acknowledge(current_principal(), db.session.get(RiskWarning, warning_id), body["note"],
                                    utcnow())
