"""The canteen's registers in the mini-program's fixtures.

从业人员与健康证: the staff register with each person's health certificate, a person registered (and the refusals
the form shows by field), a person who left corrected to 离职, and a health certificate corrected. By then the
register holds 赵师傅, 李秀英 and 钱阿姨 (钱阿姨 with a certificate, from the certificate-reading scenario) and
孙师傅, who came after the morning check.

供应商与证照: the suppliers with their licences, one without any, a second supplier of a name refused, and a
supplier's contact corrected.
"""

from __future__ import annotations

import io

from backend.records.demo import demo_image
from tests.contract.recorder import Recorder

API = "/api/v1"
MANAGER = "demo-manager-1"


def _key(n: int, register: str = "staff") -> dict[str, str]:
    return {"Idempotency-Key": f"contract-{register}-{n:04d}"}


def record_staff_register(rec: Recorder) -> None:
    """The register as the page lists it (在职 and 离职), registering a person, 离职 and a certificate corrected."""
    staff = rec.call("_staff_before_register", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=MANAGER,
                     expect=200, description="the active staff")["items"]
    by_name = {person["name"]: person for person in staff}
    photo = rec.call("_upload_health_expiring", "POST", f"{API}/uploads", who=MANAGER, headers=_key(1), expect=201,
                     description="李秀英's health certificate photographed",
                     data={"file": (io.BytesIO(demo_image("contract health 李秀英")), "health.jpg"),
                           "canteen_id": "1"})
    rec.call("_health_expiring", "POST", f"{API}/canteens/1/health-certificates", who=MANAGER, headers=_key(2),
             body={"staff_id": by_name["李秀英"]["id"], "number": "330106202500217",
                   "issuer": "杭州市西湖区疾病预防控制中心", "valid_from": "2025-03-26",
                   "valid_until": "2026-03-25", "scan_upload_ids": [photo["id"]]},
             expect=201, description="李秀英's certificate, ending in two weeks")
    rec.call("staff_register", "GET", f"{API}/canteens/1/staff?active=true", who=MANAGER, expect=200,
             description="从业人员与健康证: the people at work, each with the state of their health certificate")
    rec.call("staff_invalid", "POST", f"{API}/canteens/1/staff", who=MANAGER, headers=_key(3), expect=422,
             body={"name": "周小梅", "post": "", "phone": "138-无"},
             description="a person without a post and with a phone number that is none: refused by field")
    rec.call("staff_exists", "POST", f"{API}/canteens/1/staff", who=MANAGER, headers=_key(4), expect=409,
             body={"name": "赵师傅", "post": "厨师", "phone": None},
             description="a second 赵师傅: the register already holds one, to be corrected instead")
    rec.call("staff_create", "POST", f"{API}/canteens/1/staff", who=MANAGER, headers=_key(5), expect=201,
             body={"name": "周小梅", "post": "保洁", "phone": "13905710123"},
             description="a new person on the register (no health certificate yet)")
    leaver = by_name["赵师傅"]["id"]
    draft = rec.call("record_draft_staff", "GET", f"{API}/records/{leaver}/draft", who=MANAGER, expect=200,
                     description="赵师傅 as the register's correction form starts from him")
    rec.call("amendment_staff", "POST", f"{API}/records/{leaver}/amendments", who=MANAGER, headers=_key(6),
             body={"reason": "已于 3 月 10 日离职", "expected_version_id": draft["version_id"],
                   "record": {**draft["record"], "active": False}},
             expect=201, description="赵师傅 has left: corrected to 离职, kept for the records he appears in")
    rec.call("staff_register_left", "GET", f"{API}/canteens/1/staff?active=false", who=MANAGER, expect=200,
             description="the people who left")
    certificate = by_name["钱阿姨"]["health_certificate"]["id"]
    health = rec.call("record_draft_health_certificate", "GET", f"{API}/records/{certificate}/draft", who=MANAGER,
                      expect=200, description="钱阿姨's health certificate as its correction form starts from it")
    rec.call("amendment_health_certificate", "POST", f"{API}/records/{certificate}/amendments", who=MANAGER,
             headers=_key(7), body={"reason": "有效期抄错，证上为 2027-02-20",
                                    "expected_version_id": health["version_id"],
                                    "record": {**health["record"], "valid_until": "2027-02-20"}},
             expect=201, description="钱阿姨's certificate corrected: its end of validity")
    # Someone who left keeps their certificate, and it can still be corrected: 李秀英 leaves, then her certificate's
    # number is found mistyped.
    leaving = by_name["李秀英"]["id"]
    draft = rec.call("_record_draft_staff_leaving", "GET", f"{API}/records/{leaving}/draft", who=MANAGER,
                     expect=200, description="李秀英 as the register's correction form starts from her")
    rec.call("_amendment_staff_leaving", "POST", f"{API}/records/{leaving}/amendments", who=MANAGER, headers=_key(8),
             body={"reason": "已调往分校食堂", "expected_version_id": draft["version_id"],
                   "record": {**draft["record"], "active": False}}, expect=201, description="李秀英 has left")
    left = rec.call("staff_register_left_certified", "GET", f"{API}/canteens/1/staff?active=false", who=MANAGER,
                    expect=200, description="the people who left, one still holding her health certificate")
    held = next(p for p in left["items"] if p["id"] == leaving)["health_certificate"]["id"]
    rec.call("staff_active_after_leaving", "GET", f"{API}/canteens/1/staff?active=true&limit=100", who=MANAGER,
             expect=200, description="the people at work, whom a certificate form picks from: 李秀英 is not among them")
    departed = rec.call("record_draft_health_departed", "GET", f"{API}/records/{held}/draft", who=MANAGER,
                        expect=200, description="the certificate of someone who left, as its correction starts")
    rec.call("staff_departed_detail", "GET", f"{API}/records/{leaving}", who=MANAGER, expect=200,
             description="the holder who left, read by the form to name her")
    rec.call("amendment_health_departed", "POST", f"{API}/records/{held}/amendments", who=MANAGER, headers=_key(9),
             body={"reason": "证号抄错一位", "expected_version_id": departed["version_id"],
                   "record": {**departed["record"], "number": "330106202500218"}},
             expect=201, description="the certificate of someone who left, corrected: its number")


def record_supplier_register(rec: Recorder) -> None:
    """The suppliers as the page lists them, a supplier without licences, a name already registered, a correction."""
    rec.call("supplier_register_create", "POST", f"{API}/canteens/1/suppliers", who=MANAGER,
             headers=_key(1, "supplier"),
             body={"name": "杭州晨光粮油店", "contact_name": "沈晨", "phone": "13905710188"}, expect=201,
             description="a new supplier, no licence registered yet")
    rec.call("supplier_exists", "POST", f"{API}/canteens/1/suppliers", who=MANAGER, headers=_key(2, "supplier"),
             body={"name": "杭州绿源农产品有限公司"}, expect=409,
             description="a second supplier of a name the canteen has: the first is named, to be corrected")
    rec.call("supplier_register", "GET", f"{API}/canteens/1/suppliers", who=MANAGER, expect=200,
             description="供应商与证照: every supplier with its licences, one with none")
    draft = rec.call("record_draft_supplier", "GET", f"{API}/records/1/draft", who=MANAGER, expect=200,
                     description="杭州绿源农产品有限公司 as its correction form starts from it")
    rec.call("amendment_supplier", "POST", f"{API}/records/1/amendments", who=MANAGER, headers=_key(3, "supplier"),
             body={"reason": "联系人变更为王芳", "expected_version_id": draft["version_id"],
                   "record": {**draft["record"], "contact_name": "王芳", "phone": "0571-88887777"}},
             expect=201, description="the supplier's contact corrected")
