"""Regions, schools, canteens, kitchen areas and cameras."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from backend.accounts.models import Invite, Membership, MembershipStatus
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.permissions import Principal, sees_only_public
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School, SchoolClass, SourceKind

# Who sees only the public areas of a kitchen.
# Fields of a camera whose values are secrets: their changes are audited without values.
CAMERA_SECRET_FIELDS = ("source_url", "source_username", "source_password")


def create_region(code: str, name: str, level: str, parent: Region | None) -> Region:
    """Add a region under ``parent`` and compute its materialised path (the caller commits)."""
    region = Region(code=code, name=name, level=level, parent=parent)
    db.session.add(region)
    db.session.flush()
    region.path = f"{parent.path if parent else '/'}{region.id}/"
    return region


def region_tree() -> list[dict[str, Any]]:
    """All regions as nested dicts (the tree is small: provinces, cities, counties)."""
    regions = db.session.scalars(select(Region).order_by(Region.path)).all()
    nodes = {r.id: {"id": r.id, "code": r.code, "name": r.name, "level": r.level, "children": []} for r in regions}
    roots: list[dict[str, Any]] = []
    for r in regions:
        (nodes[r.parent_id]["children"] if r.parent_id in nodes else roots).append(nodes[r.id])
    return roots


def visible_schools(principal: Principal) -> list[School]:
    """Schools the caller belongs to or regulates (all of them for admins)."""
    query = select(School).options(selectinload(School.region)).order_by(School.id)
    if not principal.is_admin:
        conditions = [School.id.in_(list(principal.roles_by_school))] if principal.roles_by_school else []
        if principal.region_paths:
            conditions.append(School.region_id.in_(
                select(Region.id).where(or_(*[Region.path.startswith(p) for p in principal.region_paths]))))
        if not conditions:
            return []
        query = query.where(or_(*conditions))
    return list(db.session.scalars(query))


def create_school(actor_id: int | None, region: Region, name: str, kind: str, address: str | None) -> School:
    """Register a school (admin)."""
    school = School(region_id=region.id, name=name, kind=kind, address=address)
    db.session.add(school)
    db.session.flush()
    record_audit(actor_id, AuditAction.SCHOOL_CREATE, school_id=school.id, target=("school", school.id),
                 details={"name": name, "kind": kind})
    return school


def _save_changes(actor: Principal, obj: Any, changes: dict[str, Any], action: AuditAction, school_id: int,
                  secret_fields: tuple[str, ...] = ()) -> Any:
    """Set the changed attributes, audit them as ``action`` on the object (secret values are never logged), commit."""
    changed: dict[str, Any] = {}
    for key, value in changes.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed[key] = "***" if key in secret_fields else value
    if changed:
        record_audit(actor.user_id, action, school_id=school_id, target=(action.split(".")[0], obj.id),
                     details=changed)
    db.session.commit()
    return obj


def _add(actor: Principal, obj: Any, action: AuditAction, school_id: int, detail_fields: tuple[str, ...]) -> Any:
    """Insert a new object, audit it as ``action`` with the named fields (read after the insert), commit."""
    db.session.add(obj)
    db.session.flush()
    record_audit(actor.user_id, action, school_id=school_id, target=(action.split(".")[0], obj.id),
                 details={name: getattr(obj, name) for name in detail_fields})
    db.session.commit()
    return obj


def update_school(actor: Principal, school: School, changes: dict[str, Any]) -> School:
    """Change a school's name or address."""
    return _save_changes(actor, school, changes, AuditAction.SCHOOL_UPDATE, school.id)


def create_canteen(actor: Principal, school: School, values: dict[str, Any]) -> Canteen:
    """Add a canteen to a school."""
    return _add(actor, Canteen(school_id=school.id, **values), AuditAction.CANTEEN_CREATE, school.id, ("name",))


def update_canteen(actor: Principal, canteen: Canteen, changes: dict[str, Any]) -> Canteen:
    """Change a canteen's name, meal windows or live-view windows."""
    return _save_changes(actor, canteen, changes, AuditAction.CANTEEN_UPDATE, canteen.school_id)


def create_area(actor: Principal, canteen: Canteen, values: dict[str, Any]) -> KitchenArea:
    """Add a kitchen area to a canteen."""
    return _add(actor, KitchenArea(canteen_id=canteen.id, **values), AuditAction.AREA_CREATE, canteen.school_id,
                ("name", "public"))


def update_area(actor: Principal, area: KitchenArea, changes: dict[str, Any]) -> KitchenArea:
    """Change an area; turning ``public`` on or off is what decides whether parents can watch it."""
    return _save_changes(actor, area, changes, AuditAction.AREA_UPDATE, area.canteen.school_id)


def list_areas(principal: Principal, canteen: Canteen) -> list[KitchenArea]:
    """A canteen's areas as the caller may see them."""
    query = select(KitchenArea).where(KitchenArea.canteen_id == canteen.id).order_by(KitchenArea.id)
    if sees_only_public(principal, canteen.school):
        query = query.where(KitchenArea.public.is_(True))
    return list(db.session.scalars(query))


def list_cameras(principal: Principal, canteen: Canteen) -> list[Camera]:
    """A canteen's cameras as the caller may see them."""
    query = (select(Camera).join(KitchenArea).where(KitchenArea.canteen_id == canteen.id)
             .options(selectinload(Camera.area)).order_by(Camera.id))
    if sees_only_public(principal, canteen.school):
        query = query.where(KitchenArea.public.is_(True), Camera.enabled.is_(True))
    return list(db.session.scalars(query))


def visible_camera(principal: Principal, camera: Camera) -> Camera:
    """A camera the caller may see; a parent asking for a non-public one is told it does not exist."""
    if sees_only_public(principal, camera.area.canteen.school) and not camera.area.public:
        raise not_found("摄像头")
    return camera


def _check_source(kind: str, url: str | None) -> None:
    """A camera the platform reads has a source URL; one that pushes to the media server needs none."""
    if kind != SourceKind.PUSH and not (url or "").strip():
        raise ApiError(422, "source_url_required", "请填写视频源地址", {"fields": {"source_url": ["请填写视频源地址"]}})


def create_camera(actor: Principal, area: KitchenArea, values: dict[str, Any]) -> Camera:
    """Add a camera to an area; its source and credentials are stored encrypted (a camera that pushes has none)."""
    _check_source(values["source_kind"], values.get("source_url"))
    return _add(actor, Camera(area_id=area.id, **values), AuditAction.CAMERA_CREATE, area.canteen.school_id,
                ("name", "source_kind"))


def update_camera(actor: Principal, camera: Camera, changes: dict[str, Any]) -> Camera:
    """Change a camera's settings; secret changes are audited without their values."""
    if "area_id" in changes:
        area = db.session.get(KitchenArea, changes["area_id"])
        if area is None or area.canteen_id != camera.area.canteen_id:
            raise ApiError(422, "area_not_in_canteen", "目标区域不属于该摄像头所在食堂")
    _check_source(changes.get("source_kind", camera.source_kind), changes.get("source_url", camera.source_url))
    return _save_changes(actor, camera, changes, AuditAction.CAMERA_UPDATE, camera.area.canteen.school_id,
                         CAMERA_SECRET_FIELDS)


# -- the school's classes ----------------------------------------------------------------------------

def school_classes(school_id: int) -> list[SchoolClass]:
    """A school's classes in the order staff gave them."""
    return list(db.session.scalars(select(SchoolClass).where(SchoolClass.school_id == school_id)
                                   .order_by(SchoolClass.position, SchoolClass.id)))


def _class_name_taken(school_id: int, name: str, except_id: int | None = None) -> None:
    query = select(SchoolClass.id).where(SchoolClass.school_id == school_id, SchoolClass.name == name)
    if except_id is not None:
        query = query.where(SchoolClass.id != except_id)
    if db.session.scalar(query) is not None:
        raise ApiError(409, "class_exists", "本校已有同名班级", {"fields": {"name": ["已存在"]}})


def create_class(actor: Principal, school: School, name: str, position: int | None) -> SchoolClass:
    """Add a class to a school's list; without a position it goes last."""
    _class_name_taken(school.id, name)
    if position is None:
        position = (db.session.scalar(select(func.max(SchoolClass.position))
                                      .where(SchoolClass.school_id == school.id)) or 0) + 1
    return _add(actor, SchoolClass(school_id=school.id, name=name, position=position), AuditAction.CLASS_CREATE,
                school.id, ("name", "position"))


def update_class(actor: Principal, school_class: SchoolClass, changes: dict[str, Any]) -> SchoolClass:
    """Rename or move a class; parents bound to it keep it (they follow the rename)."""
    if "name" in changes:
        _class_name_taken(school_class.school_id, changes["name"], school_class.id)
    return _save_changes(actor, school_class, changes, AuditAction.CLASS_UPDATE, school_class.school_id)


def delete_class(actor: Principal, school_class: SchoolClass) -> None:
    """Remove a class no active or pending binding names (refused with 409 otherwise)."""
    in_use = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.school_class_id == school_class.id,
        Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.PENDING])))
    if in_use:
        raise ApiError(409, "class_in_use", "该班级仍有家长绑定或待审核的申请，不能删除", {"bindings": in_use})
    # Decided-against bindings keep their history without the class; invites that named it let parents choose.
    for model in (Membership, Invite):
        db.session.execute(update(model).where(model.school_class_id == school_class.id)
                           .values(school_class_id=None).execution_options(synchronize_session=False))
    record_audit(actor.user_id, AuditAction.CLASS_DELETE, school_id=school_class.school_id,
                 target=("class", school_class.id), details={"name": school_class.name})
    db.session.delete(school_class)
    db.session.commit()
