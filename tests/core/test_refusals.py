"""A 403 says what the caller may not do (and who may), and a binding awaiting approval says so with its own code."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend.accounts.models import Membership, User
from backend.extensions import db
from backend.timeutil import utcnow
from backend.violations.services import raise_violation

API = "/api/v1"


def _refusal(response) -> tuple[int, str, str]:
    error = response.get_json()["error"]
    return response.status_code, error["code"], error["message"]


@pytest.fixture
def violation_id(demo) -> int:
    return raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="refusals:1",
                           occurred_at=utcnow(), camera_id=1).violation.id


def test_each_refusal_names_what_may_not_be_done(client, as_user, violation_id):
    cases = [
        ("demo-manager-1", "POST", f"/violations/{violation_id}/review", {"approve": True}, "只有校长可以审核整改"),
        ("demo-principal-1", "POST", f"/violations/{violation_id}/start", {},
         "只有食堂负责人和学校食品安全管理员可以整改问题"),
        ("demo-parent-1", "GET", f"/violations/{violation_id}", None,
         "只有家委会成员、食堂负责人、学校食品安全管理员和校长可以查看问题详情"),
        ("demo-parent-1", "PATCH", "/cameras/1", {"name": "改名"}, "只有学校食品安全管理员和校长可以管理摄像头"),
        ("demo-committee-1", "GET", "/schools/1/audit", None, "只有校长可以查看操作日志"),
        ("demo-parent-1", "GET", "/schools/2", None, "只有该学校的成员可以查看该学校的信息"),
        ("demo-parent-1", "GET", "/regions/1/violations", None, "只有该地区的监管人员可以开展检查"),
    ]
    for openid, method, path, body, message in cases:
        response = client.open(f"{API}{path}", method=method, json=body, headers=as_user(openid))
        assert _refusal(response) == (403, "forbidden", message), (openid, method, path)


def test_a_service_check_refuses_with_the_same_words(client, as_user, demo):
    # Staff may invite parents (the route's rule) but not staff roles (the service's check on the body).
    response = client.post(f"{API}/schools/1/invites", json={"role": "manager"}, headers=as_user("demo-staff-1"))
    assert _refusal(response) == (403, "forbidden", "只有校长可以邀请教职工和家委会成员")


def test_a_pending_binding_answers_its_own_code(client, as_user, demo):
    headers = as_user("refusals-new-parent")
    user = db.session.scalar(sa.select(User).where(User.openid == "refusals-new-parent"))
    db.session.add(Membership(user_id=user.id, school_id=1, role="parent", status="pending"))
    db.session.commit()
    for path in ("/schools/1", "/schools/1/today", "/canteens/1/areas"):
        response = client.get(f"{API}{path}", headers=headers)
        assert _refusal(response) == (403, "membership_pending", "等待学校审核"), path
        assert response.get_json()["error"]["details"] == {"school_id": 1}
    # Another school, where nothing is pending: the ordinary refusal.
    assert _refusal(client.get(f"{API}/schools/2", headers=headers))[1] == "forbidden"
    # Once approved, the same call answers.
    db.session.execute(sa.update(Membership).where(Membership.user_id == user.id).values(status="active"))
    db.session.commit()
    assert client.get(f"{API}/schools/1", headers=as_user("refusals-new-parent")).status_code == 200


def test_me_answers_what_the_user_may_do(client, as_user, demo):
    principal = client.get(f"{API}/me", headers=as_user("demo-principal-1")).get_json()["capabilities"]
    assert principal["admin"] is False and principal["regulator"] == []
    assert {"violation.review", "invite.staff", "records.write"} <= set(principal["schools"]["1"])
    assert "violation.rectify" not in principal["schools"]["1"]
    parent = client.get(f"{API}/me", headers=as_user("demo-parent-1")).get_json()["capabilities"]
    assert "records.write" not in parent["schools"]["1"] and "violation.read" not in parent["schools"]["1"]
    assert {"records.read", "live.play", "violation.report"} <= set(parent["schools"]["1"])
    assert set(parent["schools"]) == {"1"}
    regulator = client.get(f"{API}/me", headers=as_user("demo-regulator")).get_json()["capabilities"]
    assert regulator["schools"] == {} and {"inspect", "supervision.issue"} <= set(regulator["regulator"])
    assert "records.write" not in regulator["regulator"]
    assert client.get(f"{API}/me", headers=as_user("demo-admin")).get_json()["capabilities"]["admin"] is True
