"""The school's class list: kept by staff and the principal, read by every member, named by parents' bindings."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from tests.accounts.test_invites import class_id, create_invite, redeem


@pytest.mark.parametrize(("who", "status"), [
    ("demo-staff-1", 201), ("demo-principal-1", 201),
    ("demo-committee-1", 403), ("demo-manager-1", 403), ("demo-parent-1", 403), ("demo-staff-2", 403),
    ("demo-regulator", 403),
])
def test_who_may_add_a_class(client, demo, as_user, who, status):
    response = client.post("/api/v1/schools/1/classes", json={"name": " 七年级一班 "}, headers=as_user(who))
    assert response.status_code == status, response.json
    if status == 201:
        assert response.json["name"] == "七年级一班" and response.json["position"] == 13  # after the 12 demo ones


@pytest.mark.parametrize(("who", "status"), [
    ("demo-parent-1", 200), ("demo-committee-1", 200), ("demo-manager-1", 200), ("demo-regulator", 200),
    ("demo-parent-2", 403),
])
def test_who_may_read_the_class_list(client, demo, as_user, who, status):
    response = client.get("/api/v1/schools/1/classes", headers=as_user(who))
    assert response.status_code == status
    if status == 200:
        assert len(response.json) == 12 and response.json[0]["name"] == "一年级一班"


def test_staff_rename_reorder_and_delete_classes(client, demo, as_user):
    staff = as_user("demo-staff-1")
    created = client.post("/api/v1/schools/1/classes", json={"name": "学前班", "position": 0}, headers=staff).json
    assert client.get("/api/v1/schools/1/classes", headers=staff).json[0]["name"] == "学前班"
    duplicate = client.post("/api/v1/schools/1/classes", json={"name": "学前班"}, headers=staff)
    assert (duplicate.status_code, duplicate.json["error"]["code"]) == (409, "class_exists")
    assert client.post("/api/v1/schools/1/classes", json={"name": "  "}, headers=staff).status_code == 422
    taken = client.patch(f"/api/v1/classes/{created['id']}", json={"name": "一年级一班"}, headers=staff)
    assert taken.status_code == 409
    moved = client.patch(f"/api/v1/classes/{created['id']}", json={"name": "学前一班", "position": 99}, headers=staff)
    assert moved.status_code == 200 and (moved.json["name"], moved.json["position"]) == ("学前一班", 99)
    assert client.get("/api/v1/schools/1/classes", headers=staff).json[-1]["name"] == "学前一班"
    # Another school's staff and the committee may not touch it.
    for outsider in ("demo-staff-2", "demo-committee-1"):
        assert client.patch(f"/api/v1/classes/{created['id']}", json={"name": "x"},
                            headers=as_user(outsider)).status_code == 403
        assert client.delete(f"/api/v1/classes/{created['id']}", headers=as_user(outsider)).status_code == 403
    assert client.delete(f"/api/v1/classes/{created['id']}", headers=staff).status_code == 204
    assert client.delete(f"/api/v1/classes/{created['id']}", headers=staff).status_code == 404
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_type == "class",
                                                                  AuditLog.target_id == created["id"])).all()
    assert actions == ["class.create", "class.update", "class.delete"]


def test_a_class_named_by_a_binding_cannot_be_deleted(client, demo, as_user):
    staff = as_user("demo-staff-1")
    # The demo parent's class: an active binding names it.
    in_use = client.delete(f"/api/v1/classes/{class_id('三年级二班')}", headers=staff)
    assert (in_use.status_code, in_use.json["error"]["code"]) == (409, "class_in_use")
    invite = create_invite(client, staff).json
    pending = redeem(client, as_user("new-parent"), invite["short_code"], child_class="五年级一班").json
    assert client.delete(f"/api/v1/classes/{class_id('五年级一班')}", headers=staff).status_code == 409
    client.post(f"/api/v1/memberships/{pending['id']}/decision", json={"approve": False}, headers=staff)
    # A refused request keeps its history without the class.
    assert client.delete(f"/api/v1/classes/{class_id('五年级一班')}", headers=staff).status_code == 204
    [refused] = client.get("/api/v1/schools/1/memberships?status=rejected", headers=staff).json
    assert (refused["class_id"], refused["child_class"], refused["applicant_name"]) == (None, None, "张伟")
