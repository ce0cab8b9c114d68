"""Idempotency-Key on creates; lists with filters and cursor pagination; one school never sees another's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.records.models import IdempotencyKey, RecordEntry
from tests.conftest import using_postgresql
from tests.records.helpers import API, item, today


def _entries():
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecordEntry))


def test_retried_create_returns_the_first_result(manager):
    first = manager.create("suppliers", {"name": "重试供应商"}, key="phone-retry-000001")
    second = manager.create("suppliers", {"name": "重试供应商"}, key="phone-retry-000001")
    assert first.headers["Idempotent-Replayed"] == "false" and second.headers["Idempotent-Replayed"] == "true"
    assert second.status_code == 201 and second.get_json()["id"] == first.get_json()["id"]
    assert _entries() == 1
    # Without the key, the second would have been refused as a duplicate name.
    assert manager.create("suppliers", {"name": "重试供应商"}, expect=409).get_json()["error"]["code"] == \
        "supplier_exists"


def test_retry_of_a_menu_is_not_a_conflict(manager, traced):
    body = {"service_date": today().isoformat(), "meal": "dinner",
            "dishes": [{"name": "米饭", "ingredient_item_ids": [traced["rice"]]}]}
    first = manager.create("menus", body, key="menu-dinner-retry-1")
    again = manager.create("menus", body, key="menu-dinner-retry-1")
    assert again.status_code == 201 and again.get_json()["version_id"] == first.get_json()["version_id"]


def test_key_is_per_user_and_per_request(manager, kit):
    manager.create("suppliers", {"name": "甲"}, key="shared-key-0000001")
    staff = kit("demo-staff-1")
    other = staff.create("suppliers", {"name": "乙"}, key="shared-key-0000001")
    assert other.get_json()["name"] == "乙"
    reused = manager.create("suppliers", {"name": "丙"}, key="shared-key-0000001", expect=422)
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert _entries() == 2


def test_failed_request_does_not_burn_the_key(manager):
    bad = manager.create("suppliers", {"name": "甲", "credit_code": "bad"}, key="fix-and-retry-0001", expect=422)
    assert bad.get_json()["error"]["details"]["fields"]["credit_code"] == ["统一社会信用代码应为 18 位数字或大写字母"]
    assert manager.create("suppliers", {"name": "甲"}, key="fix-and-retry-0001").status_code == 201
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 1


@pytest.mark.parametrize(("key", "code"), [(None, "idempotency_key_required"), ("short", "idempotency_key_invalid"),
                                           ("has space in it!", "idempotency_key_invalid")])
def test_key_is_required_and_checked(manager, key, code):
    headers = dict(manager.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    response = manager.client.post(f"{API}/canteens/1/suppliers", json={"name": "甲"}, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == code


@pytest.mark.skipif(not using_postgresql(), reason="concurrent writers need PostgreSQL's row locks")
def test_concurrent_retries_create_once_and_chain_stays_linear(app, manager):
    client = app.test_client()

    def post(n):
        headers = {**manager.headers, "Idempotency-Key": "concurrent-key-01" if n % 2 else f"distinct-key-{n:04d}"}
        return client.post(f"{API}/canteens/1/suppliers", json={"name": "并发" if n % 2 else f"供应商{n}"},
                           headers=headers).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(post, range(12)))
    assert statuses.count(201) == 12
    assert _entries() == 7
    seqs = db.session.scalars(sa.select(RecordEntry.seq).order_by(RecordEntry.seq)).all()
    assert seqs == list(range(1, 8))
    assert manager.get("/canteens/1/records/verify").get_json()["ok"] is True


def test_cursor_pagination_walks_every_record_once(manager, traced):
    supplier = traced["supplier_id"]
    for n in range(5):
        manager.receiving(supplier, [item(f"原料{n}", batch=f"P{n}", production_date=today() - timedelta(days=9),
                                          shelf_life_days=30)],
                          received_at=manager_time(days_ago=n))
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = manager.get("/canteens/1/receivings", **params).get_json()
        seen += [r["id"] for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 6 and len(set(seen)) == 6
    dates = [r["record_date"] for r in manager.get("/canteens/1/receivings", limit=10).get_json()["items"]]
    assert dates == sorted(dates, reverse=True)
    assert manager.get("/canteens/1/receivings", cursor="!!bad", expect=422).get_json()["error"]["code"] == \
        "cursor_invalid"


def manager_time(days_ago):
    from backend.timeutil import utcnow

    return utcnow() - timedelta(days=days_ago, hours=1)


def test_list_filters(manager, traced):
    supplier = traced["supplier_id"]
    manager.receiving(supplier, [item("鸡蛋", category="egg", batch="EGG-1", storage="ambient",
                                      storage_temperature_c=None, production_date=today() - timedelta(days=5),
                                      shelf_life_days=30)], received_at=manager_time(days_ago=3))
    by_batch = manager.get("/canteens/1/receivings", batch="EGG-1").get_json()["items"]
    assert [r["items"][0]["ingredient"] for r in by_batch] == ["鸡蛋"]
    by_name = manager.get("/canteens/1/receivings", ingredient="猪").get_json()["items"]
    assert [r["id"] for r in by_name] == [traced["receiving"]["id"]]
    recent = manager.get("/canteens/1/receivings", **{"from": today().isoformat()}).get_json()["items"]
    assert [r["id"] for r in recent] == [traced["receiving"]["id"]]
    reversed_range = manager.get("/canteens/1/receivings", **{"from": "2026-02-02", "to": "2026-02-01"}, expect=422)
    assert reversed_range.get_json()["error"]["details"]["fields"]["from"] == ["开始日期不能晚于结束日期"]
    assert [m["meal"] for m in manager.get("/canteens/1/menus", meal="lunch").get_json()["items"]] == ["lunch"]
    assert manager.get("/canteens/1/menus", meal="dinner").get_json()["items"] == []
    assert [s["name"] for s in manager.get("/canteens/1/suppliers", q="绿源").get_json()["items"]] == [
        "杭州绿源蔬菜配送有限公司"]
    assert manager.get("/canteens/1/samples", disposed="true").get_json()["items"] == []


def test_one_school_never_sees_another(kit, traced):
    other_parent, other_manager = kit("demo-parent-2"), kit("demo-manager-2")
    for path in ("/canteens/1/suppliers", "/canteens/1/receivings", "/canteens/1/menus", "/canteens/1/samples",
                 "/canteens/1/records/verify", f"/records/{traced['menu']['id']}", "/schools/1/today"):
        for reader in (other_parent, other_manager):
            assert reader.get(path, expect=403).get_json()["error"]["code"] == "forbidden", path
    assert other_manager.get("/canteens/2/menus").get_json()["items"] == []
    assert other_manager.get("/canteens/1/records/export", expect=403, **{"from": "2026-01-01", "to": "2026-01-31"})
    own_parent = kit("demo-parent-1")
    assert own_parent.get(f"/records/{traced['menu']['id']}").get_json()["id"] == traced["menu"]["id"]
    assert own_parent.get("/canteens/1/records/export", expect=403, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert kit("demo-regulator").get("/canteens/1/menus").get_json()["items"][0]["id"] == traced["menu"]["id"]
