"""Invites, mini-program codes, redemption and approval of bindings, regulator scopes, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.accounts.models import Invite, Membership
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.schools.models import SchoolClass
from backend.timeutil import utcnow


def create_invite(client, headers, school_id=1, **body):
    return client.post(f"/api/v1/schools/{school_id}/invites", json={"role": "parent", **body}, headers=headers)


def class_id(name="三年级二班", school_id=1):
    """The id of one of the demo school's classes."""
    return db.session.scalar(sa.select(SchoolClass.id).where(SchoolClass.school_id == school_id,
                                                             SchoolClass.name == name))


def redeem(client, headers, code, child_class="三年级二班", name="张伟", relation="father"):
    """Redeem as a parent of a demo class (``child_class=None``: without class and relation, as staff do)."""
    body = {"code": code, "applicant_name": name}
    if child_class is not None:
        body |= {"class_id": class_id(child_class), "relation": relation}
    return client.post("/api/v1/bindings/redeem", json=body, headers=headers)


@pytest.mark.parametrize(("creator", "role", "status"), [
    ("demo-principal-1", "staff", 201),
    ("demo-principal-1", "manager", 201),
    ("demo-principal-1", "parent", 201),
    ("demo-staff-1", "parent", 201),
    ("demo-committee-1", "parent", 201),
    ("demo-staff-1", "staff", 403),
    ("demo-staff-1", "principal", 403),
    ("demo-committee-1", "manager", 403),
    ("demo-manager-1", "parent", 403),
    ("demo-parent-1", "parent", 403),
    ("demo-principal-2", "parent", 403),
])
def test_who_may_create_which_invite(client, demo, as_user, creator, role, status):
    response = create_invite(client, as_user(creator), role=role)
    assert response.status_code == status, response.json


@pytest.mark.parametrize(("reader", "roles"), [
    ("demo-principal-1", ["parent", "manager", "staff"]),
    ("demo-staff-1", ["parent"]),
    ("demo-committee-1", ["parent"]),
    ("demo-manager-1", None),
    ("demo-parent-1", None),
    ("demo-principal-2", None),
])
def test_invite_list_shows_only_invites_the_reader_may_issue(client, demo, as_user, reader, roles):
    """A committee member must never read the code of a manager's invite (and redeem it)."""
    principal = as_user("demo-principal-1")
    for role in ("staff", "manager", "parent"):
        assert create_invite(client, principal, role=role).status_code == 201
    response = client.get("/api/v1/schools/1/invites", headers=as_user(reader))
    if roles is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert [invite["role"] for invite in response.json] == roles
    # What the list shows, the reader may also fetch as a mini-program code and revoke: the same rule.
    for invite in response.json:
        code = client.get(f"/api/v1/invites/{invite['id']}/wxacode?env_version=develop", headers=as_user(reader))
        assert code.status_code == 200
    hidden = db.session.scalars(sa.select(Invite.id).where(Invite.role.not_in(roles))).all()
    for invite_id in hidden:
        assert client.post(f"/api/v1/invites/{invite_id}/revoke", headers=as_user(reader)).status_code == 403


def test_invite_has_random_scene_and_short_code(client, demo, as_user):
    headers = as_user("demo-staff-1")
    first = create_invite(client, headers).json
    second = create_invite(client, headers).json
    assert 1 <= len(first["scene"]) <= 32 and first["scene"] != second["scene"]
    assert len(first["short_code"]) == 8 and first["short_code"] != second["short_code"]
    assert not set(first["short_code"]) & set("01OIL")


def test_invite_mini_program_code_is_a_png_from_wechat(client, demo, as_user, wechat):
    headers = as_user("demo-staff-1")
    invite = create_invite(client, headers).json
    response = client.get(f"/api/v1/invites/{invite['id']}/wxacode?env_version=develop", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    call = wechat.calls("getwxacodeunlimit")[-1]
    assert call["json"]["scene"] == invite["scene"]
    assert call["json"]["page"] == "pages/accounts/bind/index"
    # A parent may not fetch it, nor another school's staff.
    assert client.get(f"/api/v1/invites/{invite['id']}/wxacode", headers=as_user("demo-parent-1")).status_code == 403
    assert client.get(f"/api/v1/invites/{invite['id']}/wxacode", headers=as_user("demo-staff-2")).status_code == 403


def test_parent_binding_flow_typed_code_then_committee_approval(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1"), max_uses=10).json
    parent = as_user("new-parent")
    response = redeem(client, parent, invite["short_code"].lower())
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending" and response.json["child_class"] == "三年级二班"
    # Pending parents see nothing of the school yet.
    assert client.get("/api/v1/schools/1", headers=parent).status_code == 403
    assert client.get("/api/v1/me", headers=parent).json["memberships"][0]["status"] == "pending"
    committee = as_user("demo-committee-1")
    pending = client.get("/api/v1/schools/1/memberships?status=pending", headers=committee).json
    # Newest first, then the demo seed's parent who is still waiting.
    assert [m["applicant_name"] for m in pending] == [response.json["applicant_name"], "王小明妈妈"]
    assert pending[0]["id"] == response.json["id"]
    decision = client.post(f"/api/v1/memberships/{response.json['id']}/decision", json={"approve": True},
                           headers=committee)
    assert decision.status_code == 200 and decision.json["status"] == "active"
    assert client.get("/api/v1/schools/1", headers=parent).status_code == 200
    again = client.post(f"/api/v1/memberships/{response.json['id']}/decision", json={"approve": False},
                        headers=committee)
    assert again.status_code == 409


def test_scanned_scene_redeems_too(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1")).json
    assert redeem(client, as_user("scanner"), invite["scene"]).status_code == 201


def test_parent_must_pick_a_class_of_the_school_and_the_relation(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1")).json
    response = redeem(client, as_user("no-class"), invite["short_code"], child_class=None)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "parent_details_required"
    assert response.json["error"]["details"]["fields"] == {"class_id": ["请选择孩子的班级"],
                                                             "relation": ["请选择您与孩子的关系"]}
    other_school = client.post("/api/v1/bindings/redeem", headers=as_user("no-class"), json={
        "code": invite["short_code"], "applicant_name": "张伟", "relation": "mother",
        "class_id": class_id(school_id=2)})
    assert other_school.status_code == 422
    assert other_school.json["error"]["details"]["fields"] == {"class_id": ["不是本校的班级"]}
    unknown = client.post("/api/v1/bindings/redeem", headers=as_user("no-class"), json={
        "code": invite["short_code"], "applicant_name": "张伟", "relation": "uncle", "class_id": 999999})
    assert unknown.status_code == 422 and set(unknown.json["error"]["details"]["fields"]) == {"relation"}
    nameless = client.post("/api/v1/bindings/redeem", headers=as_user("no-class"), json={
        "code": invite["short_code"], "applicant_name": "   ", "relation": "mother", "class_id": class_id()})
    assert nameless.status_code == 422 and set(nameless.json["error"]["details"]["fields"]) == {"applicant_name"}
    assert db.session.scalar(sa.select(Invite.uses).where(Invite.id == invite["id"])) == 0


def test_staff_binding_is_approved_only_by_the_principal(client, demo, as_user):
    invite = create_invite(client, as_user("demo-principal-1"), role="manager").json
    membership = redeem(client, as_user("new-cook"), invite["short_code"], child_class=None).json
    assert membership["status"] == "pending"
    # Only who decides reads the application: not the parents' committee, not a colleague.
    for reader, sees in (("demo-principal-1", True), ("demo-committee-1", False), ("demo-staff-1", False)):
        listed = client.get("/api/v1/schools/1/memberships?status=pending", headers=as_user(reader)).json
        assert (membership["id"] in [m["id"] for m in listed]) is sees, reader
    for outsider in ("demo-committee-1", "demo-staff-1", "demo-principal-2"):
        response = client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": True},
                               headers=as_user(outsider))
        assert response.status_code == 403, outsider
    response = client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": True},
                           headers=as_user("demo-principal-1"))
    assert response.json["status"] == "active"
    # Once active, the manager is one of the school's staff everyone with the list sees.
    listed = client.get("/api/v1/schools/1/memberships", headers=as_user("demo-committee-1")).json
    assert membership["id"] in [m["id"] for m in listed]


def test_rejected_binding_grants_nothing(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1")).json
    parent = as_user("rejected-parent")
    membership = redeem(client, parent, invite["short_code"]).json
    client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": False, "reason": "非本校家长"},
                headers=as_user("demo-staff-1"))
    assert client.get("/api/v1/schools/1", headers=parent).status_code == 403


def test_invite_uses_are_limited(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1"), max_uses=2).json
    assert redeem(client, as_user("p1"), invite["short_code"]).status_code == 201
    assert redeem(client, as_user("p2"), invite["short_code"]).status_code == 201
    third = redeem(client, as_user("p3"), invite["short_code"])
    assert third.status_code == 410 and third.json["error"]["code"] == "invite_used_up"


def test_expired_revoked_and_unknown_invites(client, demo, as_user):
    headers = as_user("demo-staff-1")
    expired = create_invite(client, headers).json
    db.session.execute(sa.update(Invite).where(Invite.id == expired["id"])
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert redeem(client, as_user("late"), expired["short_code"]).json["error"]["code"] == "invite_expired"
    revoked = create_invite(client, headers).json
    assert client.post(f"/api/v1/invites/{revoked['id']}/revoke", headers=headers).json["revoked"] is True
    assert redeem(client, as_user("late2"), revoked["short_code"]).json["error"]["code"] == "invite_revoked"
    unknown = redeem(client, as_user("late3"), "NOSUCH99")
    assert unknown.status_code == 404 and unknown.json["error"]["code"] == "invite_not_found"


def test_double_redemption_is_refused_while_pending(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1"), max_uses=5).json
    parent = as_user("eager")
    assert redeem(client, parent, invite["short_code"]).status_code == 201
    second = redeem(client, parent, invite["short_code"])
    assert second.status_code == 409 and second.json["error"]["code"] == "binding_pending"


def test_revoked_parent_loses_access(client, demo, as_user):
    parent = as_user("demo-parent-1")
    assert client.get("/api/v1/schools/1", headers=parent).status_code == 200
    membership_id = client.get("/api/v1/me", headers=parent).json["memberships"][0]["id"]
    response = client.post(f"/api/v1/memberships/{membership_id}/revoke", json={"reason": "孩子已转学"},
                           headers=as_user("demo-staff-1"))
    assert response.status_code == 200 and response.json["status"] == "revoked"
    assert client.get("/api/v1/schools/1", headers=parent).status_code == 403


def test_every_grant_and_revoke_is_audited(client, demo, as_user):
    invite = create_invite(client, as_user("demo-principal-1"), role="staff").json
    membership = redeem(client, as_user("new-staff"), invite["short_code"], child_class=None).json
    client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": True},
                headers=as_user("demo-principal-1"))
    client.post(f"/api/v1/memberships/{membership['id']}/revoke", json={"reason": "调岗"},
                headers=as_user("demo-principal-1"))
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_id == membership["id"],
                                                                  AuditLog.target_type == "membership")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["membership.request", "membership.approve", "membership.revoke"]
    audit = client.get("/api/v1/schools/1/audit", headers=as_user("demo-principal-1")).json
    assert audit[0]["action"] == "membership.revoke"
    assert audit[0]["details"]["reason"] == "调岗"
    assert client.get("/api/v1/schools/1/audit", headers=as_user("demo-staff-1")).status_code == 403


def test_grant_regulator_command_scopes_by_region(app, demo, client, as_user):
    from backend.schools.models import Region
    from backend.schools.services import create_region, create_school

    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    other_city = create_region("330200", "宁波市", "city", province)
    create_school(None, other_city, "宁波一小", "primary", None)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grant-regulator", "--openid", "nb-regulator", "--region-code", "330200"])
    assert result.exit_code == 0, result.output
    headers = as_user("nb-regulator")
    names = [s["name"] for s in client.get("/api/v1/schools", headers=headers).json]
    assert names == ["宁波一小"]
    assert client.get("/api/v1/schools/1", headers=headers).status_code == 403
    city_wide = as_user("demo-regulator")  # the demo regulator holds 西湖区 only
    assert {s["name"] for s in client.get("/api/v1/schools", headers=city_wide).json} == {"西湖实验小学", "文三路中学"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "regulator.grant")) == 3  # the demo's two, and this one
    revoke = runner.invoke(args=["grant-regulator", "--openid", "nb-regulator", "--region-code", "330200", "--revoke"])
    assert "revoked" in revoke.output
    assert client.get("/api/v1/schools", headers=headers).json == []
    assert runner.invoke(args=["grant-regulator", "--openid", "x", "--region-code", "999999"]).exit_code != 0


def test_create_admin_command(app, client, as_user):
    result = app.test_cli_runner().invoke(args=["create-admin", "--openid", "ops-1"])
    assert result.exit_code == 0
    assert client.get("/api/v1/me", headers=as_user("ops-1")).json["is_admin"] is True


def test_seed_demo_is_idempotent(app):
    from backend.cli import seed_demo

    seed_demo()
    counts = db.session.scalar(sa.select(sa.func.count()).select_from(Membership))
    seed_demo()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == counts


def test_seed_scale_creates_schools_and_parents(app):
    result = app.test_cli_runner().invoke(args=["seed-scale", "--schools", "3", "--parents-per-school", "5"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)
                             .where(Membership.role == "parent", Membership.status == "active")) == 15


def test_redemption_and_lookup_are_rate_limited_per_user(app_config, demo, as_user):
    from backend import create_app

    client = create_app({**app_config, "RATELIMIT_REDEEM": "2 per hour"}).test_client()
    headers = as_user("guesser")
    for path, body in (("redeem", {"applicant_name": "猜码人"}), ("lookup", {})):
        statuses = [client.post(f"/api/v1/bindings/{path}", json={"code": f"GUESS{i:03d}", **body},
                                headers=headers).status_code for i in range(3)]
        assert statuses == [404, 404, 429], path
    other = as_user("other-guesser")
    assert client.post("/api/v1/bindings/redeem", json={"code": "GUESS999", "applicant_name": "甲"},
                       headers=other).status_code == 404


def test_rate_limits_are_shared_through_redis(app_config, redis_url):
    """Two app processes (gunicorn workers) count against one limit when REDIS_URL is set."""
    import uuid

    import redis

    from backend import create_app

    db_number = redis_url.rsplit("/", 1)[0] + "/9"
    prefix = uuid.uuid4().hex
    config = {**app_config, "RATELIMIT_LOGIN": "3 per minute", "RATELIMIT_STORAGE_URI": db_number,
              "RATELIMIT_KEY_PREFIX": prefix}
    first, second = create_app(config).test_client(), create_app(config).test_client()
    statuses = [c.post("/api/v1/auth/wechat", json={"code": f"shared-{i}"}).status_code
                for i, c in enumerate([first, second, first, second])]
    assert statuses == [200, 200, 200, 429]
    # The counters live in Redis, where every process sees them.
    assert redis.Redis.from_url(db_number).keys(f"*{prefix}*")


def test_the_schools_last_principal_cannot_be_unbound(client, demo, as_user):
    """Without a principal nobody at the school approves staff or reviews a rectification: the last one stays until a
    new one is bound, even against their own click."""
    principal = as_user("demo-principal-1")
    own = next(m for m in client.get("/api/v1/me", headers=principal).json["memberships"] if m["role"] == "principal")
    response = client.post(f"/api/v1/memberships/{own['id']}/revoke", json={"reason": "调离"}, headers=principal)
    assert response.status_code == 409 and response.json["error"]["code"] == "last_principal"
    assert "请先绑定新校长" in response.json["error"]["message"]
    assert client.get("/api/v1/schools/1", headers=principal).status_code == 200  # nothing changed
    # With the new principal bound, the one who left is unbound.
    invite = create_invite(client, principal, role="principal").json
    successor = redeem(client, as_user("new-principal"), invite["short_code"], child_class=None).json
    assert client.post(f"/api/v1/memberships/{successor['id']}/decision", json={"approve": True},
                       headers=principal).status_code == 200
    response = client.post(f"/api/v1/memberships/{own['id']}/revoke", json={"reason": "调离"},
                           headers=as_user("new-principal"))
    assert response.status_code == 200 and response.json["status"] == "revoked"
    assert client.get("/api/v1/schools/1", headers=principal).status_code == 403
