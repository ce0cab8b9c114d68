"""HTTP routes of regulators: spot checks, joint inspection rounds and findings, supervision orders."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select

from backend.extensions import db
from backend.permissions import Action, current_principal, current_school, rule
from backend.regulators import schemas, scopes, services  # noqa: F401  (scopes: region-level rules)
from backend.regulators.models import InspectionRound, SpotCheck, SupervisionOrder
from backend.schools.models import Region

bp = APIBlueprint("regulators", __name__, tag="监管")


def _region(region_id: int) -> Region:
    return db.session.get(Region, region_id)


@bp.post("/regions/<id:region_id>/spot-checks")
@rule(Action.INSPECT, scope="region")
@bp.input(schemas.SpotCheckIn, arg_name="body")
@bp.output(schemas.SpotCheckOut, status_code=201)
def create_spot_check(region_id: int, body: dict[str, Any]) -> Any:
    """Draw a reproducible random sample of canteens in the region."""
    return services.create_spot_check(current_principal(), _region(region_id), body["size"], body["seed"],
                                      body["school_kind"], body["note"])


@bp.get("/regions/<id:region_id>/spot-checks")
@rule(Action.INSPECT, scope="region")
@bp.output(schemas.SpotCheckOut(many=True))
def list_spot_checks(region_id: int) -> Any:
    """The region's spot checks, newest first."""
    return db.session.scalars(select(SpotCheck).where(SpotCheck.region_id == region_id)
                              .order_by(SpotCheck.id.desc()).limit(100)).all()


@bp.get("/spot-checks/<id:spot_check_id>")
@rule(Action.INSPECT, scope="spot_check")
@bp.output(schemas.SpotCheckOut)
def get_spot_check(spot_check_id: int) -> Any:
    """One spot check."""
    return db.session.get(SpotCheck, spot_check_id)


@bp.post("/regions/<id:region_id>/inspections")
@rule(Action.INSPECT, scope="region")
@bp.input(schemas.RoundIn, arg_name="body")
@bp.output(schemas.RoundOut, status_code=201)
def create_round(region_id: int, body: dict[str, Any]) -> Any:
    """Plan a joint inspection round."""
    return services.create_round(current_principal(), _region(region_id), **body)


@bp.get("/regions/<id:region_id>/inspections")
@rule(Action.INSPECT, scope="region")
@bp.output(schemas.RoundOut(many=True))
def list_rounds(region_id: int) -> Any:
    """The region's inspection rounds, newest first."""
    return db.session.scalars(select(InspectionRound).where(InspectionRound.region_id == region_id)
                              .order_by(InspectionRound.id.desc()).limit(100)).all()


@bp.get("/inspections/<id:inspection_id>")
@rule(Action.INSPECT, scope="inspection")
@bp.output(schemas.RoundOut)
def get_round(inspection_id: int) -> Any:
    """One inspection round."""
    return db.session.get(InspectionRound, inspection_id)


@bp.post("/inspections/<id:inspection_id>/findings")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.FindingIn, arg_name="body")
@bp.output(schemas.FindingCreatedOut, status_code=201)
def add_finding(inspection_id: int, body: dict[str, Any]) -> Any:
    """Record a finding in one of the round's canteens (it may open a violation)."""
    return services.add_finding(current_principal(), db.session.get(InspectionRound, inspection_id), **body)


@bp.post("/inspections/<id:inspection_id>/visits")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.VisitIn, arg_name="body")
@bp.output(schemas.VisitOut)
def record_visit(inspection_id: int, body: dict[str, Any]) -> Any:
    """Mark a canteen visited with its overall result."""
    return services.record_visit(current_principal(), db.session.get(InspectionRound, inspection_id),
                                 body["canteen_id"], body["result"])


@bp.post("/inspections/<id:inspection_id>/complete")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.CompleteIn, arg_name="body")
@bp.output(schemas.RoundOut)
def complete_round(inspection_id: int, body: dict[str, Any]) -> Any:
    """Close the round with its summary."""
    return services.complete_round(current_principal(), db.session.get(InspectionRound, inspection_id),
                                   body["summary"])


@bp.post("/schools/<id:school_id>/supervision-orders")
@rule(Action.SUPERVISION_ISSUE, scope="school")
@bp.input(schemas.OrderIn, arg_name="body")
@bp.output(schemas.OrderOut, status_code=201)
def issue_order(school_id: int, body: dict[str, Any]) -> Any:
    """Issue a supervision order to a school of the region."""
    return services.issue_order(current_principal(), current_school(), **body)


@bp.get("/schools/<id:school_id>/supervision-orders")
@rule(Action.SUPERVISION_READ, scope="school")
@bp.output(schemas.OrderOut(many=True))
def list_orders(school_id: int) -> Any:
    """A school's supervision orders, newest first."""
    return db.session.scalars(select(SupervisionOrder).where(SupervisionOrder.school_id == school_id)
                              .order_by(SupervisionOrder.id.desc()).limit(100)).all()


@bp.get("/supervision-orders/<id:order_id>")
@rule(Action.SUPERVISION_READ, scope="supervision_order")
@bp.output(schemas.OrderOut)
def get_order(order_id: int) -> Any:
    """One supervision order."""
    return db.session.get(SupervisionOrder, order_id)


@bp.post("/supervision-orders/<id:order_id>/respond")
@rule(Action.SUPERVISION_RESPOND, scope="supervision_order")
@bp.input(schemas.RespondIn, arg_name="body")
@bp.output(schemas.OrderOut)
def respond_order(order_id: int, body: dict[str, Any]) -> Any:
    """The school's principal answers the order."""
    return services.respond_order(current_principal(), db.session.get(SupervisionOrder, order_id),
                                  body["response"])


@bp.post("/supervision-orders/<id:order_id>/close")
@rule(Action.SUPERVISION_ISSUE, scope="supervision_order")
@bp.input(schemas.CloseIn, arg_name="body")
@bp.output(schemas.OrderOut)
def close_order(order_id: int, body: dict[str, Any]) -> Any:
    """The regulator closes an answered order."""
    return services.close_order(current_principal(), db.session.get(SupervisionOrder, order_id), body["reason"])
