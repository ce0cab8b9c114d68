"""Every record rule with its boundary values, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.timeutil import SHANGHAI, utcnow
from tests.records.helpers import item, today


def _error(response):
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


# Samples (留样, GB 31654-2021) ------------------------------------------------------------------------
@pytest.mark.parametrize(("weight", "status"), [(124, 422), (124.9, 422), (125, 201), (125.0, 201), (300, 201)])
def test_sample_weight_boundary(manager, traced, weight, status):
    response = manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=30), weight_g=weight,
                              expect=status)
    if status == 422:
        error = _error(response)
        assert error["code"] == "sample_weight_too_low"
        assert error["message"] == "留样重量不得少于 125 克"
        own = {"field": "weight_g", "minimum": 125.0, "value": weight}
        assert error["details"] == {**own, "errors": [{"code": "sample_weight_too_low",
                                                       "message": "留样重量不得少于 125 克", **own}]}
    else:
        assert response.get_json()["weight_g"] == weight


@pytest.mark.parametrize(("fridge", "status"), [(-0.1, 422), (0, 201), (8, 201), (8.1, 422)])
def test_sample_fridge_temperature_boundary(manager, traced, fridge, status):
    response = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=30), fridge=fridge, expect=status)
    if status == 422:
        assert _error(response)["code"] == "sample_fridge_temperature_out_of_range"


def test_unsealed_sample_is_refused(manager, traced):
    response = manager.create("samples", {"dish_id": traced["dishes"]["米饭"], "weight_g": 150,
                                          "sampled_at": utcnow(), "sealed": False, "fridge_temperature_c": 4,
                                          "sampler_name": "吴阿姨", "photo_upload_ids": [manager.photo()]}, expect=422)
    assert _error(response)["code"] == "sample_not_sealed"


def test_sample_keeps_until_48_hours_and_a_dish_is_sampled_once(manager, traced):
    sampled_at = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    body = manager.sample(traced["dishes"]["米饭"], sampled_at).get_json()
    assert body["keep_until"] == (sampled_at + timedelta(hours=48)).astimezone(SHANGHAI).isoformat()
    assert body["dish_name"] == "米饭" and body["meal"] == "lunch" and body["menu_id"] == traced["menu"]["id"]
    again = manager.sample(traced["dishes"]["米饭"], sampled_at, expect=409)
    assert _error(again)["code"] == "sample_exists"
    assert _error(again)["details"]["record_id"] == body["id"]


def test_sample_of_a_dish_not_on_a_current_menu_is_refused(manager, traced):
    response = manager.sample(99999, utcnow(), expect=422)
    assert _error(response)["code"] == "dish_not_found"


def test_sample_time_in_the_future_is_refused(manager, traced):
    response = manager.sample(traced["dishes"]["米饭"], utcnow() + timedelta(minutes=10), expect=422)
    assert _error(response)["code"] == "time_in_future"


@pytest.mark.parametrize(("after", "status"), [(timedelta(hours=47, minutes=59), 422),
                                               (timedelta(hours=47, minutes=59, seconds=59), 422),
                                               (timedelta(hours=48), 201)])
def test_disposal_boundary_at_48_hours(manager, traced, after, status):
    sampled_at = utcnow().replace(microsecond=0) - timedelta(hours=48, minutes=1)
    sample = manager.sample(traced["dishes"]["红烧肉"], sampled_at).get_json()
    response = manager.create("sample-disposals", {"sample_id": sample["id"], "disposed_at": sampled_at + after,
                                                   "disposer_name": "吴阿姨"}, expect=status)
    if status == 422:
        error = _error(response)
        assert error["code"] == "sample_retention_too_short"
        assert error["details"]["keep_until"] == sample["keep_until"]
    else:
        listed = manager.get("/canteens/1/samples").get_json()["items"][0]
        assert listed["disposal"]["id"] == response.get_json()["id"]
        twice = manager.create("sample-disposals", {"sample_id": sample["id"], "disposer_name": "吴阿姨"}, expect=409)
        assert _error(twice)["code"] == "sample_already_disposed"


def test_disposal_defaults_to_now_and_is_refused_before_48_hours(manager, traced):
    sample = manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(hours=2)).get_json()
    response = manager.create("sample-disposals", {"sample_id": sample["id"], "disposer_name": "吴阿姨"}, expect=422)
    assert _error(response)["code"] == "sample_retention_too_short"


def test_a_sample_breaking_three_rules_is_told_all_three(manager, traced):
    response = manager.create("samples", {"dish_id": traced["dishes"]["米饭"], "weight_g": 100,
                                          "sampled_at": utcnow(), "sealed": False, "fridge_temperature_c": 12,
                                          "sampler_name": "吴阿姨", "photo_upload_ids": [manager.photo()]}, expect=422)
    error = _error(response)
    # The first broken rule is the error; every broken rule is listed, each with its code, message and field.
    assert (error["code"], error["message"]) == ("sample_weight_too_low", "留样重量不得少于 125 克")
    listed = [(e["code"], e["field"]) for e in error["details"]["errors"]]
    assert listed == [("sample_weight_too_low", "weight_g"),
                      ("sample_fridge_temperature_out_of_range", "fridge_temperature_c"),
                      ("sample_not_sealed", "sealed")]
    assert [e["message"] for e in error["details"]["errors"]] == [
        "留样重量不得少于 125 克", "留样冰箱温度应在 0–8°C 之间", "留样须密封保存"]
    assert error["details"]["field"] == "weight_g"  # the first rule's own details stay where they were
    assert manager.get(f"/canteens/{manager.canteen_id}/samples").get_json()["items"] == []


def test_a_disinfection_breaking_three_rules_is_told_all_three(manager):
    response = manager.disinfection(today(), "lunch", method="ultraviolet", minutes=5, item_count=None,
                                    performed_at=utcnow() + timedelta(hours=2), expect=422)
    error = _error(response)
    assert error["code"] == "method_not_for_target"
    assert [(e["code"], e["field"]) for e in error["details"]["errors"]] == [
        ("method_not_for_target", "method"), ("disinfection_insufficient", "minutes"),
        ("time_in_future", "performed_at"), ("item_count_required", "item_count")]


def test_every_bad_line_of_a_delivery_is_named(manager):
    supplier = manager.supplier()
    expired = item("酸奶", category="dairy", production_date=today() - timedelta(days=10), shelf_life_days=10)
    warm = item("冻鸡腿", category="meat", storage="frozen", storage_temperature_c=-2)
    response = manager.receiving(supplier, [expired, item("猪肉"), warm], expect=422)
    errors = _error(response)["details"]["errors"]
    assert [(e["code"], e["line"], e["field"]) for e in errors] == [("item_expired", 1, "items"),
                                                                    ("cold_chain_broken", 3, "items")]


# Receiving (索证索票) -----------------------------------------------------------------------------------
def test_item_already_past_expiry_is_refused(manager):
    supplier = manager.supplier()
    expired = item("酸奶", category="dairy", production_date=today() - timedelta(days=10), shelf_life_days=10)
    response = manager.receiving(supplier, [item("猪肉"), expired], expect=422)
    error = _error(response)
    assert error["code"] == "item_expired"
    assert error["message"] == f"「酸奶」已过保质期（{(today() - timedelta(days=1)).isoformat()}），不得验收"
    yesterday = (today() - timedelta(days=1)).isoformat()
    own = {"line": 2, "ingredient": "酸奶", "expiry_date": yesterday}
    assert error["details"] == {**own, "errors": [{"code": "item_expired", "message": error["message"],
                                                   "field": "items", **own}]}


def test_item_on_its_last_day_is_accepted_and_expiry_is_computed(manager):
    supplier = manager.supplier()
    last_day = item("酸奶", category="dairy", production_date=today() - timedelta(days=9), shelf_life_days=10)
    body = manager.receiving(supplier, [last_day]).get_json()
    assert body["items"][0]["expiry_date"] == today().isoformat()


def test_printed_expiry_date_is_used_and_checked(manager):
    supplier = manager.supplier()
    printed = item("面粉", category="grain", production_date=None, shelf_life_days=None,
                   expiry_date=today() - timedelta(days=1), storage="ambient", storage_temperature_c=None)
    assert _error(manager.receiving(supplier, [printed], expect=422))["code"] == "item_expired"
    mismatch = item("牛奶", category="dairy", production_date=today(), shelf_life_days=7,
                    expiry_date=today() + timedelta(days=30))
    assert _error(manager.receiving(supplier, [mismatch], expect=422))["code"] == "expiry_mismatch"


def test_packaged_goods_need_a_shelf_life_but_fresh_produce_does_not(manager):
    supplier = manager.supplier()
    no_date = item("猪肉", production_date=None, shelf_life_days=None)
    assert _error(manager.receiving(supplier, [no_date], expect=422))["code"] == "shelf_life_required"
    greens = item("青菜", category="vegetable", production_date=None, shelf_life_days=None, storage="ambient",
                  storage_temperature_c=None)
    assert manager.receiving(supplier, [greens]).get_json()["items"][0]["expiry_date"] is None


@pytest.mark.parametrize(("storage", "temperature", "status"), [
    ("chilled", 8.0, 201), ("chilled", 8.1, 422), ("frozen", -12.0, 201), ("frozen", -11.9, 422),
    ("chilled", None, 422)])
def test_cold_chain_on_arrival(manager, storage, temperature, status):
    supplier = manager.supplier()
    response = manager.receiving(supplier, [item(storage=storage, storage_temperature_c=temperature)], expect=status)
    if status == 422:
        assert _error(response)["code"] == ("storage_temperature_required" if temperature is None
                                            else "cold_chain_broken")


def test_production_date_after_delivery_and_future_delivery_are_refused(manager):
    supplier = manager.supplier()
    later = item(production_date=today() + timedelta(days=1))
    assert _error(manager.receiving(supplier, [later], expect=422))["code"] == "production_date_in_future"
    future = manager.receiving(supplier, [item()], received_at=utcnow() + timedelta(hours=1), expect=422)
    assert _error(future)["code"] == "time_in_future"


def test_receiving_needs_a_supplier_of_this_canteen(manager, kit):
    other_supplier = kit("demo-manager-2", canteen_id=2).supplier("文三路供应商")
    response = manager.receiving(other_supplier, [item()], expect=422)
    assert _error(response)["code"] == "supplier_not_found"


# Menus ---------------------------------------------------------------------------------------------
def test_menu_links_only_items_of_this_canteen_received_by_that_day(manager, traced, kit):
    other = kit("demo-manager-2", canteen_id=2)
    foreign = other.receiving(other.supplier("文三路供应商"), [item()]).get_json()["items"][0]["item_id"]
    response = manager.menu(today() + timedelta(days=1), "lunch", [("红烧肉", [foreign])], expect=422)
    assert _error(response)["code"] == "ingredient_not_found"
    before = manager.menu(today() - timedelta(days=1), "lunch", [("红烧肉", [traced["pork"]])], expect=422)
    assert _error(before)["code"] == "ingredient_not_found"


def test_menu_with_an_ingredient_expired_on_the_day_is_refused(manager, traced):
    # The pork (produced yesterday, 3 days) may be used until tomorrow, not the day after.
    manager.menu(today() + timedelta(days=1), "dinner", [("红烧肉", [traced["pork"]])])
    response = manager.menu(today() + timedelta(days=2), "dinner", [("红烧肉", [traced["pork"]])], expect=422)
    error = _error(response)
    assert error["code"] == "ingredient_expired"
    assert error["details"]["item_id"] == traced["pork"]


def test_one_menu_per_meal_and_distinct_dishes(manager, traced):
    again = manager.menu(today(), "lunch", [("米饭", [traced["rice"]])], expect=409)
    assert _error(again)["code"] == "menu_exists"
    assert _error(again)["details"]["record_id"] == traced["menu"]["id"]
    twice = manager.menu(today(), "dinner", [("米饭", [traced["rice"]]), ("米饭", [traced["rice"]])], expect=422)
    assert _error(twice)["code"] == "duplicate_dish"
    bare = manager.create("menus", {"service_date": today(), "meal": "dinner",
                                    "dishes": [{"name": "米饭", "ingredient_item_ids": []}]}, expect=422)
    assert _error(bare)["code"] == "validation_failed"


# Disinfection ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("overrides", "code"), [
    ({"method": "steam", "temperature_c": 99.9, "minutes": 15}, "disinfection_insufficient"),
    ({"method": "steam", "temperature_c": 100, "minutes": 9.5}, "disinfection_insufficient"),
    ({"method": "infrared", "temperature_c": 119, "minutes": 15}, "disinfection_insufficient"),
    ({"method": "chemical", "temperature_c": None, "minutes": 5, "concentration_mg_l": 249},
     "disinfection_insufficient"),
    ({"method": "chemical", "temperature_c": None, "minutes": 5}, "disinfection_field_required"),
    ({"method": "ultraviolet", "minutes": 60}, "method_not_for_target"),
    ({"item_count": None}, "item_count_required"),
])
def test_disinfection_below_its_method_minimum_is_refused(manager, overrides, code):
    response = manager.disinfection(today(), "lunch", expect=422, **overrides)
    assert _error(response)["code"] == code


@pytest.mark.parametrize("overrides", [
    {"method": "steam", "temperature_c": 100, "minutes": 10},
    {"method": "infrared", "temperature_c": 120, "minutes": 10},
    {"method": "dishwasher", "temperature_c": 85, "minutes": 1},
    {"method": "chemical", "temperature_c": None, "minutes": 5, "concentration_mg_l": 250},
    {"target": "area", "area_id": 1, "method": "ultraviolet", "temperature_c": None, "minutes": 30,
     "item_count": None},
])
def test_disinfection_at_its_method_minimum_is_accepted(manager, overrides):
    body = manager.disinfection(today(), "lunch", **overrides).get_json()
    assert body["method"] == overrides["method"]
    if overrides.get("area_id"):
        assert body["target_name"] == "热菜烹饪区"


def test_disinfection_area_must_belong_to_the_canteen(manager):
    response = manager.disinfection(today(), "lunch", target="area", area_id=4, method="ultraviolet",
                                    temperature_c=None, minutes=30, item_count=None, expect=422)
    assert _error(response)["code"] == "area_not_found"


def test_disinfection_needs_a_photo(manager):
    response = manager.disinfection(today(), "lunch", photo_upload_ids=[], expect=422)
    assert _error(response)["details"]["fields"]["photo_upload_ids"] == ["长度应在 1 到 5 之间"]


# Accompanied meals, certificates ------------------------------------------------------------------------
def test_accompanied_meal(manager):
    body = manager.create("accompanied-meals", {"service_date": today(), "meal": "lunch", "companion_name": "李家长",
                                                "companion_role": "parent", "rating": 4,
                                                "remarks": "咸淡适中"}).get_json()
    assert (body["companion_role_label"], body["rating"], body["remarks"]) == ("家长代表", 4, "咸淡适中")
    bad = manager.create("accompanied-meals", {"service_date": today(), "meal": "lunch", "companion_name": "李",
                                               "companion_role": "parent", "rating": 6}, expect=422)
    assert _error(bad)["details"]["fields"]["rating"] == ["应在 1 到 5 之间"]


@pytest.mark.parametrize(("days", "status"), [(-1, "expired"), (0, "expiring"), (30, "expiring"), (31, "valid")])
def test_certificate_expiring_within_30_days_is_flagged(manager, days, status):
    supplier = manager.supplier()
    body = manager.certificate(supplier, today() + timedelta(days=days)).get_json()
    assert body["status"] == status
    listed = manager.get("/canteens/1/certificates", status=status).get_json()["items"]
    assert [c["id"] for c in listed] == [body["id"]]
    supplier_row = manager.get("/canteens/1/suppliers").get_json()["items"][0]
    assert supplier_row["certificates"][0]["status"] == status


def test_attachments_must_be_uploads_of_this_canteen_and_of_the_right_type(manager, kit):
    supplier = manager.supplier()
    foreign = kit("demo-manager-2", canteen_id=2).photo()
    response = manager.create("certificates", {"supplier_id": supplier, "kind": "business_licence", "number": "1",
                                               "valid_until": today(), "scan_upload_ids": [foreign]}, expect=422)
    assert _error(response)["code"] == "upload_not_found"
    from tests.records.helpers import pdf

    document = manager.upload(pdf(), "x.pdf").get_json()["id"]
    response = manager.disinfection(today(), "lunch", photo_upload_ids=[document], expect=422)
    assert _error(response)["code"] == "upload_type_not_allowed"


def test_writes_are_refused_to_readers_and_other_schools(kit, traced):
    parent = kit("demo-parent-1")
    response = parent.create("suppliers", {"name": "X"}, expect=403)
    assert _error(response)["code"] == "forbidden"
    other_manager = kit("demo-manager-2")  # canteen 1 belongs to school 1
    assert other_manager.create("suppliers", {"name": "X"}, expect=403).status_code == 403
    regulator = kit("demo-regulator")
    assert regulator.create("suppliers", {"name": "X"}, expect=403).status_code == 403
