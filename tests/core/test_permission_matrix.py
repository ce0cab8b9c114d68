"""Every route × every role × own and other school.

The test walks the app's URL map, so a new route without a declared rule fails here, and so does a route
that answers someone its rule does not allow. The expected table is written out literally below: changing
who may do what is a deliberate edit of this file too.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.accounts.models import Invite, Membership, User
from backend.extensions import db
from backend.permissions import (
    FRAMEWORK_PUBLIC_ENDPOINTS,
    REGULATOR_PERMISSIONS,
    ROLE_PERMISSIONS,
    Action,
    rule_of,
)
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School, SchoolClass
from backend.schools.services import create_region, create_school

EXPECTED_ROLE_PERMISSIONS = {
    "school.read": {"parent", "committee", "manager", "staff", "principal"},
    "school.manage": {"staff", "principal"},
    "classes.manage": {"staff", "principal"},
    "camera.read": {"parent", "committee", "manager", "staff", "principal"},
    "camera.manage": {"staff", "principal"},
    "camera.health": {"manager", "staff", "principal"},
    "ledger.read": {"manager", "staff", "principal"},
    "members.read": {"committee", "staff", "principal"},
    "invite.parent": {"committee", "staff", "principal"},
    "invite.staff": {"principal"},
    "approve.parent": {"committee", "staff", "principal"},
    "approve.staff": {"principal"},
    "audit.read": {"principal"},
    "records.read": {"parent", "committee", "manager", "staff", "principal"},
    "records.write": {"manager", "staff", "principal"},
    "records.export": {"manager", "staff", "principal"},
    "staff_health.read": {"manager", "staff", "principal"},
    "records.seal": {"principal"},
    "seals.read": {"manager", "staff", "principal"},
    "records.retention": {"principal"},
    "violation.read": {"committee", "manager", "staff", "principal"},
    "violation.report": {"parent", "committee", "manager", "staff", "principal"},
    "violation.rectify": {"manager", "staff"},
    "violation.review": {"principal"},
    "violation.public": {"parent", "committee", "manager", "staff", "principal"},
    "alarm.review": {"staff", "principal"},
    "notice.settings": {"staff", "principal"},
    "stats.read": {"parent", "committee", "manager", "staff", "principal"},
    "supervision.read": {"staff", "principal"},
    "supervision.issue": set(),
    "supervision.respond": {"principal"},
    "inspect": set(),
    "live.play": {"parent", "committee", "manager", "staff", "principal"},
    "recording.read": {"staff", "principal"},
    "snapshot.take": {"staff", "principal"},
    "live.talk": {"staff", "principal"},
    "patrol": set(),
    "risk.read": {"manager", "staff", "principal"},
    "risk.public": {"parent", "committee", "manager", "staff", "principal"},
    "risk.settings": set(),
    "risk.card_lift": set(),
    "training.export": {"principal"},
    "risk.warnings": {"principal"},
    "risk.warning_ack": set(),
    "parent_meal.read": {"parent", "committee", "manager", "staff", "principal"},
    "parent_meal.join": {"parent", "committee"},
    "parent_meal.manage": {"staff", "principal"},
}
EXPECTED_REGULATOR = {"school.read", "camera.read", "camera.health", "ledger.read", "audit.read", "records.read",
                      "records.export", "staff_health.read",
                      "records.seal", "seals.read", "records.retention",
                      "violation.read", "violation.review", "alarm.review",
                      "violation.public", "stats.read", "supervision.read", "supervision.issue", "inspect",
                      "live.play", "recording.read", "patrol", "live.talk",
                      "risk.read", "risk.public", "risk.settings", "risk.card_lift", "training.export",
                      "risk.warnings", "risk.warning_ack", "parent_meal.read"}

ACTORS = ["anonymous", "parent", "committee", "manager", "staff", "principal", "regulator", "admin"]
DENIED = {401, 403, 404}


def test_the_permission_table_is_the_one_written_here():
    assert {a.value: {r.value for r in roles} for a, roles in ROLE_PERMISSIONS.items()} == EXPECTED_ROLE_PERMISSIONS
    assert {a.value for a in REGULATOR_PERMISSIONS} == EXPECTED_REGULATOR


def test_every_route_declares_a_rule(app):
    missing = [r.endpoint for r in app.url_map.iter_rules()
               if r.endpoint not in FRAMEWORK_PUBLIC_ENDPOINTS and rule_of(app.view_functions[r.endpoint]) is None]
    assert missing == []


@pytest.fixture
def world(demo):
    """Ids of one object of every kind in school 1 (own), school 2 (other) and a school outside the region."""
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    outside = create_school(None, create_region("330200", "宁波市", "city", province), "宁波一小", "primary", None)
    db.session.commit()
    ids = {}
    for key, school_id in (("own", 1), ("other", 2), ("outside", outside.id)):
        canteen = db.session.scalar(sa.select(Canteen).where(Canteen.school_id == school_id))
        if canteen is None:
            canteen = Canteen(school_id=school_id, name="食堂")
            db.session.add(canteen)
            db.session.flush()
            area = KitchenArea(canteen_id=canteen.id, name="热菜区", kind="hot_kitchen", public=True)
            db.session.add(area)
            db.session.flush()
            db.session.add(Camera(area_id=area.id, name="cam", source_kind="rtsp", source_url="rtsp://secret/1"))
        area = db.session.scalar(sa.select(KitchenArea).where(KitchenArea.canteen_id == canteen.id))
        camera = db.session.scalar(sa.select(Camera).where(Camera.area_id == area.id))
        invite = Invite(school_id=school_id, role="parent", scene=f"scene{key}", short_code=f"CODE{key[:4].upper()}",
                        expires_at=_later(), max_uses=100)
        target_user = User(openid=f"target-{key}")
        # A class a pending binding names: the walk's DELETE is refused (409) and leaves it for later routes.
        school_class = SchoolClass(school_id=school_id, name=f"一班{key}")
        db.session.add_all([invite, target_user, school_class])
        db.session.flush()
        membership = Membership(user_id=target_user.id, school_id=school_id, role="parent", status="pending",
                                school_class_id=school_class.id, applicant_name="张伟", relation="father")
        db.session.add(membership)
        db.session.flush()
        ids[key] = {"school_id": school_id, "canteen_id": canteen.id, "area_id": area.id, "camera_id": camera.id,
                    "invite_id": invite.id, "membership_id": membership.id, "user_id": target_user.id,
                    "class_id": school_class.id,
                    "key": "no/such/object.png", "asset": "swagger-ui.css", "path": "overview", "ticket_id": 1}
    db.session.commit()
    from tests.records.matrix_world import add_records_world

    add_records_world(ids)
    from tests.violations.matrix_world import add_violation_world

    add_violation_world(ids)
    from tests.live.matrix_world import add_live_world

    add_live_world(ids)
    from tests.patrols.matrix_world import add_patrol_world

    add_patrol_world(ids)
    from tests.risk.matrix_world import add_risk_world

    add_risk_world(ids)
    from tests.monitoring.matrix_world import add_monitoring_world

    add_monitoring_world(ids)
    from tests.parent_meals.matrix_world import add_parent_meal_world

    add_parent_meal_world(ids)
    return ids


def _later():
    from datetime import timedelta

    from backend.timeutil import utcnow

    return utcnow() + timedelta(days=1)


def _headers(as_user, actor):
    if actor == "anonymous":
        return {}
    openid = {"regulator": "demo-regulator", "admin": "demo-admin"}.get(actor, f"demo-{actor}-1")
    return as_user(openid)


# Scopes that resolve to a region: regulators' own work, which no school role reaches.
REGION_SCOPES = {"region", "spot_check", "inspection"}


def _expected(action, actor, school_key, scope=None):
    """Whether ``actor`` may perform ``action`` on the school of ``school_key`` (None: no school scope)."""
    if action == Action.PUBLIC:
        return True
    if action == Action.SIGNED:
        return False  # the matrix carries no signature, so everyone must be refused
    if actor == "anonymous":
        return False
    if action == Action.AUTHENTICATED or actor == "admin":
        return True
    if action == Action.ADMIN:
        return False
    if actor == "regulator":
        return action.value in EXPECTED_REGULATOR and school_key in ("own", "other")
    if scope in REGION_SCOPES:
        return False
    return school_key == "own" and actor in EXPECTED_ROLE_PERMISSIONS[action.value]


def _routes(app):
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint in FRAMEWORK_PUBLIC_ENDPOINTS:
            continue
        declared = rule_of(app.view_functions[url_rule.endpoint])
        for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
            yield url_rule, method, declared


@pytest.mark.parametrize("actor", ACTORS)
def test_route_matrix(app, client, world, as_user, actor):
    checked = 0
    failures = []
    for url_rule, method, declared in _routes(app):
        scoped = declared.scope is not None
        for school_key in (("own", "other", "outside") if scoped else (None,)):
            values = world[school_key or "own"]
            url = url_rule.build({arg: values[arg] for arg in url_rule.arguments}, append_unknown=False)[1]
            # A fresh session per call: logout routes must not end the actor's later calls.
            response = client.open(url, method=method, json={}, headers=_headers(as_user, actor))
            allowed = _expected(declared.action, actor, school_key, declared.scope)
            checked += 1
            if allowed and response.status_code in (401, 403):
                failures.append(f"{actor} refused {method} {url} ({school_key}): {response.status_code}")
            if not allowed and response.status_code not in DENIED:
                failures.append(f"{actor} was answered {response.status_code} by {method} {url} ({school_key})")
            if response.status_code in DENIED:
                assert set(response.json["error"]) == {"code", "message", "details"}
    assert failures == []
    assert checked >= 40  # the walk really covered the API


def test_no_response_carries_camera_secrets(app, client, world, as_user):
    """Walk every GET as the principal and the admin: no source URL or credential ever leaves the server."""
    camera = db.session.get(Camera, world["own"]["camera_id"])
    camera.source_username, camera.source_password = "cam-user", "cam-pass-123"
    db.session.commit()
    for actor in ("principal", "admin", "parent"):
        for url_rule, method, _ in _routes(app):
            if method != "GET":
                continue
            url = url_rule.build({arg: world["own"][arg] for arg in url_rule.arguments}, append_unknown=False)[1]
            body = client.get(url, headers=_headers(as_user, actor)).get_data()
            for secret in (b"rtsp://", b"vtest", b"cam-pass-123", b"cam-user"):
                assert secret not in body, (actor, url)


def test_school_rows_exist_for_the_matrix(world):
    assert db.session.scalar(sa.select(sa.func.count()).select_from(School)) == 3
