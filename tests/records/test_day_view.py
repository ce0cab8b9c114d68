"""The day view: dish → ingredient → batch → supplier → certificate, statuses per meal, completeness, and a
constant number of SQL statements."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.extensions import db
from backend.records.day import day_overview
from backend.schools.models import School
from backend.timeutil import utcnow
from tests.records.helpers import at, item, today


def _meal(view, meal, canteen=0):
    return next(m for m in view["canteens"][canteen]["meals"] if m["meal"] == meal)


def test_parent_follows_dish_to_certificate(kit, traced):
    parent = kit("demo-parent-1")
    view = parent.get("/schools/1/today").get_json()
    assert view["school_id"] == 1 and view["date"] == today().isoformat()
    lunch = _meal(view, "lunch")
    dish = lunch["menu"]["dishes"][0]
    assert dish["name"] == "红烧肉" and dish["traceable"] is True
    pork = dish["ingredients"][0]
    assert (pork["ingredient"], pork["batch"], pork["category_label"], pork["storage_label"]) == (
        "猪肉", "ZR-0301", "畜肉", "冷藏")
    assert pork["expiry_date"] == (today() + timedelta(days=1)).isoformat()
    receiving = view["receivings"][str(pork["receiving_id"])]
    assert receiving["id"] == traced["receiving"]["id"] and receiving["receiver_name"] == "周师傅"
    assert receiving["files"]["invoice"][0]["content_type"] == "application/pdf"
    assert pork["supplier_id"] == receiving["supplier_id"] == traced["supplier_id"]
    supplier = view["suppliers"][str(pork["supplier_id"])]
    assert (supplier["id"], supplier["name"], supplier["certificate_status"]) == (
        traced["supplier_id"], "杭州绿源蔬菜配送有限公司", "valid")
    certificate = supplier["certificates"][0]
    assert (certificate["kind_label"], certificate["number"], certificate["status"]) == ("食品经营许可证",
                                                                                         "JY13301060001", "valid")
    scan = certificate["files"]["scan"][0]
    assert parent.client.get(scan["url"]).status_code == 200  # the signed URL opens the scan


def test_other_schools_parent_cannot_read(kit, traced):
    response = kit("demo-parent-2").get("/schools/1/today", expect=403)
    assert response.get_json()["error"]["code"] == "forbidden"
    own = kit("demo-parent-2").get("/schools/2/today").get_json()
    assert own["school_id"] == 2 and all(m["menu"] is None for m in own["canteens"][0]["meals"])


def test_statuses_before_and_after_the_deadlines(manager, traced):
    school = db.session.get(School, 1)
    day = today()
    before = day_overview(school, day, at(day, "12:00"))
    lunch = _meal(before, "lunch")
    assert lunch["samples"] == {"status": "pending", "status_label": "待完成", "required": 2, "taken": 0,
                                "missing_dishes": ["红烧肉", "米饭"], "deadline": lunch["window"]["end"]}
    assert lunch["disinfection"]["status"] == "pending" and lunch["complete"] is False
    late = day_overview(school, day, at(day, "23:00"))
    assert _meal(late, "lunch")["samples"]["status"] == "missing"
    assert _meal(late, "lunch")["disinfection"]["status"] == "missing"
    manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=1))
    partly = _meal(day_overview(school, day, at(day, "23:00")), "lunch")
    assert (partly["samples"]["taken"], partly["samples"]["missing_dishes"]) == (1, ["米饭"])
    assert partly["menu"]["dishes"][0]["sample"]["weight_g"] == 150
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1))
    manager.disinfection(day, "lunch")
    done = day_overview(school, day, at(day, "23:00"))
    lunch = _meal(done, "lunch")
    assert lunch["samples"]["status"] == "done" and lunch["disinfection"]["status"] == "done"
    assert lunch["disinfection"]["records"][0]["method_label"] == "蒸汽消毒"
    assert lunch["complete"] is True
    meals = done["canteens"][0]["meals"]
    assert done["canteens"][0]["completeness"] == {
        "meals": len(meals), "complete": 1, "percent": round(100 / len(meals))}


def test_expired_certificate_makes_a_dish_untraceable(manager, traced):
    manager.certificate(traced["supplier_id"], today() - timedelta(days=1), kind="business_licence")
    view = manager.get("/schools/1/today").get_json()
    dish = _meal(view, "lunch")["menu"]["dishes"][0]
    assert dish["traceable"] is False
    assert dish["ingredients"][0]["certificate_status"] == "expired"
    assert view["suppliers"][str(traced["supplier_id"])]["certificate_status"] == "expired"


def test_any_date_and_a_bad_date(manager, traced):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    view = manager.get(f"/schools/1/days/{tomorrow}").get_json()
    assert view["date"] == tomorrow and all(m["menu"] is None for m in view["canteens"][0]["meals"])
    assert manager.get("/schools/1/days/2026-02-30", expect=422).get_json()["error"]["code"] == "date_invalid"


@contextmanager
def _count_statements():
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    # On every engine: the day view reads its school snapshot on the autocommit pool.
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", listener)


def _big_day(manager, traced):
    """Three meals, eight dishes each, ingredients from four suppliers with two certificates each."""
    item_ids = [traced["pork"], traced["rice"]]
    for n in range(4):
        supplier = manager.supplier(f"供应商{n}")
        manager.certificate(supplier, today() + timedelta(days=100))
        manager.certificate(supplier, today() + timedelta(days=10), kind="business_licence")
        body = manager.receiving(supplier, [item(f"原料{n}-{k}", batch=f"B{n}{k}") for k in range(3)]).get_json()
        item_ids += [i["item_id"] for i in body["items"]]
    for meal in ("breakfast", "dinner", "snack"):
        menu = manager.menu(today(), meal, [(f"{meal}菜{d}", item_ids[d % 7: d % 7 + 5]) for d in range(8)]).get_json()
        for dish in menu["dishes"][:5]:
            manager.sample(dish["dish_id"], utcnow() - timedelta(minutes=1))
        manager.disinfection(today(), meal)
    manager.create("accompanied-meals", {"service_date": today(), "meal": "dinner", "companion_name": "张校长",
                                         "companion_role": "school_leader", "rating": 5,
                                         "photo_upload_ids": [manager.photo()]})


def test_today_runs_a_constant_number_of_statements(kit, manager, traced, monkeypatch):
    monkeypatch.setattr("backend.records.day.SNAPSHOT_MAX_AGE_SECONDS", 0)  # always read the school afresh
    parent = kit("demo-parent-1")
    with _count_statements() as small:
        small_view = parent.get("/schools/1/today").get_json()
    _big_day(manager, traced)
    with _count_statements() as big:
        big_view = parent.get("/schools/1/today").get_json()
    dishes = sum(len(m["menu"]["dishes"]) for m in big_view["canteens"][0]["meals"] if m["menu"])
    ingredients = sum(len(d["ingredients"]) for m in big_view["canteens"][0]["meals"] if m["menu"]
                      for d in m["menu"]["dishes"])
    assert dishes == 26 and ingredients > 100
    assert sum(len(m["menu"]["dishes"]) for m in small_view["canteens"][0]["meals"] if m["menu"]) == 2
    assert len(big) == len(small), "\n".join(big)
    assert len(small) <= 20


def test_repeated_reads_are_served_from_cache_until_a_record_changes(kit, manager, traced, monkeypatch):
    parent = kit("demo-parent-1")
    with _count_statements() as cold:
        first = parent.get("/schools/1/today").get_json()
    with _count_statements() as warm:
        second = parent.get("/schools/1/today").get_json()
    assert second == first and len(warm) < len(cold)
    manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=1))  # a write moves the chain head
    # The writer sees it at once; a parent within the snapshot's second may still see the previous view.
    assert _meal(manager.get("/schools/1/today").get_json(), "lunch")["samples"]["taken"] == 1
    assert _meal(first, "lunch")["samples"]["taken"] == 0
    monkeypatch.setattr("backend.records.day.SNAPSHOT_MAX_AGE_SECONDS", 0)
    assert _meal(parent.get("/schools/1/today").get_json(), "lunch")["samples"]["taken"] == 1
    # A change behind the application's back to the school or canteen windows is picked up too.
    db.session.get(School, 1).name = "西湖实验小学（新校区）"
    db.session.commit()
    assert parent.get("/schools/1/today").get_json()["school_name"] == "西湖实验小学（新校区）"


def test_readers_snapshot_is_reused_for_at_most_a_second(app, monkeypatch):
    from backend.records import day

    calls = []
    monkeypatch.setattr(day, "load_school_snapshot", lambda school_id: calls.append(school_id) or f"snap{len(calls)}")
    clock = [100.0]
    monkeypatch.setattr(day.time, "monotonic", lambda: clock[0])
    cache = day.SnapshotCache()
    assert cache.get(1, 1.0) == "snap1"
    clock[0] += 0.99
    assert cache.get(1, 1.0) == "snap1" and calls == [1]
    clock[0] += 0.02
    assert cache.get(1, 1.0) == "snap2"
    assert cache.get(1, 0) == "snap3" and calls == [1, 1, 1]  # writers always read afresh


def test_cache_expires_before_a_deadline_changes_a_status():
    from backend.records.day import DayCache, _next_status_change
    from backend.schools.models import Canteen

    canteen = Canteen(id=1, school_id=1, name="食堂", meal_windows=[
        {"weekday": today().weekday(), "meal": "lunch", "start": "11:30", "end": "12:30"}])
    seconds = _next_status_change([canteen], today(), at(today(), "12:29"))
    assert seconds == 60  # the lunch samples are due at 12:30
    cache = DayCache(max_entries=2)
    cache.put((1, today()), ("v1",), b"a", 60)
    assert cache.get((1, today()), ("v1",)) == b"a" and cache.get((1, today()), ("v2",)) is None
    cache.put((2, today()), ("v1",), b"b", 0)
    assert cache.get((2, today()), ("v1",)) is None
    cache.put((3, today()), ("v",), b"c", 60)
    cache.put((4, today()), ("v",), b"d", 60)
    assert cache.get((1, today()), ("v1",)) is None  # least recently used dropped


def test_gzip_for_clients_that_accept_it(kit, traced):
    import gzip
    import json

    parent = kit("demo-parent-1")
    plain = parent.get("/schools/1/today")
    zipped = parent.client.get("/api/v1/schools/1/today",
                               headers={**parent.headers, "Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()
    assert len(zipped.data) < len(plain.data) / 2
