"""HTTP routes of regulators: spot checks, joint inspection rounds, findings and their photos, the region's
inspectors, supervision orders. Answers name schools, canteens and people (``views``), not only ids."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import request

from backend.extensions import db
from backend.files import read_upload
from backend.permissions import Action, current_principal, current_school, rule
from backend.regulators import schemas, services, views
from backend.regulators.models import InspectionRound, SpotCheck, SupervisionOrder
from backend.schools.models import Region
from backend.violations.schemas import PhotoOut

bp = APIBlueprint("regulators", __name__, tag="监管")


def _region(region_id: int) -> Region:
    return db.session.get(Region, region_id)


@bp.post("/regions/<id:region_id>/spot-checks")
@rule(Action.INSPECT, scope="region")
@bp.input(schemas.SpotCheckIn, arg_name="body")
@bp.output(schemas.SpotCheckOut, status_code=201)
def create_spot_check(region_id: int, body: dict[str, Any]) -> Any:
    """Draw a reproducible random sample of canteens in the region."""
    check = services.create_spot_check(current_principal(), _region(region_id), body["size"], body["seed"],
                                       body["school_kind"], body["note"])
    return views.spot_checks([check])[0]


@bp.get("/regions/<id:region_id>/spot-checks")
@rule(Action.INSPECT, scope="region")
@bp.output(schemas.SpotCheckOut(many=True))
def list_spot_checks(region_id: int) -> Any:
    """The region's spot checks, newest first."""
    return views.list_spot_checks(region_id)


@bp.get("/spot-checks/<id:spot_check_id>")
@rule(Action.INSPECT, scope="spot_check")
@bp.output(schemas.SpotCheckOut)
def get_spot_check(spot_check_id: int) -> Any:
    """One spot check."""
    return views.spot_checks([db.session.get(SpotCheck, spot_check_id)])[0]


@bp.post("/regions/<id:region_id>/inspections")
@rule(Action.INSPECT, scope="region")
@bp.input(schemas.RoundIn, arg_name="body")
@bp.output(schemas.RoundOut, status_code=201)
def create_round(region_id: int, body: dict[str, Any]) -> Any:
    """Plan a joint inspection round."""
    return views.rounds([services.create_round(current_principal(), _region(region_id), **body)])[0]


@bp.get("/regions/<id:region_id>/inspections")
@rule(Action.INSPECT, scope="region")
@bp.output(schemas.RoundOut(many=True))
def list_rounds(region_id: int) -> Any:
    """The region's inspection rounds, newest first."""
    return views.list_rounds(region_id)


@bp.get("/inspections/<id:inspection_id>")
@rule(Action.INSPECT, scope="inspection")
@bp.output(schemas.RoundOut)
def get_round(inspection_id: int) -> Any:
    """One inspection round."""
    return views.rounds([db.session.get(InspectionRound, inspection_id)])[0]


@bp.post("/inspections/<id:inspection_id>/findings")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.FindingIn, arg_name="body")
@bp.output(schemas.FindingCreatedOut, status_code=201)
def add_finding(inspection_id: int, body: dict[str, Any]) -> Any:
    """Record a finding in one of the round's canteens (it may open a violation)."""
    return views.finding(services.add_finding(current_principal(), db.session.get(InspectionRound, inspection_id),
                                              **body))


@bp.post("/inspections/<id:inspection_id>/photos")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.FindingPhotoIn, location="form_and_files", arg_name="body")
@bp.output(PhotoOut, status_code=201)
def upload_finding_photo(inspection_id: int, body: dict[str, Any]) -> Any:
    """An inspector's photo of what they found in one of the round's canteens (JPEG, PNG or WebP, judged by
    content); reference its ``key`` in the finding's ``photos``."""
    return services.store_finding_photo(current_principal(), db.session.get(InspectionRound, inspection_id),
                                        body["canteen_id"], read_upload(body["file"]), public_base=request.url_root)


@bp.get("/regions/<id:region_id>/inspectors")
@rule(Action.INSPECT, scope="region")
@bp.output(schemas.InspectorChoiceOut(many=True))
def list_inspectors(region_id: int) -> Any:
    """The regulators whose scope covers the region: who may join a joint inspection there."""
    return services.region_inspectors(_region(region_id))


@bp.post("/inspections/<id:inspection_id>/visits")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.VisitIn, arg_name="body")
@bp.output(schemas.VisitOut)
def record_visit(inspection_id: int, body: dict[str, Any]) -> Any:
    """Mark a canteen visited with its overall result."""
    return views.target(services.record_visit(current_principal(), db.session.get(InspectionRound, inspection_id),
                                              body["canteen_id"], body["result"]))


@bp.post("/inspections/<id:inspection_id>/complete")
@rule(Action.INSPECT, scope="inspection")
@bp.input(schemas.CompleteIn, arg_name="body")
@bp.output(schemas.RoundOut)
def complete_round(inspection_id: int, body: dict[str, Any]) -> Any:
    """Close the round with its summary."""
    return views.rounds([services.complete_round(current_principal(),
                                                 db.session.get(InspectionRound, inspection_id), body["summary"])])[0]


@bp.post("/schools/<id:school_id>/supervision-orders")
@rule(Action.SUPERVISION_ISSUE, scope="school")
@bp.input(schemas.OrderIn, arg_name="body")
@bp.output(schemas.OrderOut, status_code=201)
def issue_order(school_id: int, body: dict[str, Any]) -> Any:
    """Issue a supervision order to a school of the region."""
    return views.orders([services.issue_order(current_principal(), current_school(), **body)])[0]


@bp.get("/schools/<id:school_id>/supervision-orders")
@rule(Action.SUPERVISION_READ, scope="school")
@bp.output(schemas.OrderOut(many=True))
def list_orders(school_id: int) -> Any:
    """A school's supervision orders, newest first."""
    return views.list_orders(school_id)


@bp.get("/supervision-orders/<id:order_id>")
@rule(Action.SUPERVISION_READ, scope="supervision_order")
@bp.output(schemas.OrderOut)
def get_order(order_id: int) -> Any:
    """One supervision order."""
    return views.orders([db.session.get(SupervisionOrder, order_id)])[0]


@bp.post("/supervision-orders/<id:order_id>/respond")
@rule(Action.SUPERVISION_RESPOND, scope="supervision_order")
@bp.input(schemas.RespondIn, arg_name="body")
@bp.output(schemas.OrderOut)
def respond_order(order_id: int, body: dict[str, Any]) -> Any:
    """The school's principal answers the order."""
    return views.orders([services.respond_order(current_principal(), db.session.get(SupervisionOrder, order_id),
                                                body["response"])])[0]


@bp.post("/supervision-orders/<id:order_id>/close")
@rule(Action.SUPERVISION_ISSUE, scope="supervision_order")
@bp.input(schemas.CloseIn, arg_name="body")
@bp.output(schemas.OrderOut)
def close_order(order_id: int, body: dict[str, Any]) -> Any:
    """The regulator closes an answered order."""
    return views.orders([services.close_order(current_principal(), db.session.get(SupervisionOrder, order_id),
                                              body["reason"])])[0]
