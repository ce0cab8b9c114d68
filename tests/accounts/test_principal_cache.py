"""The per-process cache of principals: reused within its time, never past a commit of this process."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts import principal_cache
from backend.accounts.principal_cache import PrincipalCache
from backend.extensions import db
from backend.permissions import Principal

API = "/api/v1"


def _revoke_elsewhere(token_header: dict[str, str]) -> None:
    """Revoke a session the way another api process would: in the database, with no commit in this process."""
    from backend.accounts.services import hash_token

    token = token_header["Authorization"].removeprefix("Bearer ")
    with db.engine.connect() as conn:
        conn.execute(sa.text("UPDATE auth_session SET revoked_at = CURRENT_TIMESTAMP WHERE token_hash = :h"),
                     {"h": hash_token(token)})
        conn.commit()


def test_a_token_is_read_once_within_the_cache_time_and_a_commit_here_ends_that(app_config, demo, as_user):
    from backend import create_app

    app = create_app({**app_config, "AUTH_CACHE_SECONDS": "60"})
    client = app.test_client()
    with app.app_context():
        headers = as_user("demo-parent-1")
        assert client.get(f"{API}/me", headers=headers).status_code == 200
        _revoke_elsewhere(headers)
        # Another process revoked it: this process may answer from its cache until its time is up...
        assert client.get(f"{API}/me", headers=headers).status_code == 200
        # ...but any commit of this process (here: an unrelated write) makes it read the database again.
        db.session.execute(sa.text("UPDATE school SET name = name WHERE id = 1"))
        db.session.commit()
        assert client.get(f"{API}/me", headers=headers).status_code == 401


def test_logging_out_and_a_new_binding_are_seen_by_the_next_request(app_config, demo, as_user):
    from backend import create_app

    app = create_app({**app_config, "AUTH_CACHE_SECONDS": "60"})
    client = app.test_client()
    with app.app_context():
        staff = as_user("demo-staff-1")
        parent = as_user("cache-new-parent")
        assert client.get(f"{API}/me", headers=parent).json["memberships"] == []
        invite = client.post(f"{API}/schools/1/invites", json={"role": "committee"},
                             headers=as_user("demo-principal-1")).json
        redeemed = client.post(f"{API}/bindings/redeem", headers=parent,
                               json={"code": invite["short_code"], "applicant_name": "缓存测试"})
        assert redeemed.status_code in (200, 201), redeemed.json
        # The redemption committed: the parent's next request reads its new (pending) binding.
        assert [m["status"] for m in client.get(f"{API}/me", headers=parent).json["memberships"]] == ["pending"]
        assert client.get(f"{API}/me", headers=staff).status_code == 200
        assert client.post(f"{API}/auth/logout", headers=staff).status_code in (200, 204)
        assert client.get(f"{API}/me", headers=staff).status_code == 401


def test_without_the_cache_every_request_reads_the_database(app_config, demo, as_user):
    from backend import create_app

    app = create_app({**app_config, "AUTH_CACHE_SECONDS": "0"})
    assert "principal_cache" not in app.extensions
    client = app.test_client()
    with app.app_context():
        headers = as_user("demo-parent-1")
        assert client.get(f"{API}/me", headers=headers).status_code == 200
        _revoke_elsewhere(headers)
        assert client.get(f"{API}/me", headers=headers).status_code == 401


def _principal(user_id: int = 7) -> Principal:
    return Principal.build(user_id, False, "家长", True, (), ())


def test_an_entry_lives_its_time_and_a_read_overtaken_by_a_commit_is_not_kept(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(principal_cache.time, "monotonic", lambda: clock[0])
    cache = PrincipalCache(ttl=1.0)
    cache.put("a", _principal(), cache.commits())
    assert cache.get("a").user_id == 7
    assert cache.get("a") is not cache.get("a")  # a copy per request: no User row shared between sessions
    clock[0] += 0.99
    assert cache.get("a") is not None
    clock[0] += 0.02
    assert cache.get("a") is None
    # A principal read from the database while another thread committed may be stale: it is not kept.
    before = cache.commits()
    principal_cache._Commits.note(None)
    cache.put("b", _principal(8), before)
    assert cache.get("b") is None
