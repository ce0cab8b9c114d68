"""HTTP routes of schools, canteens, kitchen areas and cameras."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import select

from backend.errors import ApiError
from backend.extensions import db
from backend.permissions import Action, current_principal, current_school, rule
from backend.schools import schemas, services
from backend.schools.models import Camera, Canteen, KitchenArea, Region, SchoolClass

bp = APIBlueprint("schools", __name__, tag="学校与摄像头")


@bp.get("/regions")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.RegionTreeOut)
def regions() -> Any:
    """The region tree (province → city → county)."""
    return {"regions": services.region_tree()}


@bp.get("/schools")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.SchoolOut(many=True))
def list_schools() -> Any:
    """Schools the caller belongs to or regulates."""
    return services.visible_schools(current_principal())


@bp.post("/schools")
@rule(Action.ADMIN)
@bp.input(schemas.SchoolIn, arg_name="body")
@bp.output(schemas.SchoolOut, status_code=201)
def create_school(body: dict[str, Any]) -> Any:
    """Register a school (platform admin)."""
    region = db.session.scalar(select(Region).where(Region.code == body["region_code"]))
    if region is None:
        raise ApiError(422, "region_not_found", "行政区划不存在", {"fields": {"region_code": ["不存在"]}})
    school = services.create_school(current_principal().user.id, region, body["name"], body["kind"],
                                    body.get("address"))
    db.session.commit()
    return school


@bp.get("/schools/<id:school_id>")
@rule(Action.SCHOOL_READ, scope="school")
@bp.output(schemas.SchoolOut)
def get_school(school_id: int) -> Any:
    """One school."""
    return current_school()


@bp.patch("/schools/<id:school_id>")
@rule(Action.SCHOOL_MANAGE, scope="school")
@bp.input(schemas.SchoolPatch, arg_name="body")
@bp.output(schemas.SchoolOut)
def patch_school(school_id: int, body: dict[str, Any]) -> Any:
    """Change a school's name or address."""
    return services.update_school(current_principal(), current_school(), body)


@bp.get("/schools/<id:school_id>/canteens")
@rule(Action.SCHOOL_READ, scope="school")
@bp.output(schemas.CanteenOut(many=True))
def list_canteens(school_id: int) -> Any:
    """A school's canteens."""
    return current_school().canteens


@bp.post("/schools/<id:school_id>/canteens")
@rule(Action.SCHOOL_MANAGE, scope="school")
@bp.input(schemas.CanteenIn, arg_name="body")
@bp.output(schemas.CanteenOut, status_code=201)
def create_canteen(school_id: int, body: dict[str, Any]) -> Any:
    """Add a canteen."""
    return services.create_canteen(current_principal(), current_school(), body)


@bp.get("/schools/<id:school_id>/classes")
@rule(Action.SCHOOL_READ, scope="school")
@bp.output(schemas.SchoolClassOut(many=True))
def list_classes(school_id: int) -> Any:
    """The school's classes, in the order staff gave them."""
    return services.school_classes(school_id)


@bp.post("/schools/<id:school_id>/classes")
@rule(Action.CLASSES_MANAGE, scope="school")
@bp.input(schemas.SchoolClassIn, arg_name="body")
@bp.output(schemas.SchoolClassOut, status_code=201)
def create_class(school_id: int, body: dict[str, Any]) -> Any:
    """Add a class (last unless a position is given)."""
    return services.create_class(current_principal(), current_school(), body["name"], body["position"])


@bp.patch("/classes/<id:class_id>")
@rule(Action.CLASSES_MANAGE, scope="class")
@bp.input(schemas.SchoolClassPatch, arg_name="body")
@bp.output(schemas.SchoolClassOut)
def patch_class(class_id: int, body: dict[str, Any]) -> Any:
    """Rename or move a class."""
    return services.update_class(current_principal(), db.session.get(SchoolClass, class_id), body)


@bp.delete("/classes/<id:class_id>")
@rule(Action.CLASSES_MANAGE, scope="class")
@bp.output({}, status_code=204)
def delete_class(class_id: int) -> Any:
    """Remove a class that no binding names."""
    services.delete_class(current_principal(), db.session.get(SchoolClass, class_id))
    return ""


@bp.get("/canteens/<id:canteen_id>")
@rule(Action.SCHOOL_READ, scope="canteen")
@bp.output(schemas.CanteenOut)
def get_canteen(canteen_id: int) -> Any:
    """One canteen with its meal and live windows."""
    return db.session.get(Canteen, canteen_id)


@bp.patch("/canteens/<id:canteen_id>")
@rule(Action.SCHOOL_MANAGE, scope="canteen")
@bp.input(schemas.CanteenPatch, arg_name="body")
@bp.output(schemas.CanteenOut)
def patch_canteen(canteen_id: int, body: dict[str, Any]) -> Any:
    """Change a canteen's windows or name."""
    return services.update_canteen(current_principal(), db.session.get(Canteen, canteen_id), body)


@bp.get("/canteens/<id:canteen_id>/areas")
@rule(Action.SCHOOL_READ, scope="canteen")
@bp.output(schemas.AreaOut(many=True))
def list_areas(canteen_id: int) -> Any:
    """A canteen's kitchen areas (public ones only, for parents)."""
    return services.list_areas(current_principal(), db.session.get(Canteen, canteen_id))


@bp.post("/canteens/<id:canteen_id>/areas")
@rule(Action.SCHOOL_MANAGE, scope="canteen")
@bp.input(schemas.AreaIn, arg_name="body")
@bp.output(schemas.AreaOut, status_code=201)
def create_area(canteen_id: int, body: dict[str, Any]) -> Any:
    """Add a kitchen area."""
    return services.create_area(current_principal(), db.session.get(Canteen, canteen_id), body)


@bp.patch("/areas/<id:area_id>")
@rule(Action.SCHOOL_MANAGE, scope="area")
@bp.input(schemas.AreaPatch, arg_name="body")
@bp.output(schemas.AreaOut)
def patch_area(area_id: int, body: dict[str, Any]) -> Any:
    """Change an area, including whether parents may watch it."""
    return services.update_area(current_principal(), db.session.get(KitchenArea, area_id), body)


@bp.get("/canteens/<id:canteen_id>/cameras")
@rule(Action.CAMERA_READ, scope="canteen")
@bp.output(schemas.CameraOut(many=True))
def list_cameras(canteen_id: int) -> Any:
    """A canteen's cameras (those in public areas, for parents)."""
    return services.list_cameras(current_principal(), db.session.get(Canteen, canteen_id))


@bp.post("/areas/<id:area_id>/cameras")
@rule(Action.CAMERA_MANAGE, scope="area")
@bp.input(schemas.CameraIn, arg_name="body")
@bp.output(schemas.CameraOut, status_code=201)
def create_camera(area_id: int, body: dict[str, Any]) -> Any:
    """Add a camera; its source URL and credentials are write-only."""
    return services.create_camera(current_principal(), db.session.get(KitchenArea, area_id), body)


@bp.get("/cameras/<id:camera_id>")
@rule(Action.CAMERA_READ, scope="camera")
@bp.output(schemas.CameraOut)
def get_camera(camera_id: int) -> Any:
    """One camera, without its secrets."""
    return services.visible_camera(current_principal(), db.session.get(Camera, camera_id))


@bp.patch("/cameras/<id:camera_id>")
@rule(Action.CAMERA_MANAGE, scope="camera")
@bp.input(schemas.CameraPatch, arg_name="body")
@bp.output(schemas.CameraOut)
def patch_camera(camera_id: int, body: dict[str, Any]) -> Any:
    """Change a camera's settings or credentials."""
    return services.update_camera(current_principal(), db.session.get(Camera, camera_id), body)
