"""A parents' invite may name the child's class: redeeming it binds to that class, and only parents' invites may."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import Invite
from backend.audit.models import AuditLog
from backend.extensions import db
from tests.accounts.test_invites import class_id, create_invite, redeem


def test_an_invite_for_one_class_binds_its_parents_to_that_class(client, demo, as_user):
    created = create_invite(client, as_user("demo-principal-1"), class_id=class_id("一年级二班"), max_uses=5)
    assert created.status_code == 201, created.json
    assert (created.json["class_id"], created.json["child_class"]) == (class_id("一年级二班"), "一年级二班")
    listed = client.get("/api/v1/schools/1/invites", headers=as_user("demo-staff-1")).json
    assert listed[0]["child_class"] == "一年级二班"
    parent = as_user("new-parent")
    lookup = client.post("/api/v1/bindings/lookup", json={"code": created.json["short_code"]}, headers=parent).json
    assert lookup["class_id"] == class_id("一年级二班")
    assert [c["name"] for c in lookup["classes"]] == ["一年级二班"]
    # Another class is refused next to the field; no class at all takes the invite's.
    other = redeem(client, parent, created.json["short_code"], child_class="三年级二班")
    assert other.status_code == 422
    assert other.json["error"]["details"]["fields"]["class_id"] == ["该邀请码只用于一年级二班"]
    bound = client.post("/api/v1/bindings/redeem", headers=parent, json={
        "code": created.json["short_code"], "applicant_name": "赵敏", "relation": "mother"})
    assert bound.status_code == 201, bound.json
    assert bound.json["child_class"] == "一年级二班"
    assert db.session.get(Invite, created.json["id"]).uses == 1
    [audit] = db.session.scalars(sa.select(AuditLog.details).where(AuditLog.action == "invite.create")).all()
    assert audit["class_id"] == class_id("一年级二班")


def test_only_a_parents_invite_names_a_class_of_its_own_school(client, demo, as_user):
    principal = as_user("demo-principal-1")
    staff_invite = create_invite(client, principal, role="manager", class_id=class_id())
    assert staff_invite.status_code == 422
    assert staff_invite.json["error"]["details"]["fields"]["class_id"] == ["只有家长邀请可以指定班级"]
    foreign = create_invite(client, principal, class_id=class_id(school_id=2))
    assert foreign.status_code == 422
    assert foreign.json["error"]["details"]["fields"]["class_id"] == ["不是本校的班级"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invite)) == 0


def test_deleting_the_class_frees_its_invites(client, demo, as_user):
    staff = as_user("demo-staff-1")
    made = client.post("/api/v1/schools/1/classes", json={"name": "临时班"}, headers=staff).json
    invite = create_invite(client, staff, class_id=made["id"]).json
    assert client.delete(f"/api/v1/classes/{made['id']}", headers=staff).status_code == 204
    listed = client.get("/api/v1/schools/1/invites", headers=staff).json
    assert [(i["id"], i["class_id"]) for i in listed] == [(invite["id"], None)]
