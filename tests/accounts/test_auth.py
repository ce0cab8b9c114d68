"""WeChat login against the fake WeChat server over HTTP, our session tokens, and phone binding."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.accounts.models import AuthSession, User
from backend.extensions import db
from backend.timeutil import utcnow


def login(client, code="code-abc"):
    return client.post("/api/v1/auth/wechat", json={"code": code})


def test_login_round_trip_over_http(client, wechat):
    wechat.register_code("code-abc", openid="o_parent_1", unionid="u_parent_1", session_key="SECRET_SK==")
    response = login(client)
    assert response.status_code == 200, response.json
    body = response.get_data(as_text=True)
    assert "SECRET_SK" not in body and "session_key" not in body
    token = response.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["id"] == response.json["user"]["id"]
    call = wechat.calls("jscode2session")[-1]
    assert call["query"]["js_code"] == "code-abc"
    assert "access_token" not in call["query"]  # jscode2session needs no token; none was fetched
    assert wechat.token_fetch_count() == 0
    user = db.session.scalar(sa.select(User).where(User.openid == "o_parent_1"))
    assert user.unionid == "u_parent_1"
    assert user.session_key == "SECRET_SK=="
    stored = db.session.execute(sa.text("SELECT session_key FROM user_account WHERE openid='o_parent_1'")).scalar()
    assert "SECRET_SK" not in stored  # encrypted at rest
    stored_hash = db.session.scalar(sa.select(AuthSession.token_hash))
    assert token not in stored_hash  # only the hash is stored


def test_second_login_reuses_the_user_and_issues_a_new_token(client, wechat):
    wechat.register_code("c1", openid="o_same")
    wechat.register_code("c2", openid="o_same")
    first, second = login(client, "c1").json, login(client, "c2").json
    assert first["user"]["id"] == second["user"]["id"]
    assert first["token"] != second["token"]


def test_reused_code_is_401(client, wechat):
    assert login(client, "once-only").status_code == 200
    again = login(client, "once-only")
    assert again.status_code == 401
    assert again.json["error"]["code"] == "wechat_code_invalid"


@pytest.mark.parametrize(("errcode", "status", "code"), [
    (40029, 401, "wechat_code_invalid"),
    (40163, 401, "wechat_code_invalid"),
    (45011, 429, "wechat_rate_limited"),
    (40226, 403, "wechat_user_blocked"),
    (-1, 503, "wechat_unavailable"),
])
def test_wechat_errors_map_to_clear_answers(client, wechat, errcode, status, code):
    wechat.inject("jscode2session", errcode)
    response = login(client)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_wechat_timeout_is_503(client, wechat):
    wechat.inject_delay("jscode2session", 3.0)  # the app's timeout is 2 s
    response = login(client)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_unavailable"


def test_wechat_http_5xx_is_503(client, wechat):
    wechat.inject_http_status("jscode2session", 502)
    assert login(client).status_code == 503


def _token(client, wechat, code="tok-code"):
    return login(client, code).json["token"]


def test_forged_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer forged-token-value"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_expired_token_is_401(client, wechat):
    token = _token(client, wechat)
    db.session.execute(sa.update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_logout_revokes_only_that_session(client, wechat):
    wechat.register_code("a", openid="o_two_phones")
    wechat.register_code("b", openid="o_two_phones")
    first, second = _token(client, wechat, "a"), _token(client, wechat, "b")
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {first}"}).status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_logout_all_revokes_every_session(client, wechat):
    wechat.register_code("a", openid="o_lost_phone")
    wechat.register_code("b", openid="o_lost_phone")
    first, second = _token(client, wechat, "a"), _token(client, wechat, "b")
    response = client.post("/api/v1/auth/logout-all", headers={"Authorization": f"Bearer {second}"})
    assert response.json == {"revoked": 2}
    for token in (first, second):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_admin_revokes_another_users_sessions(client, wechat, demo, as_user):
    wechat.register_code("p", openid="demo-parent-1")
    token = _token(client, wechat, "p")
    user_id = db.session.scalar(sa.select(User.id).where(User.openid == "demo-parent-1"))
    response = client.post(f"/api/v1/users/{user_id}/revoke-sessions", headers=as_user("demo-admin"))
    assert response.status_code == 200 and response.json["revoked"] >= 1
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bind_phone_through_getuserphonenumber(client, wechat, demo, as_user):
    wechat.register_phone_code("phone-code", "13800138000")
    headers = as_user("demo-staff-1")
    response = client.post("/api/v1/me/phone", json={"code": "phone-code"}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json == {"phone": "138****8000"}
    assert client.get("/api/v1/me", headers=headers).json["phone_bound"] is True
    assert db.session.scalar(sa.select(User.phone).where(User.openid == "demo-staff-1")) == "13800138000"
    assert wechat.token_fetch_count() == 1


def test_always_40001_costs_at_most_two_token_fetches(client, wechat, demo, as_user):
    wechat.inject("getuserphonenumber", 40001, times=None)
    response = client.post("/api/v1/me/phone", json={"code": "any"}, headers=as_user("demo-staff-1"))
    assert response.status_code == 502
    assert response.json["error"]["details"] == {"errcode": 40001}
    assert wechat.token_fetch_count() <= 2
    assert wechat.call_count("getuserphonenumber") == 2  # one call, one retry, never more


def test_one_expired_token_is_refreshed_once_and_the_call_succeeds(client, wechat, demo, as_user):
    wechat.inject("getuserphonenumber", 42001, times=1)
    response = client.post("/api/v1/me/phone", json={"code": "any"}, headers=as_user("demo-staff-1"))
    assert response.status_code == 200
    assert wechat.token_fetch_count() == 2


def test_access_token_is_shared_between_processes_through_the_database(app, wechat):
    from backend.integrations.wechat import build_gateway

    first, second = build_gateway(app.config, db.engine), build_gateway(app.config, db.engine)
    token = first.access_token()
    assert second.access_token() == token
    assert wechat.token_fetch_count() == 1
    # A refresh after WeChat rejects the token is seen by the other process too.
    refreshed = second.tokens.refresh(second._fetch_token, stale=token)
    assert refreshed != token and first.access_token() == refreshed
    # A stale holder asking to refresh the old token gets the new one without another fetch.
    assert first.tokens.refresh(first._fetch_token, stale=token) == refreshed
    assert wechat.token_fetch_count() == 2


def test_access_token_is_shared_through_redis(app, wechat, redis_url):
    import redis

    from backend.integrations.wechat import build_gateway

    redis.Redis.from_url(redis_url).delete(f"wechat:{app.config['WECHAT_APPID']}:access_token")
    config = {**app.config, "REDIS_URL": redis_url}
    first, second = build_gateway(config, db.engine), build_gateway(config, db.engine)
    token = first.access_token()
    assert second.access_token() == token
    assert wechat.token_fetch_count() == 1
    refreshed = second.tokens.refresh(second._fetch_token, stale=token)
    assert first.tokens.refresh(first._fetch_token, stale=token) == refreshed
    assert wechat.token_fetch_count() == 2


def test_concurrent_refreshes_fetch_once(app, wechat):
    from concurrent.futures import ThreadPoolExecutor

    from backend.integrations.wechat import build_gateway

    gateways = [build_gateway(app.config, db.engine) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda g: g.tokens.refresh(g._fetch_token, stale=None), gateways))
    assert len(set(tokens)) == 1
    assert wechat.token_fetch_count() == 1


def test_login_is_rate_limited(app_config):
    from backend import create_app

    client = create_app({**app_config, "RATELIMIT_LOGIN": "3 per minute"}).test_client()
    statuses = [client.post("/api/v1/auth/wechat", json={"code": f"rl-{i}"}).status_code for i in range(4)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_slow_token_endpoint_times_out_instead_of_hanging(client, wechat, demo, as_user):
    wechat.inject_delay("token", 5.0)
    response = client.post("/api/v1/me/phone", json={"code": "any"}, headers=as_user("demo-staff-1"))
    # Without the 2 s client timeout the fetch would wait out the delay and the call would succeed.
    assert response.status_code == 503
    assert response.json["error"]["code"] == "wechat_unavailable"
