"""Binding requests name the applicant, the relation and one of the school's classes; approvers hear of each
request and the applicant of the decision, in the inbox and as WeChat subscribe messages."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.dispatcher import dispatch_due
from backend.notices.models import Notice
from backend.notices.templates import DEV_TEMPLATE_IDS
from backend.timeutil import utcnow
from tests.accounts.test_invites import class_id, create_invite, redeem
from tests.violations.conftest import grant, template_kinds


def _told(subject_id: int, purpose: str) -> set[str]:
    return set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id).where(
        Notice.subject_type == "membership", Notice.subject_id == subject_id, Notice.purpose == purpose)))


def _notice(openid: str, purpose: str) -> Notice:
    return db.session.scalar(sa.select(Notice).join(User, User.id == Notice.user_id)
                             .where(User.openid == openid, Notice.purpose == purpose))


def test_lookup_shows_the_school_role_and_its_classes_before_binding(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1")).json
    newcomer = as_user("newcomer")
    response = client.post("/api/v1/bindings/lookup", json={"code": invite["short_code"].lower()}, headers=newcomer)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["school_id"], body["school_name"], body["role"]) == (1, "西湖实验小学", "parent")
    assert [c["name"] for c in body["classes"]][:3] == ["一年级一班", "一年级二班", "二年级一班"]
    assert {"id": class_id("三年级二班"), "name": "三年级二班"} in body["classes"]
    assert client.post("/api/v1/bindings/lookup", json={"code": "NOSUCH99"}, headers=newcomer).status_code == 404
    client.post(f"/api/v1/invites/{invite['id']}/revoke", headers=as_user("demo-staff-1"))
    revoked = client.post("/api/v1/bindings/lookup", json={"code": invite["scene"]}, headers=newcomer)
    assert (revoked.status_code, revoked.json["error"]["code"]) == (410, "invite_revoked")
    used = create_invite(client, as_user("demo-staff-1"), max_uses=1).json
    assert redeem(client, as_user("first"), used["short_code"]).status_code == 201
    used_up = client.post("/api/v1/bindings/lookup", json={"code": used["short_code"]}, headers=newcomer)
    assert (used_up.status_code, used_up.json["error"]["code"]) == (410, "invite_used_up")


def test_approvers_read_name_relation_and_class(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1")).json
    created = redeem(client, as_user("new-parent"), invite["short_code"], child_class="一年级二班", name="李娜",
                     relation="maternal_grandmother")
    assert created.status_code == 201, created.json
    # Newest first: the new request before the demo seed's waiting parent.
    pending, _seeded = client.get("/api/v1/schools/1/memberships?status=pending",
                                  headers=as_user("demo-committee-1")).json
    assert {k: pending[k] for k in ("applicant_name", "relation", "child_class", "class_id")} == {
        "applicant_name": "李娜", "relation": "maternal_grandmother", "child_class": "一年级二班",
        "class_id": class_id("一年级二班")}
    # The parent's own view (/me) names the class too, and follows a rename by staff.
    staff = as_user("demo-staff-1")
    client.patch(f"/api/v1/classes/{class_id('一年级二班')}", json={"name": "一年级（2）班"}, headers=staff)
    [mine] = client.get("/api/v1/me", headers=as_user("new-parent")).json["memberships"]
    assert mine["child_class"] == "一年级（2）班"


def test_a_parent_request_tells_every_approver_and_the_decision_tells_the_parent(client, demo, as_user):
    invite = create_invite(client, as_user("demo-staff-1"), max_uses=5).json
    membership = redeem(client, as_user("new-parent"), invite["short_code"], name="王芳", relation="mother").json
    assert _told(membership["id"], "binding_requested") == {"demo-staff-1", "demo-committee-1", "demo-principal-1"}
    notice = _notice("demo-committee-1", "binding_requested")
    assert notice.title == "新的绑定申请：王芳（三年级二班，母亲）"
    assert notice.body == "王芳（三年级二班，母亲）申请以家长身份绑定西湖实验小学，请核对后审核。"
    assert notice.page == "pages/accounts/approvals/index" and notice.school_id == 1
    inbox = client.get("/api/v1/inbox", headers=as_user("demo-committee-1")).json
    assert inbox["unread"] == 1 and inbox["items"][0]["subject_type"] == "membership"

    decided = client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": True},
                          headers=as_user("demo-committee-1"))
    assert decided.status_code == 200
    assert _told(membership["id"], "binding_approved") == {"new-parent"}
    approved = _notice("new-parent", "binding_approved")
    assert approved.body.startswith("您绑定西湖实验小学的申请已通过") and approved.page is None

    other = redeem(client, as_user("second-parent"), invite["short_code"]).json
    client.post(f"/api/v1/memberships/{other['id']}/decision", json={"approve": False, "reason": "班级信息不符"},
                headers=as_user("demo-staff-1"))
    rejected = _notice("second-parent", "binding_rejected")
    assert rejected.body == "您绑定西湖实验小学的申请未通过。原因：班级信息不符"
    assert rejected.page == "pages/accounts/bind/index"
    # Asking again after a refusal is a new request: approvers hear of it again.
    again = redeem(client, as_user("second-parent"), invite["short_code"], child_class="三年级一班")
    assert again.status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(
        Notice.subject_id == other["id"], Notice.purpose == "binding_requested")) == 6


def test_a_staff_role_request_tells_the_principal_only(client, demo, as_user):
    invite = create_invite(client, as_user("demo-principal-1"), role="manager").json
    membership = redeem(client, as_user("new-cook"), invite["short_code"], child_class=None, name="赵强").json
    assert _told(membership["id"], "binding_requested") == {"demo-principal-1"}
    assert _notice("demo-principal-1", "binding_requested").title == "新的绑定申请：赵强（食堂负责人）"


def test_binding_notices_go_out_as_subscribe_messages_under_the_same_rules(client, demo, as_user, wechat):
    for openid in ("demo-staff-1", "demo-committee-1", "demo-principal-1", "new-parent"):
        as_user(openid)
        wechat.register_openid(openid)
    wechat.set_templates(template_kinds(), replace=True)
    wechat.set_options(allow_unregistered_templates=False)
    grant("demo-committee-1", "binding")
    invite = create_invite(client, as_user("demo-staff-1")).json
    membership = redeem(client, as_user("new-parent"), invite["short_code"], name="王芳", relation="mother").json
    report = dispatch_due(utcnow(), 10)
    # Only the committee member granted a subscription; the others read it in the inbox.
    assert (report.claimed, report.sent, report.inbox_only) == (3, 1, 2)
    [message] = wechat.messages(touser="demo-committee-1")
    assert message["template_id"] == DEV_TEMPLATE_IDS["binding"]
    notice = _notice("demo-committee-1", "binding_requested")
    assert message["page"] == f"pages/accounts/approvals/index?nid={notice.id}"
    assert message["data"]["thing1"]["value"] == "西湖实验小学"
    assert message["data"]["thing2"]["value"] == "王芳（三年级二班，母亲）"
    assert message["data"]["phrase3"]["value"] == "待审核"
    grant("new-parent", "binding")
    client.post(f"/api/v1/memberships/{membership['id']}/decision", json={"approve": True},
                headers=as_user("demo-committee-1"))
    assert dispatch_due(utcnow(), 10).sent == 1
    [told] = wechat.messages(touser="new-parent")
    assert told["data"]["phrase3"]["value"] == "已通过"
    assert not told.get("page")  # a tap opens the mini-program's home
