"""用户与会话 (``GET /admin/users``): an admin finds an account by what a school or a caller knows of it and reads who
it is where and how many sessions it holds, then ends them."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import Membership, User
from backend.extensions import db


def _user(openid: str) -> User:
    return db.session.scalar(sa.select(User).where(User.openid == openid))


def _find(client, as_user, q: str, **params) -> list[dict]:
    response = client.get("/api/v1/admin/users", query_string={"q": q, **params}, headers=as_user("demo-admin"))
    assert response.status_code == 200, response.json
    return response.json


def test_an_account_is_found_by_its_name_phone_end_or_number(client, demo, as_user):
    parent = _user("demo-parent-1")
    parent.phone = "13905710123"
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == parent.id))
    membership.applicant_name = "王小明爸爸"
    db.session.commit()
    as_user("demo-parent-1")  # a live session to count
    for q in ("王小明", "0123", str(parent.id)):
        found = [u for u in _find(client, as_user, q) if u["id"] == parent.id]
        assert found, q
    (row,) = [u for u in _find(client, as_user, "王小明爸爸")]
    assert row["phone"] == "139****0123" and row["live_sessions"] >= 1
    (binding,) = row["bindings"]
    assert binding["name"] == "王小明爸爸" and binding["role_label"] == "家长"
    assert binding["status_label"] == "已通过" and binding["school_name"]
    # Three digits are too few to be a phone's end; a LIKE wildcard is a character, not a pattern.
    assert not [u for u in _find(client, as_user, "123") if u["id"] == parent.id]
    assert _find(client, as_user, "%") == [] and _find(client, as_user, "_") == []


def test_a_regulator_is_named_by_the_regions_it_regulates(client, demo, as_user):
    regulator = _user("demo-regulator")
    (row,) = [u for u in _find(client, as_user, str(regulator.id)) if u["id"] == regulator.id]
    assert row["regions"] and row["bindings"] == []


def test_found_then_signed_out_everywhere(client, demo, as_user):
    headers = as_user("demo-parent-1")
    parent = _user("demo-parent-1")
    revoked = client.post(f"/api/v1/users/{parent.id}/revoke-sessions", headers=as_user("demo-admin"))
    assert revoked.status_code == 200 and revoked.json["revoked"] >= 1
    (row,) = [u for u in _find(client, as_user, str(parent.id)) if u["id"] == parent.id]
    assert row["live_sessions"] == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_only_admins_search_and_the_text_is_checked(client, demo, as_user):
    for openid in ("demo-principal-1", "demo-regulator", "demo-parent-1"):
        response = client.get("/api/v1/admin/users", query_string={"q": "王"}, headers=as_user(openid))
        assert response.status_code == 403
    for bad in ({}, {"q": "   "}, {"q": "x" * 65}, {"q": "王", "limit": 51}):
        response = client.get("/api/v1/admin/users", query_string=bad, headers=as_user("demo-admin"))
        assert response.status_code == 422 and response.json["error"]["code"] == "validation_failed", bad
