"""The mini-program's API fixtures come from the real API on the demo seed, and must not drift.

Every scenario makes a request the mini-program makes, as the kind of user who makes it, at a frozen
instant (Wednesday 2026-03-11, 10:00 in Shanghai, inside the demo's live window; 14:00 for the closed
window). The answers are normalised (session tokens, random invite codes) and compared with
``miniprogram/test/fixtures/*.json``; the jest tests answer ``wx.request`` with those files.

After an intended API change: ``UPDATE_CONTRACT=1 .venv/bin/python -m pytest tests/contract`` rewrites
the fixtures; then run the mini-program tests (``cd miniprogram && npx jest``) and fix what they show.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.contract import recorder as rec_module
from tests.contract.channel_scenarios import record_channels
from tests.contract.recorder import Recorder, compare
from tests.contract.register_scenarios import record_staff_register, record_supplier_register
from tests.contract.regulator_scenarios import record_orders, record_regulators, record_seals
from tests.contract.risk_scenarios import record_risk
from tests.records.helpers import pdf

MORNING = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)      # 10:00 Asia/Shanghai, a Wednesday
AFTERNOON = datetime(2026, 3, 11, 6, 0, tzinfo=UTC)    # 14:00 Asia/Shanghai: between live windows
API = "/api/v1"

INVITE_SHORT_CODE = "K7M3Q9XP"
INVITE_SCENE = "inviteScene0000000000001"
CONSOLE_SCENE = "consoleScene000000000001"


def record_accounts(rec: Recorder, wechat: Any) -> None:
    """Login, the caller's account, phone binding."""
    for index, who in enumerate(["demo-parent-1", "demo-committee-1", "demo-manager-1", "demo-staff-1",
                                 "demo-principal-1"], start=2):
        code = f"wx-login-code-{index}"
        wechat.register_code(code, openid=who)
        login = rec.call(f"auth_wechat_{who.split('-')[1]}", "POST", f"{API}/auth/wechat", who=None,
                         body={"code": code}, expect=200,
                         description=f"wx.login code of {who} exchanged for a session token")
        rec.login_as(who, login["token"])
        rec.call(f"me_{who.split('-')[1]}", "GET", f"{API}/me", who=who, expect=200,
                 description=f"{who}: the user with bindings")
    new = rec.call("auth_wechat_new_user", "POST", f"{API}/auth/wechat", who=None,
                   body={"code": "wx-login-code-1"}, expect=200,
                   description="first login of a parent who has no binding yet")
    rec.login_as("new-parent", new["token"])
    rec.call("me_new_user", "GET", f"{API}/me", who="new-parent", expect=200,
             description="a user without any binding")
    rec.call("me_unauthenticated", "GET", f"{API}/me", who=None, headers={"Authorization": "Bearer expired-token"},
             expect=401, description="an expired or revoked token")
    # Scan to log in to the web console: the console's code opened on the principal's phone, confirmed once.
    rec.client.post(f"{API}/auth/console-tickets", json={"env_version": "develop"})
    scene = wechat.calls("getwxacodeunlimit")[-1]["json"]["scene"]
    rec.alias(scene, CONSOLE_SCENE)
    rec.call("console_login_confirm", "POST", f"{API}/auth/console-tickets/confirm", who="demo-principal-1",
             body={"scene": scene}, expect=200, description="the principal confirms the console's log-in code")
    rec.call("console_login_used", "POST", f"{API}/auth/console-tickets/confirm", who="demo-principal-1",
             body={"scene": scene}, expect=410, description="a console log-in code already used or expired")
    wechat.register_phone_code("phone-code-1", "13800138000")
    rec.call("phone_bind", "POST", f"{API}/me/phone", who="demo-manager-1", body={"code": "phone-code-1"},
             expect=200, description="a getPhoneNumber code bound to the account (masked)")


def record_bindings(rec: Recorder) -> None:
    """Invites by staff, redemption by parents, approval by the committee."""
    invite = rec.call("invite_create_parent", "POST", f"{API}/schools/1/invites", who="demo-staff-1",
                      body={"role": "parent", "expires_in_hours": 168, "max_uses": 50}, expect=201,
                      description="staff create a parent invite for school 1")
    rec.alias(invite["short_code"], INVITE_SHORT_CODE)
    rec.alias(invite["scene"], INVITE_SCENE)
    rec.call("invites_list", "GET", f"{API}/schools/1/invites", who="demo-staff-1", expect=200,
             description="school 1's invites")
    rec.call("invite_wxacode", "GET", f"{API}/invites/{invite['id']}/wxacode?env_version=develop",
             who="demo-staff-1", expect=200, description="the invite's mini-program code (a PNG)")
    lookup = rec.call("invite_lookup", "POST", f"{API}/bindings/lookup", who="new-parent",
                      body={"code": invite["short_code"]}, expect=200,
                      description="the school, role and class list behind a typed short code")
    classes = {c["name"]: c["id"] for c in lookup["classes"]}
    rec.call("invite_lookup_not_found", "POST", f"{API}/bindings/lookup", who="new-parent", body={"code": "ZZZZZZZZ"},
             expect=404, description="a mistyped short code, looked up")
    rec.call("redeem_details_missing", "POST", f"{API}/bindings/redeem", who="new-parent",
             body={"code": invite["short_code"], "applicant_name": "王芳", "relation": None, "class_id": None},
             expect=422, description="a parent invite redeemed without the child's class and the relation")
    rec.call("redeem_parent", "POST", f"{API}/bindings/redeem", who="new-parent",
             body={"code": invite["short_code"], "applicant_name": "王芳", "relation": "mother",
                   "class_id": classes["三年级二班"]}, expect=201,
             description="the new parent redeems the typed short code")
    rec.call("me_pending", "GET", f"{API}/me", who="new-parent", expect=200,
             description="the new parent while the binding awaits approval")
    rec.call("_invite_lookup_scene", "POST", f"{API}/bindings/lookup", who="second-parent",
             body={"code": invite["scene"]}, expect=200, description="the class list behind a scanned scene")
    rec.call("school_1_pending", "GET", f"{API}/schools/1", who="new-parent", expect=403,
             description="the school's data while the binding awaits approval: its own code")
    second = rec.call("redeem_parent_scene", "POST", f"{API}/bindings/redeem", who="second-parent",
                      body={"code": invite["scene"], "applicant_name": "李强", "relation": "paternal_grandfather",
                            "class_id": classes["一年级一班"]}, expect=201,
                      description="another parent redeems the scanned scene")
    pending = rec.call("memberships_pending", "GET", f"{API}/schools/1/memberships?status=pending",
                       who="demo-committee-1", expect=200, description="bindings awaiting the committee")
    first_id = next(m["id"] for m in pending if m["id"] != second["id"])
    rec.call("membership_approve", "POST", f"{API}/memberships/{first_id}/decision", who="demo-committee-1",
             body={"approve": True, "reason": None}, expect=200, description="the committee approves")
    rec.call("membership_reject", "POST", f"{API}/memberships/{second['id']}/decision", who="demo-committee-1",
             body={"approve": False, "reason": "班级信息不符"}, expect=200, description="the committee rejects")
    rec.call("membership_already_decided", "POST", f"{API}/memberships/{first_id}/decision",
             who="demo-committee-1", body={"approve": True, "reason": None}, expect=409,
             description="a binding someone else already decided")
    rec.call("me_approved", "GET", f"{API}/me", who="new-parent", expect=200,
             description="the new parent after approval")


def record_schools(rec: Recorder) -> None:
    """What members read about their school, its canteen, areas and cameras."""
    rec.call("schools_parent", "GET", f"{API}/schools", who="demo-parent-1", expect=200,
             description="schools a parent belongs to")
    rec.call("school_1", "GET", f"{API}/schools/1", who="demo-parent-1", expect=200, description="school 1")
    rec.call("canteens_school_1", "GET", f"{API}/schools/1/canteens", who="demo-parent-1", expect=200,
             description="school 1's canteens with meal and live windows")
    rec.call("areas_staff", "GET", f"{API}/canteens/1/areas", who="demo-staff-1", expect=200,
             description="every kitchen area, for staff")
    rec.call("school_2_forbidden", "GET", f"{API}/schools/2", who="demo-parent-1", expect=403,
             description="another school's data")


def jpeg(seed: int) -> bytes:
    """A small real JPEG, different for each seed (a phone photo stand-in)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), ((seed * 37) % 256, (seed * 91) % 256, 120)).save(out, "JPEG", quality=80)
    return out.getvalue()


class Keys:
    """Idempotency keys the way the mini-program makes them: one per form submission."""

    def __init__(self, prefix: str = "contract-key") -> None:
        self.count = 0
        self.prefix = prefix

    def __call__(self) -> dict[str, str]:
        self.count += 1
        return {"Idempotency-Key": f"{self.prefix}-{self.count:04d}"}


def record_records(rec: Recorder) -> None:
    """A canteen manager's records of a week, then what parents read of them."""
    key = Keys()
    manager = "demo-manager-1"
    photos = []
    for seed in range(1, 8):
        upload = rec.call("upload_photo" if seed == 1 else f"_upload_{seed}", "POST", f"{API}/uploads", who=manager,
                          data={"file": (io.BytesIO(jpeg(seed)), f"photo{seed}.jpg"), "canteen_id": "1"},
                          headers=key(), expect=201, description="a photo uploaded as wx.uploadFile sends it")
        photos.append(upload["id"])
    supplier = rec.call("supplier_create", "POST", f"{API}/canteens/1/suppliers", who=manager, headers=key(),
                        body={"name": "杭州绿源农产品有限公司", "credit_code": "91330106MA2H3K4L5P",
                              "contact_name": "周明", "phone": "0571-88886666"},
                        expect=201, description="a new supplier")
    rec.call("_certificate_licence", "POST", f"{API}/canteens/1/certificates", who=manager, headers=key(),
             body={"supplier_id": supplier["id"], "kind": "food_business_licence", "number": "JY13301060012345",
                   "issuer": "杭州市西湖区市场监督管理局", "valid_until": "2028-06-30", "scan_upload_ids": [photos[1]]},
             expect=201, description="the supplier's food business licence")
    rec.call("_certificate_business", "POST", f"{API}/canteens/1/certificates", who=manager, headers=key(),
             body={"supplier_id": supplier["id"], "kind": "business_licence", "number": "91330106MA2H3K4L5P",
                   "valid_until": "2026-03-31", "scan_upload_ids": [photos[2]]},
             expect=201, description="the supplier's business licence, expiring within 30 days")
    rec.call("suppliers_list", "GET", f"{API}/canteens/1/suppliers", who=manager, expect=200,
             description="the canteen's suppliers for the receiving form")
    older = rec.call("_receiving_older", "POST", f"{API}/canteens/1/receivings", who=manager, headers=key(),
                     body={"supplier_id": supplier["id"], "received_at": "2026-03-08T16:00:00+08:00",
                           "receiver_name": "王建国", "items": [
                               {"ingredient": "面粉", "category": "grain", "batch": "MF-0301", "quantity": 25,
                                "unit": "kg", "production_date": "2026-03-01", "shelf_life_days": 180},
                               {"ingredient": "鸡腿", "category": "poultry", "batch": "JT-0308", "quantity": 20,
                                "unit": "kg", "production_date": "2026-03-08", "shelf_life_days": 5,
                                "storage": "chilled", "storage_temperature_c": 3}]},
                     expect=201, description="an earlier delivery")
    receiving = rec.call("receiving_create", "POST", f"{API}/canteens/1/receivings", who=manager, headers=key(),
                         body={"supplier_id": supplier["id"], "received_at": "2026-03-11T07:30:00+08:00",
                               "receiver_name": "王建国", "items": [
                                   {"ingredient": "猪里脊", "category": "meat", "batch": "ZLJ-0310", "quantity": 12.5,
                                    "unit": "kg", "production_date": "2026-03-10", "shelf_life_days": 3,
                                    "storage": "chilled", "storage_temperature_c": 4},
                                   {"ingredient": "西兰花", "category": "vegetable", "batch": "XLH-0311",
                                    "quantity": 8, "unit": "kg"},
                                   {"ingredient": "鸡蛋", "category": "egg", "batch": "JD-0309", "quantity": 300,
                                    "unit": "枚", "production_date": "2026-03-09", "shelf_life_days": 30}],
                               "inspection_report_upload_ids": [photos[3]]},
                         expect=201, description="this morning's delivery with its inspection report")
    rec.call("receiving_item_expired", "POST", f"{API}/canteens/1/receivings", who=manager, headers=key(),
             body={"supplier_id": supplier["id"], "received_at": "2026-03-11T07:40:00+08:00", "receiver_name": "王建国",
                   "items": [{"ingredient": "牛奶", "category": "dairy", "batch": "NN-0301", "quantity": 10,
                              "unit": "箱", "production_date": "2026-03-01", "shelf_life_days": 7}]},
             expect=422, description="an item already past its shelf life is refused")
    rec.call("receiving_supplier_not_found", "POST", f"{API}/canteens/1/receivings", who=manager, headers=key(),
             body={"supplier_id": 999, "received_at": "2026-03-11T07:45:00+08:00", "receiver_name": "王建国",
                   "items": [{"ingredient": "大米", "category": "grain", "batch": "DM-0310", "quantity": 50,
                              "unit": "kg"}]},
             expect=422, description="a supplier that is not (or no longer) one of the canteen's")
    rec.call("receivings_recent", "GET", f"{API}/canteens/1/receivings?from=2026-03-04&to=2026-03-11", who=manager,
             expect=200, description="the last week's deliveries, whose items a menu links")
    flour, chicken = (i["item_id"] for i in older["items"])
    pork, broccoli, egg = (i["item_id"] for i in receiving["items"])

    def menu(name: str, day: str, meal: str, dishes: list[tuple[str, str, list[int]]], expect: int = 201) -> Any:
        return rec.call(name, "POST", f"{API}/canteens/1/menus", who=manager, headers=key(), expect=expect,
                        body={"service_date": day, "meal": meal, "dishes": [
                            {"name": n, "category": c, "ingredient_item_ids": ids} for n, c, ids in dishes]},
                        description=f"the {meal} menu of {day}")

    monday_breakfast = menu("_menu_0309_breakfast", "2026-03-09", "breakfast", [("葱油花卷", "staple", [flour])])
    monday_lunch = menu("_menu_0309_lunch", "2026-03-09", "lunch", [("红烧鸡腿", "meat", [chicken])])
    menu("_menu_0311_breakfast", "2026-03-11", "breakfast", [("鸡蛋羹", "mixed", [egg])])
    lunch = menu("menu_create", "2026-03-11", "lunch", [("青椒肉丝", "meat", [pork]),
                                                        ("蒜蓉西兰花", "vegetable", [broccoli]),
                                                        ("番茄炒蛋", "mixed", [egg])])
    menu("menu_exists", "2026-03-11", "lunch", [("青椒肉丝", "meat", [pork])], expect=409)
    menu("menu_dish_name_too_long", "2026-03-11", "dinner", [("青椒肉丝" * 13, "meat", [pork])], expect=422)

    def sample(name: str, dish_id: int, sampled_at: str, weight: float, photo: int, expect: int = 201) -> Any:
        return rec.call(name, "POST", f"{API}/canteens/1/samples", who=manager, headers=key(), expect=expect,
                        body={"dish_id": dish_id, "weight_g": weight, "sampled_at": sampled_at, "sealed": True,
                              "fridge_temperature_c": 4, "sampler_name": "李秀英", "photo_upload_ids": [photo]},
                        description=f"a retained sample of {weight:g} g")

    early = sample("_sample_0309_breakfast", monday_breakfast["dishes"][0]["dish_id"], "2026-03-09T07:40:00+08:00",
                   150, photos[4])
    late = sample("_sample_0309_lunch", monday_lunch["dishes"][0]["dish_id"], "2026-03-09T11:50:00+08:00", 160,
                  photos[4])
    sample("sample_weight_too_low", lunch["dishes"][0]["dish_id"], "2026-03-11T09:55:00+08:00", 124, photos[5],
           expect=422)
    sample("sample_create", lunch["dishes"][0]["dish_id"], "2026-03-11T09:55:00+08:00", 125, photos[5])
    sample("sample_exists", lunch["dishes"][0]["dish_id"], "2026-03-11T09:58:00+08:00", 130, photos[5], expect=409)
    rec.call("day_0309", "GET", f"{API}/schools/1/days/2026-03-09", who="demo-manager-1", expect=200,
             description="Monday's samples, both still kept (one may be disposed of, one not yet)")
    rec.call("disposal_too_early", "POST", f"{API}/canteens/1/sample-disposals", who=manager, headers=key(),
             body={"sample_id": late["id"], "disposer_name": "李秀英"}, expect=422,
             description="a sample disposed of before its 48 hours")
    rec.call("disposal_create", "POST", f"{API}/canteens/1/sample-disposals", who=manager, headers=key(),
             body={"sample_id": early["id"], "disposer_name": "李秀英"}, expect=201,
             description="a sample disposed of after its 48 hours")
    rec.call("disinfection_insufficient", "POST", f"{API}/canteens/1/disinfections", who=manager, headers=key(),
             body={"service_date": "2026-03-11", "meal": "breakfast", "target": "tableware", "method": "steam",
                   "temperature_c": 100, "minutes": 5, "item_count": 320, "operator_name": "赵师傅",
                   "photo_upload_ids": [photos[6]]},
             expect=422, description="steam for 5 minutes is not enough")
    rec.call("disinfection_create", "POST", f"{API}/canteens/1/disinfections", who=manager, headers=key(),
             body={"service_date": "2026-03-11", "meal": "breakfast", "target": "tableware", "method": "steam",
                   "temperature_c": 100, "minutes": 15, "item_count": 320, "performed_at": "2026-03-11T08:40:00+08:00",
                   "operator_name": "赵师傅", "photo_upload_ids": [photos[6]]},
             expect=201, description="breakfast tableware steamed")
    rec.call("accompanied_create", "POST", f"{API}/canteens/1/accompanied-meals", who="demo-principal-1",
             headers=key(), body={"service_date": "2026-03-11", "meal": "breakfast", "companion_name": "陈校长",
                                  "companion_role": "school_leader", "rating": 5,
                                  "remarks": "鸡蛋羹口感嫩滑，分量足", "photo_upload_ids": []},
             expect=201, description="the principal ate breakfast with the students")
    rec.call("accompanied_list", "GET", f"{API}/canteens/1/accompanied-meals", who="demo-parent-1", expect=200,
             description="陪餐 records parents read")
    staff = [rec.call(f"_staff_{n}", "POST", f"{API}/canteens/1/staff", who=manager, headers=key(), expect=201,
                      body={"name": name, "post": post}, description=f"{name} on the staff register")
             for n, (name, post) in enumerate([("赵师傅", "厨师"), ("李秀英", "留样员"), ("钱阿姨", "切配")])]
    rec.call("staff_list", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=manager, expect=200,
             description="the active staff a morning check lists")
    rec.call("morning_check_inconsistent", "POST", f"{API}/canteens/1/morning-checks", who=manager, headers=key(),
             body={"check_date": "2026-03-11", "checked_at": "2026-03-11T06:30:00+08:00", "checker_name": "王建国",
                   "persons": [{"staff_id": staff[2]["id"], "temperature_c": 37.8, "hands_ok": True,
                                "symptoms": [], "result": "pass"}]},
             expect=422, description="a fever cannot pass the morning check")
    rec.call("morning_check_create", "POST", f"{API}/canteens/1/morning-checks", who=manager, headers=key(),
             body={"check_date": "2026-03-11", "checked_at": "2026-03-11T06:30:00+08:00", "checker_name": "王建国",
                   "persons": [{"staff_id": staff[0]["id"], "temperature_c": 36.5, "hands_ok": True, "symptoms": []},
                               {"staff_id": staff[1]["id"], "temperature_c": 36.6, "hands_ok": True, "symptoms": []},
                               {"staff_id": staff[2]["id"], "temperature_c": 36.8, "hands_ok": False,
                                "symptoms": ["skin_wound"]}]},
             expect=201, description="the day's morning check, one person off food handling")
    rec.call("today_parent", "GET", f"{API}/schools/1/today", who="demo-parent-1", expect=200,
             description="today's kitchen as a parent sees it")
    rec.call("day_0309_disposed", "GET", f"{API}/schools/1/days/2026-03-09", who="demo-manager-1", expect=200,
             description="Monday's samples after one was disposed of")
    rec.call("day_0310", "GET", f"{API}/schools/1/days/2026-03-10", who="demo-parent-1", expect=200,
             description="a day without records")


def record_violations(rec: Recorder) -> None:
    """A violation from report to accepted rectification, another rejected; what each role reads of them."""
    key = Keys()
    photo = rec.call("_violation_photo_report", "POST", f"{API}/schools/1/violation-photos", who="demo-staff-1",
                     data={"file": (io.BytesIO(jpeg(21)), "report.jpg")}, expect=201,
                     description="a photo for a report")
    rec.alias(photo["key"], "violation-photos/test-report.jpg")
    first = rec.call("_violation_report", "POST", f"{API}/schools/1/violations", who="demo-staff-1", headers=key(),
                     body={"canteen_id": 1, "kind": "no_hat", "title": "切配区厨师未戴帽子",
                           "description": "巡查发现切配区一名厨师操作时未佩戴工作帽。", "photos": [photo["key"]]},
                     expect=201, description="staff report a problem they saw")
    second = rec.call("_violation_report_2", "POST", f"{API}/schools/1/violations", who="demo-staff-1",
                      headers=key(), body={"canteen_id": 1, "kind": "rodent", "title": "储藏间发现鼠迹",
                                           "description": "储藏间米袋旁发现鼠粪，需排查防鼠设施。"},
                      expect=201, description="another problem")
    rec.call("violations_committee", "GET", f"{API}/schools/1/violations?limit=20", who="demo-committee-1",
             expect=200,
             description="the committee's list of the school's violations")
    rec.call("violation_detail_committee", "GET", f"{API}/violations/{first['id']}", who="demo-committee-1",
             expect=200, description="a violation as the committee reads it (parent-safe evidence)")
    rec.call("violation_detail_manager_open", "GET", f"{API}/violations/{first['id']}", who="demo-manager-1",
             expect=200, description="a new violation as the canteen manager reads it")
    rec.call("violation_start", "POST", f"{API}/violations/{first['id']}/start", who="demo-manager-1",
             body={"note": None}, expect=200, description="the canteen manager takes it on")
    rec.call("violation_detail_manager_rectifying", "GET", f"{API}/violations/{first['id']}", who="demo-manager-1",
             expect=200, description="a violation being rectified, as the answer form loads it")
    after = rec.call("violation_photo", "POST", f"{API}/schools/1/violation-photos", who="demo-manager-1",
                     data={"file": (io.BytesIO(jpeg(22)), "after.jpg")}, expect=201,
                     description="an after-photo of the rectification")
    rec.alias(after["key"], "violation-photos/test-after.jpg")
    rec.call("violation_submit_too_short", "POST", f"{API}/violations/{first['id']}/rectifications",
             who="demo-manager-1", body={"measures": "已整改", "photos": [after["key"]]}, expect=422,
             description="measures too short")
    rec.call("violation_submit", "POST", f"{API}/violations/{first['id']}/rectifications", who="demo-manager-1",
             body={"measures": "已对全体厨师重新培训着装规范，切配区入口加装镜子自查，当班主管每餐检查。",
                   "photos": [after["key"]]},
             expect=201, description="the manager submits the measures and photo")
    rec.call("violation_detail_principal", "GET", f"{API}/violations/{first['id']}", who="demo-principal-1",
             expect=200, description="a submitted rectification awaiting the principal")
    rec.call("violation_accept", "POST", f"{API}/violations/{first['id']}/review", who="demo-principal-1",
             body={"approve": True, "reason": None}, expect=200, description="the principal accepts")
    rec.call("_violation_start_2", "POST", f"{API}/violations/{second['id']}/start", who="demo-manager-1",
             body={"note": None}, expect=200, description="taken on")
    rec.call("_violation_submit_2", "POST", f"{API}/violations/{second['id']}/rectifications",
             who="demo-manager-1", body={"measures": "已清理鼠迹并放置粘鼠板。", "photos": []}, expect=201,
             description="submitted")
    rec.call("violation_detail_principal_2", "GET", f"{API}/violations/{second['id']}", who="demo-principal-1",
             expect=200, description="the second submitted rectification awaiting the principal")
    rec.call("violation_reject", "POST", f"{API}/violations/{second['id']}/review", who="demo-principal-1",
             body={"approve": False, "reason": "未说明防鼠设施的排查结果，请补充挡鼠板照片"}, expect=200,
             description="the principal rejects with a reason")
    rec.call("violations_manager_submitted", "GET", f"{API}/schools/1/violations?status=submitted&limit=20",
             who="demo-manager-1", expect=200, description="filtered: awaiting review (none left)")
    rec.call("transparency_parent", "GET", f"{API}/schools/1/transparency?limit=20", who="demo-parent-1",
             expect=200, description="the parents' page: figures and closed violations")
    rec.call("transparency_month", "GET", f"{API}/schools/1/transparency?from=2026-03-01&to=2026-03-11&limit=1",
             who="demo-parent-1", expect=200, description="this month's figures for the home page")
    rec.call("violation_forbidden_parent", "GET", f"{API}/violations/{first['id']}", who="demo-parent-1",
             expect=403, description="parents read violations only through the transparency page")


def record_notices(rec: Recorder) -> None:
    """The inbox the violations above filled, and subscribe-message templates and reports."""
    inbox = rec.call("inbox_manager", "GET", f"{API}/inbox?limit=50", who="demo-manager-1", expect=200,
                     description="the canteen manager's notices")
    first_page = rec.call("inbox_manager_page_1", "GET", f"{API}/inbox?limit=3", who="demo-manager-1", expect=200,
                          description="the first page of the manager's notices, three at a time")
    rec.call("inbox_manager_page_2", "GET", f"{API}/inbox?before_id={first_page['items'][-1]['id']}&limit=3",
             who="demo-manager-1", expect=200, description="the next (last) page")
    unread = next(n for n in inbox["items"] if not n["read"])
    rec.call("inbox_read", "POST", f"{API}/inbox/{unread['id']}/read", who="demo-manager-1", expect=200,
             description="one notice read")
    rec.call("inbox_read_all", "POST", f"{API}/inbox/read-all", who="demo-manager-1", expect=200,
             description="every notice read")
    rec.call("notice_templates", "GET", f"{API}/notices/templates", who="demo-committee-1", expect=200,
             description="templates to pass to wx.requestSubscribeMessage")
    rec.call("subscriptions_report", "POST", f"{API}/me/subscriptions", who="demo-committee-1",
             body={"results": {"tmpl-violation-0001": "accept", "tmpl-progress-0001": "reject"}}, expect=200,
             description="what the committee member accepted")


def record_live(rec: Recorder, frozen: Any) -> None:
    """The live view: the lobby, signed play URLs inside the window, the closed window, an offline camera."""
    key = rec.call("_publish_key", "POST", f"{API}/live/cameras/1/publish-key", who="demo-staff-1", expect=201,
                   description="the camera's publish key")
    rec.call("_on_publish", "POST", f"/internal/media/on_publish?secret={HOOK_SECRET}", who=None,
             form={"call": "publish", "app": "live", "name": key["stream"], "addr": "127.0.0.1", "clientid": "7",
                   "key": key["publish_key"]},
             expect=200, description="the media server reports the camera publishing")
    rec.call("live_lobby_parent", "GET", f"{API}/live/canteens/1/cameras", who="demo-parent-1", expect=200,
             description="cameras a parent may watch, inside the live window")
    rec.call("live_play_parent", "POST", f"{API}/live/cameras/1/play", who="demo-parent-1", expect=200,
             description="signed play URLs for a parent")
    rec.call("live_play_offline", "POST", f"{API}/live/cameras/2/play", who="demo-parent-1", expect=409,
             description="a camera that is not publishing")
    rec.call("live_lobby_staff", "GET", f"{API}/live/canteens/1/cameras", who="demo-staff-1", expect=200,
             description="staff may watch every area at any time")
    frozen.move_to(AFTERNOON)
    rec.call("live_lobby_parent_closed", "GET", f"{API}/live/canteens/1/cameras", who="demo-parent-1", expect=200,
             description="between the live windows")
    rec.call("live_play_closed", "POST", f"{API}/live/cameras/1/play", who="demo-parent-1", expect=403,
             description="a parent outside the live window: when it opens next")
    frozen.move_to(MORNING)


def record_playback(rec: Recorder) -> None:
    """Staff play back a camera's day: recordings (09:00–09:10, 09:20–09:25), a violation, a health change."""
    from datetime import timedelta

    from backend.extensions import db
    from backend.live.models import RecordingSegment
    from backend.monitoring.models import CameraHealthEvent
    from backend.violations.services import raise_violation

    base = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)  # 09:00 Asia/Shanghai
    for index, minutes in enumerate((0, 5, 20)):
        began = base + timedelta(minutes=minutes)
        db.session.add(RecordingSegment(camera_id=1, school_id=1, source_path=f"/contract/{index}.flv",
                                        status="stored", local_present=False, started_at=began,
                                        ended_at=began + timedelta(minutes=5), duration_seconds=300.0,
                                        size_bytes=1_000_000, width=768, height=576, attempts=0,
                                        object_key=f"recordings/1/1/2026/03/11/contract-{index}.mp4"))
    raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="contract-playback",
                    occurred_at=base + timedelta(minutes=7), camera_id=1, title="未规范佩戴口罩", commit=False)
    db.session.add(CameraHealthEvent(camera_id=1, at=base + timedelta(minutes=12), from_status="ok",
                                     to_status="offline", problems=["offline"], metrics={}))
    db.session.commit()
    rec.call("playback_day_staff", "GET", f"{API}/live/cameras/1/playback?day=2026-03-11", who="demo-staff-1",
             expect=200, description="camera 1's day: recordings, gaps up to now, a violation and a health mark")
    rec.call("playback_play_staff", "POST", f"{API}/live/cameras/1/playback/play", who="demo-staff-1",
             body={"at": "2026-03-11T09:07:00+08:00"}, expect=200,
             description="the recording covering 09:07 and the offset into it")
    rec.call("playback_play_gap", "POST", f"{API}/live/cameras/1/playback/play", who="demo-staff-1",
             body={"at": "2026-03-11T09:15:00+08:00"}, expect=404, description="a time with no recording")


def record_certificate_reading(rec: Recorder) -> None:
    """A manager photographs a supplier's food business licence, has it read, and saves it from the reading."""
    from datetime import date

    from tests.records.certificate_images import Certificate, degrade, jpeg_bytes, render

    key = Keys()
    key.count = 900  # after the keys record_records used as the same manager
    manager = "demo-manager-1"
    licence = Certificate("food_business_licence", "JY13301060054321", "杭州绿源农产品有限公司", date(2025, 7, 1),
                          date(2030, 6, 30), "杭州市西湖区市场监督管理局")
    photo = rec.call("_upload_licence_photo", "POST", f"{API}/uploads", who=manager, headers=key(), expect=201,
                     description="the licence photographed on a table",
                     data={"file": (io.BytesIO(jpeg_bytes(degrade(render(licence, 0), "photo"))), "licence.jpg"),
                           "canteen_id": "1"})
    blank = rec.call("_upload_blank_photo", "POST", f"{API}/uploads", who=manager, headers=key(), expect=201,
                     description="a photo of no licence",
                     data={"file": (io.BytesIO(jpeg(40)), "blank.jpg"), "canteen_id": "1"})
    reading = rec.call("certificate_reading", "POST", f"{API}/uploads/{photo['id']}/certificate-reading",
                       who=manager, body={"kind": "food_business_licence"}, expect=201,
                       description="the licence photo read offline: number, holder and validity suggested")
    rec.call("certificate_unreadable", "POST", f"{API}/uploads/{blank['id']}/certificate-reading", who=manager,
             body={"kind": "food_business_licence"}, expect=422,
             description="a photo showing no licence: the manager types the fields")
    supplier = rec.call("_suppliers_for_certificate", "GET", f"{API}/canteens/1/suppliers", who=manager,
                        expect=200, description="the canteen's suppliers")["items"][0]
    rec.call("certificate_create", "POST", f"{API}/canteens/1/certificates", who=manager, headers=key(),
             body={"supplier_id": supplier["id"], "kind": "food_business_licence", "number": licence.number,
                   "issuer": licence.issuer, "valid_from": "2025-07-01", "valid_until": "2030-06-30",
                   "scan_upload_ids": [photo["id"]], "reading_id": reading["id"]},
             expect=201, description="the certificate saved from the checked reading")
    lapsed = rec.call("_supplier_lapsed", "POST", f"{API}/canteens/1/suppliers", who=manager, headers=key(),
                      body={"name": "杭州过期蔬菜配送有限公司"}, expect=201, description="a supplier")
    rec.call("_certificate_lapsed", "POST", f"{API}/canteens/1/certificates", who=manager, headers=key(),
             body={"supplier_id": lapsed["id"], "kind": "food_business_licence", "number": "JY13301060077777",
                   "valid_until": "2026-03-01", "scan_upload_ids": [blank["id"]]},
             expect=201, description="its food business licence, expired ten days ago")
    rec.call("suppliers_with_expired", "GET", f"{API}/canteens/1/suppliers", who=manager, expect=200,
             description="the suppliers, one of them with an expired licence")
    rec.call("receiving_supplier_certificate_expired", "POST", f"{API}/canteens/1/receivings", who=manager,
             headers=key(), body={"supplier_id": lapsed["id"], "received_at": "2026-03-11T07:50:00+08:00",
                                  "receiver_name": "王建国", "items": [
                                      {"ingredient": "青菜", "category": "vegetable", "batch": "QC-0311",
                                       "quantity": 10, "unit": "kg"}]},
             expect=422, description="a delivery from a supplier whose licence has expired, without a reason")
    staff = rec.call("_staff_for_health", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=manager,
                     expect=200, description="the canteen's staff")["items"][0]
    health = Certificate("health_certificate", "330106202600018", staff["name"], date(2026, 2, 20), date(2027, 2, 19),
                         "杭州市西湖区疾病预防控制中心")
    health_photo = rec.call("_upload_health_photo", "POST", f"{API}/uploads", who=manager, headers=key(), expect=201,
                            description="a health certificate photographed",
                            data={"file": (io.BytesIO(jpeg_bytes(degrade(render(health, 1), "photo"))),
                                           "health.jpg"), "canteen_id": "1"})
    health_reading = rec.call("health_certificate_reading", "POST",
                              f"{API}/uploads/{health_photo['id']}/certificate-reading", who=manager,
                              body={"kind": "health_certificate"}, expect=201,
                              description="the health certificate read: number, name and validity suggested")
    rec.call("health_certificate_create", "POST", f"{API}/canteens/1/health-certificates", who=manager,
             headers=key(), body={"staff_id": staff["id"], "number": health.number, "issuer": health.issuer,
                                  "valid_from": "2026-02-20", "valid_until": "2027-02-19",
                                  "scan_upload_ids": [health_photo["id"]], "reading_id": health_reading["id"]},
             expect=201, description="the health certificate saved from the checked reading")


def record_waste_additives(rec: Recorder) -> None:
    """The manager's food-waste ledger and food-additive ledger (五专); last, so no earlier id shifts."""
    key = Keys("waste-additive-key")
    manager = "demo-manager-1"
    staff = rec.call("_waste_staff", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=manager, expect=200,
                     description="the staff a handover names")["items"]
    waste = {"waste_kind": "food_waste", "quantity_kg": 42.5, "collector_company": "杭州城环餐厨垃圾收运有限公司",
             "collector_name": "陈师傅", "collector_licence": "HZCY-2026-0088", "staff_id": staff[0]["id"],
             "photo_upload_ids": []}
    rec.call("waste_future", "POST", f"{API}/canteens/1/waste-disposals", who=manager, headers=key(),
             body={**waste, "disposed_at": "2026-03-11T18:00:00+08:00"}, expect=422,
             description="a disposal dated in the future")
    rec.call("waste_create", "POST", f"{API}/canteens/1/waste-disposals", who=manager, headers=key(),
             body={**waste, "disposed_at": "2026-03-11T09:30:00+08:00"}, expect=201,
             description="food waste handed over to the licensed collector")
    rec.call("waste_list", "GET", f"{API}/canteens/1/waste-disposals", who=manager, expect=200,
             description="the waste ledger")
    purchase = rec.call("additive_purchase_create", "POST", f"{API}/canteens/1/additive-purchases", who=manager,
                        headers=key(), body={
                            "additive_name": "食用碱（碳酸钠）", "manufacturer": "浙江味美食品配料有限公司",
                            "batch": "SJ20260301", "quantity": 500, "unit": "g", "purchase_date": "2026-03-10",
                            "expiry_date": "2027-03-01", "supplier_name": "杭州配料供应站", "buyer_name": "周建华",
                            "keeper_name": "王建国", "cabinet": "库房食品添加剂专柜"}, expect=201,
                        description="a batch of an additive bought and put in the cabinet")
    rec.call("additive_purchases_list", "GET", f"{API}/canteens/1/additive-purchases", who=manager, expect=200,
             description="the additive purchases with what is left of each batch")
    use = {"use_date": "2026-03-11", "meal": "lunch", "dish_name": "碱水面", "purchase_id": purchase["id"],
           "issuer_name": "王建国", "user_name": "赵师傅"}
    rec.call("additive_use_insufficient", "POST", f"{API}/canteens/1/additive-uses", who=manager, headers=key(),
             body={**use, "quantity": 600}, expect=422, description="more than the batch has left")
    rec.call("additive_use_create", "POST", f"{API}/canteens/1/additive-uses", who=manager, headers=key(),
             body={**use, "quantity": 15}, expect=201, description="an additive weighed out for a dish")
    rec.call("additive_uses_list", "GET", f"{API}/canteens/1/additive-uses", who=manager, expect=200,
             description="the additive uses")
    rec.call("additive_stock", "GET", f"{API}/canteens/1/additive-stock", who=manager, expect=200,
             description="the additive stock and the 五专 names")


def record_parent_meals(rec: Recorder, frozen: Any) -> None:
    """家长陪餐: the principal publishes slots, a parent signs up, the school approves, the parent rates after
    lunch, the school answers; the parent's day view shows the opinion. Moves the clock to 12:45 and back."""
    slot = rec.call("parent_meal_slot_create", "POST", f"{API}/schools/1/parent-meal-slots", who="demo-principal-1",
                    body={"canteen_id": 1, "service_date": "2026-03-11", "meal": "lunch", "capacity": 3,
                          "note": "请于11:20到校门口登记"},
                    expect=201, description="the principal opens today's lunch to three parents")
    small = rec.call("_parent_meal_slot_small", "POST", f"{API}/schools/1/parent-meal-slots", who="demo-principal-1",
                     body={"canteen_id": 1, "service_date": "2026-03-12", "meal": "lunch", "capacity": 1},
                     expect=201, description="tomorrow's lunch for one parent")
    rec.call("parent_meal_slot_past", "POST", f"{API}/schools/1/parent-meal-slots", who="demo-principal-1",
             body={"canteen_id": 1, "service_date": "2026-03-11", "meal": "breakfast", "capacity": 3},
             expect=422, description="a meal that has begun cannot be opened to parents")
    rec.call("_parent_meal_committee_signup", "POST", f"{API}/parent-meal-slots/{small['id']}/signups",
             who="demo-committee-1", body={}, expect=201, description="a committee member takes tomorrow's place")
    rec.call("parent_meal_slots_parent", "GET", f"{API}/schools/1/parent-meal-slots", who="demo-parent-1",
             expect=200, description="the slots a parent sees before signing up: today's open, tomorrow's full")
    rec.call("parent_meal_mine_empty", "GET", f"{API}/schools/1/parent-meal-signups/mine", who="demo-parent-1",
             expect=200, description="a parent who has not signed up yet")
    rec.call("parent_meal_slot_full", "POST", f"{API}/parent-meal-slots/{small['id']}/signups", who="demo-parent-1",
             body={}, expect=409, description="a full slot refuses another parent")
    signup = rec.call("parent_meal_signup", "POST", f"{API}/parent-meal-slots/{slot['id']}/signups",
                      who="demo-parent-1", body={"note": "孩子在三年级二班"}, expect=201,
                      description="a parent signs up for today's lunch")
    rec.call("parent_meal_signup_again", "POST", f"{API}/parent-meal-slots/{slot['id']}/signups",
             who="demo-parent-1", body={"note": "孩子在三年级二班"}, expect=200,
             description="signing up again answers the same sign-up")
    rec.call("parent_meal_signups_pending", "GET", f"{API}/schools/1/parent-meal-signups", who="demo-principal-1",
             expect=200, description="the sign-ups waiting for the school")
    rec.call("parent_meal_approve", "POST", f"{API}/parent-meal-signups/{signup['id']}/decision",
             who="demo-principal-1", body={"decision": "approve", "note": "欢迎参加"}, expect=200,
             description="the principal approves the parent")
    rating = {"taste": 4, "hygiene": 5, "portion": 4, "comment": "青菜炒得有点老，其他都很好"}
    rec.call("parent_meal_rating_too_early", "POST", f"{API}/parent-meal-signups/{signup['id']}/rating",
             who="demo-parent-1", body=rating, expect=422, description="no rating before the meal began")
    frozen.move_to(datetime(2026, 3, 11, 4, 45, tzinfo=UTC))  # 12:45 in Shanghai, after lunch
    rec.call("parent_meal_mine", "GET", f"{API}/schools/1/parent-meal-signups/mine", who="demo-parent-1",
             expect=200, description="the parent's sign-ups after lunch: ready to rate")
    rec.call("parent_meal_rate", "POST", f"{API}/parent-meal-signups/{signup['id']}/rating", who="demo-parent-1",
             body=rating, expect=200, description="the parent rates the lunch")
    rec.call("parent_meal_signups_school", "GET", f"{API}/schools/1/parent-meal-signups", who="demo-principal-1",
             expect=200, description="the school's sign-ups, one rated and waiting for an answer")
    rec.call("parent_meal_answer", "POST", f"{API}/parent-meal-signups/{signup['id']}/answer",
             who="demo-principal-1", body={"answer": "已提醒厨师缩短青菜翻炒时间，感谢您的意见"}, expect=200,
             description="the principal answers the opinion")
    rec.call("parent_meal_mine_answered", "GET", f"{API}/schools/1/parent-meal-signups/mine", who="demo-parent-1",
             expect=200, description="the parent reads the school's answer")
    rec.call("_today_principal", "GET", f"{API}/schools/1/today", who="demo-principal-1", expect=200,
             description="a writer's read refreshes the school's snapshot")
    rec.call("today_parent_meals", "GET", f"{API}/schools/1/today", who="demo-parent-1", expect=200,
             description="today after lunch: the morning check's counts and the parents' opinion with its answer")
    rec.call("parent_meal_opinions", "GET", f"{API}/schools/1/parent-meal-opinions", who="demo-committee-1",
             expect=200, description="the last 30 days' opinions and averages")
    frozen.move_to(MORNING)


def record_reports(rec: Recorder) -> None:
    """反映问题: a parent reports what they saw with a photo (refusals first), follows it on 我反映的问题, and is told
    when the school takes it on (the message opens the same page). Last of all: it adds a violation."""
    photo = rec.call("report_photo", "POST", f"{API}/schools/1/violation-photos", who="demo-parent-1",
                     data={"file": (io.BytesIO(jpeg(31)), "seen.jpg")}, expect=201,
                     description="a photo the parent took, uploaded as it is chosen")
    rec.alias(photo["key"], "violation-photos/test-seen.jpg")
    key = Keys("contract-report")
    rec.call("report_too_short", "POST", f"{API}/schools/1/violations", who="demo-parent-1", headers=key(),
             body={"canteen_id": 1, "kind": "no_mask", "description": "没戴", "photos": []}, expect=422,
             description="a description shorter than 5 characters")
    rec.call("report_risky", "POST", f"{API}/schools/1/violations", who="demo-parent-1", headers=key(),
             body={"canteen_id": 1, "kind": "reported", "description": "食堂可以代开发票吗，请联系我", "photos": []},
             expect=422, description="a parent's text WeChat's content check finds risky")
    report = rec.call("report_create", "POST", f"{API}/schools/1/violations", who="demo-parent-1", headers=key(),
                      body={"canteen_id": 1, "kind": "no_mask", "photos": [photo["key"]],
                            "description": "直播里看到打饭窗口的阿姨没有戴口罩，边说话边打菜。"},
                      expect=201, description="the parent reports what they saw in the live view, with the photo")
    rec.call("my_reports", "GET", f"{API}/me/reports?limit=20", who="demo-parent-1", expect=200,
             description="我反映的问题 right after the report: not yet told to the school")
    rec.call("my_reports_none", "GET", f"{API}/me/reports?limit=20", who="demo-committee-1", expect=200,
             description="我反映的问题 of someone who never reported")
    rec.call("_report_start", "POST", f"{API}/violations/{report['id']}/start", who="demo-manager-1",
             body={"note": "已提醒窗口人员规范佩戴口罩"}, expect=200, description="the canteen takes the report on")
    rec.call("my_reports_started", "GET", f"{API}/me/reports?limit=20", who="demo-parent-1", expect=200,
             description="the report being put right, as its reporter reads it")
    rec.call("inbox_reporter", "GET", f"{API}/inbox?limit=50", who="demo-parent-1", expect=200,
             description="the reporter's inbox: told that the school took the report on")


def record_amendments(rec: Recorder) -> None:
    """更正 on 留样与消毒记录: the canteen manager corrects this morning's breakfast disinfection (the minutes were
    mistyped), a lunch sample (its weight) and the lunch menu (a dish's name), each form starting from the
    record's draft; a corrected record its kind's rules refuse and a correction made meanwhile are refused; then
    the day shows the corrections."""
    key = Keys("contract-amend")
    manager = "demo-manager-1"
    day = rec.call("_today_manager", "GET", f"{API}/schools/1/today", who=manager, expect=200,
                   description="the manager's day, to find the two records")
    meals = {meal["meal"]: meal for meal in day["canteens"][0]["meals"]}
    disinfection_id = meals["breakfast"]["disinfection"]["records"][0]["id"]
    sample_id = next(d["sample"]["id"] for d in meals["lunch"]["menu"]["dishes"] if d["sample"])
    draft = rec.call("record_draft_disinfection", "GET", f"{API}/records/{disinfection_id}/draft", who=manager,
                     expect=200, description="the breakfast disinfection as its correction form starts from it")
    corrected = {**draft["record"], "minutes": 20}
    rec.call("amendment_invalid", "POST", f"{API}/records/{disinfection_id}/amendments", who=manager,
             headers=key(), body={"reason": "操作人填错", "expected_version_id": draft["version_id"],
                                  "record": {**corrected, "operator_name": ""}},
             expect=422, description="a corrected record its kind's rules refuse: the fields are under record")
    rec.call("amendment_disinfection", "POST", f"{API}/records/{disinfection_id}/amendments", who=manager,
             headers=key(), body={"reason": "时长误填，实际蒸汽消毒 20 分钟",
                                  "expected_version_id": draft["version_id"], "record": corrected},
             expect=201, description="the corrected disinfection: a new version, the first kept")
    rec.call("amendment_conflict", "POST", f"{API}/records/{disinfection_id}/amendments", who=manager,
             headers=key(), body={"reason": "操作人填错", "expected_version_id": draft["version_id"],
                                  "record": {**draft["record"], "operator_name": "钱阿姨"}},
             expect=409, description="a correction of a version corrected meanwhile (from another phone)")
    sample = rec.call("record_draft_sample", "GET", f"{API}/records/{sample_id}/draft", who=manager, expect=200,
                      description="the lunch sample as its correction form starts from it")
    rec.call("amendment_sample", "POST", f"{API}/records/{sample_id}/amendments", who=manager, headers=key(),
             body={"reason": "称重时误读，实际 135 克", "expected_version_id": sample["version_id"],
                   "record": {**sample["record"], "weight_g": 135}},
             expect=201, description="the corrected sample")
    menu = rec.call("record_draft_menu", "GET", f"{API}/records/{meals['lunch']['menu']['id']}/draft", who=manager,
                    expect=200, description="today's lunch menu as its correction form starts from it")
    dishes = [{**dish, "name": "清炒西兰花"} if dish["name"] == "蒜蓉西兰花" else dish
              for dish in menu["record"]["dishes"]]
    rec.call("amendment_menu", "POST", f"{API}/records/{menu['record_id']}/amendments", who=manager, headers=key(),
             body={"reason": "菜名写错，实为清炒西兰花", "expected_version_id": menu["version_id"],
                   "record": {**menu["record"], "dishes": dishes}},
             expect=201, description="the corrected menu: one dish renamed")
    # 证照: a licence's end of validity mistyped, corrected from 食材溯源.
    suppliers = rec.call("_suppliers_now", "GET", f"{API}/canteens/1/suppliers", who=manager, expect=200,
                         description="the suppliers")["items"]
    licence = next(c for supplier in suppliers for c in supplier["certificates"] if c["kind"] == "business_licence")
    certificate = rec.call("record_draft_certificate", "GET", f"{API}/records/{licence['id']}/draft", who=manager,
                           expect=200, description="the business licence as its correction form starts from it")
    rec.call("amendment_certificate", "POST", f"{API}/records/{licence['id']}/amendments", who=manager,
             headers=key(), body={"reason": "有效期录错，证上为 2026-12-31",
                                  "expected_version_id": certificate["version_id"],
                                  "record": {**certificate["record"], "valid_until": "2026-12-31"}},
             expect=201, description="the licence corrected: its end of validity")
    # 进货: a batch number mistyped on this morning's delivery, corrected from 食材溯源 (the line keeps its id).
    delivery = rec.call("_receivings_today", "GET", f"{API}/canteens/1/receivings?from=2026-03-11&to=2026-03-11",
                        who=manager, expect=200, description="today's deliveries")["items"][-1]
    receiving = rec.call("record_draft_receiving", "GET", f"{API}/records/{delivery['id']}/draft", who=manager,
                         expect=200, description="this morning's delivery as its correction form starts from it")
    lines = [{**line, "batch": "XLH-0311A"} if line["ingredient"] == "西兰花" else line
             for line in receiving["record"]["items"]]
    rec.call("amendment_receiving", "POST", f"{API}/records/{delivery['id']}/amendments", who=manager,
             headers=key(), body={"reason": "西兰花批次号抄错", "expected_version_id": receiving["version_id"],
                                  "record": {**receiving["record"], "items": lines}},
             expect=201, description="the delivery corrected: one line's batch")
    rec.call("today_amended", "GET", f"{API}/schools/1/today", who=manager, expect=200,
             description="the day after the corrections, as 留样与消毒记录 shows it")
    # The ledger pages' corrections: each list's newest record, corrected from its row.
    ledgers = [("accompanied", "accompanied-meals", "评分录错，应为 4 分", {"rating": 4}),
               ("waste", "waste-disposals", "称重有误，实际 45 千克", {"quantity_kg": 45}),
               ("additive_purchase", "additive-purchases", "批号抄错", {"batch": "SJ20260302"}),
               ("additive_use", "additive-uses", "用量记错，实际 12 克", {"quantity": 12})]
    for name, segment, reason, change in ledgers:
        newest = rec.call(f"_{name}_newest", "GET", f"{API}/canteens/1/{segment}", who=manager, expect=200,
                          description=f"the {segment} list")["items"][0]
        draft = rec.call(f"record_draft_{name}", "GET", f"{API}/records/{newest['id']}/draft", who=manager,
                         expect=200, description=f"the newest of {segment} as its correction form starts from it")
        rec.call(f"amendment_{name}", "POST", f"{API}/records/{newest['id']}/amendments", who=manager,
                 headers=key(), body={"reason": reason, "expected_version_id": draft["version_id"],
                                      "record": {**draft["record"], **change}},
                 expect=201, description=f"the corrected record of {segment}")
    # 晨检: someone who came in after the check is added to it by a correction (the form offers it when a second
    # check of the day is refused).
    cook = rec.call("_staff_late", "POST", f"{API}/canteens/1/staff", who=manager, headers=key(), expect=201,
                    body={"name": "孙师傅", "post": "面点"}, description="a cook who started after the morning check")
    rec.call("staff_list_later", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=manager, expect=200,
             description="the active staff, the late cook among them")
    late = {"staff_id": cook["id"], "temperature_c": 36.6, "hands_ok": True, "symptoms": []}
    exists = rec.call("morning_check_exists", "POST", f"{API}/canteens/1/morning-checks", who=manager,
                      headers=key(), body={"check_date": "2026-03-11", "checker_name": "王建国", "persons": [late]},
                      expect=409, description="a second check of the day: the first is named, to be corrected")
    check_id = exists["error"]["details"]["record_id"]
    check = rec.call("record_draft_morning_check", "GET", f"{API}/records/{check_id}/draft", who=manager,
                     expect=200, description="the day's morning check as its correction starts from it")
    rec.call("amendment_morning_check", "POST", f"{API}/records/{check['record_id']}/amendments", who=manager,
             headers=key(), body={"reason": "补充晨检：孙师傅 9 点到岗", "expected_version_id": check["version_id"],
                                  "record": {**check["record"], "persons": [*check["record"]["persons"], late]}},
             expect=201, description="the check corrected: the late cook added")


def record_disposal_correction(rec: Recorder) -> None:
    """更正处置 on 留样与消毒记录: Monday's disposal named the wrong person; the manager corrects it from the log (the
    draft, then the correction with its reason), and the day shows the disposal corrected."""
    key = Keys("contract-disposal-amend")
    day = rec.call("_day_0309_for_disposal", "GET", f"{API}/schools/1/days/2026-03-09", who="demo-manager-1",
                   expect=200, description="Monday, to find the disposal")
    disposal = next(d["sample"]["disposal"] for meal in day["canteens"][0]["meals"]
                    for d in ((meal["menu"] or {}).get("dishes") or []) if d["sample"] and d["sample"]["disposal"])
    draft = rec.call("record_draft_disposal", "GET", f"{API}/records/{disposal['id']}/draft", who="demo-manager-1",
                     expect=200, description="the disposal as its correction starts from it")
    rec.call("amendment_disposal", "POST", f"{API}/records/{disposal['id']}/amendments", who="demo-manager-1",
             headers=key(), body={"reason": "处置人登记错误，实为赵师傅处置",
                                  "expected_version_id": draft["version_id"],
                                  "record": {**draft["record"], "disposer_name": "赵师傅"}},
             expect=201, description="the disposal corrected: who disposed of the sample")
    rec.call("day_0309_disposal_amended", "GET", f"{API}/schools/1/days/2026-03-09", who="demo-manager-1",
             expect=200, description="Monday after the disposal's correction")


def record_histories(rec: Recorder) -> None:
    """更正记录, opened from 已更正: a parent reads what the corrections of the day changed (the lunch sample's weight,
    the menu's renamed dish, the delivery's batch), never a person's record, which its staff read."""
    day = rec.call("_today_parent_amended", "GET", f"{API}/schools/1/today", who="demo-parent-1", expect=200,
                   description="the parent's day, to find the corrected records")
    lunch = next(meal for meal in day["canteens"][0]["meals"] if meal["meal"] == "lunch")
    sample = next(d["sample"] for d in lunch["menu"]["dishes"] if d["sample"] and d["sample"]["version_id"] != d[
        "sample"]["id"])
    rec.call("record_history_sample", "GET", f"{API}/records/{sample['id']}", who="demo-parent-1", expect=200,
             description="a corrected sample's versions: the weight changed")
    rec.call("record_history_menu", "GET", f"{API}/records/{lunch['menu']['id']}", who="demo-parent-1", expect=200,
             description="the corrected menu's versions: a dish renamed reads as one removed, one added")
    item = next(i for d in lunch["menu"]["dishes"] for i in d["ingredients"] if i.get("ingredient") == "西兰花")
    rec.call("record_history_receiving", "GET", f"{API}/records/{item['receiving_id']}", who="demo-parent-1",
             expect=200, description="a corrected delivery's versions: a line's batch")
    checks = rec.call("_checks_today", "GET", f"{API}/canteens/1/morning-checks?from=2026-03-11&to=2026-03-11",
                      who="demo-manager-1", expect=200, description="today's morning check")["items"]
    rec.call("_record_history_morning_check", "GET", f"{API}/records/{checks[0]['id']}", who="demo-manager-1",
             expect=200, description="the morning check's versions, for its staff")
    rec.call("record_history_forbidden", "GET", f"{API}/records/{checks[0]['id']}", who="demo-parent-1", expect=403,
             description="a person's record is not for parents, nor its history")
    # The breakfast disinfection's photo was of the wrong cabinet: retaken, and the parent sees both photos.
    key = Keys("contract-history")
    disinfection_id = next(meal for meal in day["canteens"][0]["meals"] if meal["meal"] == "breakfast")[
        "disinfection"]["records"][0]["id"]
    retaken = rec.call("_upload_disinfection_retaken", "POST", f"{API}/uploads", who="demo-manager-1", headers=key(),
                       data={"file": (io.BytesIO(jpeg(9)), "retaken.jpg"), "canteen_id": "1"}, expect=201,
                       description="the photo retaken")
    draft = rec.call("_record_draft_disinfection_photo", "GET", f"{API}/records/{disinfection_id}/draft",
                     who="demo-manager-1", expect=200, description="the disinfection as its correction starts")
    rec.call("_amendment_disinfection_photo", "POST", f"{API}/records/{disinfection_id}/amendments",
             who="demo-manager-1", headers=key(),
             body={"reason": "照片拍错了消毒柜，重新拍摄", "expected_version_id": draft["version_id"],
                   "record": {**draft["record"], "photo_upload_ids": [retaken["id"]]}},
             expect=201, description="the disinfection's photo replaced")
    rec.call("record_history_disinfection", "GET", f"{API}/records/{disinfection_id}", who="demo-parent-1",
             expect=200, description="a disinfection whose photo was replaced: both photos, before and after")


def record_documents(rec: Recorder) -> None:
    """A delivery's inspection report as the supplier sent it, a PDF from a WeChat chat: uploaded, attached, shown in
    the correction's form and in the dinner dish's trace, and downloaded to be opened."""
    key = Keys("contract-documents")
    manager = "demo-manager-1"
    report = rec.call("upload_pdf", "POST", f"{API}/uploads", who=manager, headers=key(),
                      data={"file": (io.BytesIO(pdf()), "检验报告.pdf"), "canteen_id": "1"}, expect=201,
                      description="a PDF chosen from a WeChat chat, uploaded as wx.uploadFile sends it")
    supplier = rec.call("_suppliers_for_documents", "GET", f"{API}/canteens/1/suppliers", who=manager, expect=200,
                        description="the canteen's suppliers")["items"][0]
    receiving = rec.call("_receiving_with_pdf", "POST", f"{API}/canteens/1/receivings", who=manager, headers=key(),
                         body={"supplier_id": supplier["id"], "received_at": "2026-03-11T09:30:00+08:00",
                               "receiver_name": "王建国", "items": [
                                   {"ingredient": "豆腐", "category": "soy", "batch": "DF-0311", "quantity": 6,
                                    "unit": "kg", "production_date": "2026-03-11", "shelf_life_days": 2,
                                    "storage": "chilled", "storage_temperature_c": 4}],
                               "inspection_report_upload_ids": [report["id"]]},
                         expect=201, description="a delivery whose inspection report is a PDF")
    rec.call("record_draft_receiving_pdf", "GET", f"{API}/records/{receiving['id']}/draft", who=manager, expect=200,
             description="the delivery as its correction starts from it: the PDF among its files")
    rec.call("_menu_0311_dinner", "POST", f"{API}/canteens/1/menus", who=manager, headers=key(), expect=201,
             body={"service_date": "2026-03-11", "meal": "dinner", "dishes": [
                 {"name": "麻婆豆腐", "category": "mixed", "ingredient_item_ids": [receiving["items"][0]["item_id"]]}]},
             description="tonight's dinner, made from that delivery")
    # The manager's day (a writer reads the records fresh; a parent's view may lag by up to a second).
    rec.call("today_pdf_report", "GET", f"{API}/schools/1/today", who=manager, expect=200,
             description="the day: the dinner dish's delivery with its PDF report")
    signed = receiving["files"]["inspection_report"][0]["url"]
    path = signed[signed.index("/api/"):]
    rec.alias(path[len(f"{API}/files/"):path.index("?")], f"test/upload-{report['id']}")  # its key is random
    rec.call("file_pdf", "GET", path, who=None, expect=200,
             description="the PDF behind its signed URL, as wx.downloadFile fetches it")
    stamped = rec.call("_upload_pdf_stamped", "POST", f"{API}/uploads", who=manager, headers=key(),
                       data={"file": (io.BytesIO(pdf()), "检验报告（盖章）.pdf"), "canteen_id": "1"}, expect=201,
                       description="the stamped report, sent later")
    draft = rec.call("_record_draft_receiving_pdf_again", "GET", f"{API}/records/{receiving['id']}/draft",
                     who=manager, expect=200, description="the delivery as its correction starts")
    rec.call("_amendment_receiving_pdf", "POST", f"{API}/records/{receiving['id']}/amendments", who=manager,
             headers=key(), body={"reason": "换成供应商盖章的检验报告", "expected_version_id": draft["version_id"],
                                  "record": {**draft["record"], "inspection_report_upload_ids": [stamped["id"]]}},
             expect=201, description="the report replaced by the stamped one")
    rec.call("record_history_receiving_pdf", "GET", f"{API}/records/{receiving['id']}", who=manager, expect=200,
             description="the delivery's versions: the report replaced, both PDFs kept")


def record_sign_out_everywhere(rec: Recorder) -> None:
    """退出所有设备 from 我的: every session of the account ends (last: the user's token is revoked)."""
    rec.call("logout_all", "POST", f"{API}/auth/logout-all", who="new-parent", expect=200,
             description="every session of the account revoked (a lost phone)")


SCENARIOS = [record_accounts, record_bindings, record_schools, record_records, record_violations, record_notices,
             record_live, record_playback, record_regulators, record_certificate_reading, record_waste_additives,
             record_parent_meals, record_risk, record_channels, record_seals, record_orders,
             record_reports, record_amendments, record_staff_register,
             record_supplier_register, record_disposal_correction, record_histories, record_documents,
             record_sign_out_everywhere]


HOOK_SECRET = "contract-media-hook-secret"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The shared test settings plus subscribe templates and the media hook secret the scenarios use."""
    return {**app_config, "WECHAT_SUBSCRIBE_TEMPLATES": "violation=tmpl-violation-0001,progress=tmpl-progress-0001",
            "MEDIA_HOOK_SECRET": HOOK_SECRET}


@pytest.fixture
def frozen(app: Any) -> Iterator[Any]:
    """The clock stopped at MORNING from before the seed on, so every timestamp is reproducible."""
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seeded(frozen: Any, app: Any) -> dict[str, int]:
    """The demo seed (the ``demo`` fixture's), written at the frozen instant."""
    from backend.cli import seed_demo

    return seed_demo()


def test_fixtures_match_the_api(client, seeded, frozen, as_user, wechat) -> None:
    """Every fixture the mini-program tests use equals what the API answers now."""
    rec = Recorder(client, as_user)
    extra = {"wechat": wechat, "frozen": frozen}
    for scenario in SCENARIOS:
        names = scenario.__code__.co_varnames[1:scenario.__code__.co_argcount]
        scenario(rec, *[extra[name] for name in names])
    problems = compare(rec)
    assert not problems, (
        f"{len(problems)} mini-program fixture(s) drifted from the API "
        "(UPDATE_CONTRACT=1 rewrites them; then run the jest tests):\n" + "\n".join(problems))


@pytest.mark.skipif(rec_module.UPDATE, reason="rewriting fixtures")
def test_a_changed_answer_is_reported_as_drift(client, seeded, as_user, tmp_path, monkeypatch) -> None:
    """The comparison fails, with a diff, when a fixture no longer equals the API's answer."""
    rec = Recorder(client, as_user)
    record_schools(rec)
    monkeypatch.setattr(rec_module, "FIXTURE_DIR", tmp_path)
    for name in rec.recorded:
        (tmp_path / f"{name}.json").write_text(rec_module.dump(rec.normalised(name)), encoding="utf-8")
    assert compare(rec) == []
    changed = rec.normalised("school_1")
    changed["body"]["name"] = "改过的名字"
    (tmp_path / "school_1.json").write_text(rec_module.dump(changed), encoding="utf-8")
    (tmp_path / "orphan.json").write_text("{}", encoding="utf-8")
    problems = compare(rec)
    assert len(problems) == 2
    assert "-    \"name\": \"改过的名字\"," in problems[0] and "+    \"name\": \"西湖实验小学\"," in problems[0]
    assert problems[1].startswith("orphan.json: no scenario produces it")
