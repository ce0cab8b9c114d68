"""The regulator's side of the mini-program's fixtures: the region overview, the region's violations, a
joint inspection visited on the phone (photos, findings, the visit's result, the conclusion), a seal (封存)
placed on the spot and released, and the AI-alarm review queue.

Runs after the school scenarios, so the region's figures count the violations they raised; the AI alarms are
raised last (as the detection worker raises them), so they change none of the figures above.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from tests.contract.recorder import Recorder

API = "/api/v1"
REGULATOR = "demo-regulator"
CITY_REGULATOR = "demo-regulator-city"


def _login(rec: Recorder, wechat: Any) -> dict[str, Any]:
    wechat.register_code("wx-login-code-regulator", openid=REGULATOR)
    login = rec.call("auth_wechat_regulator", "POST", f"{API}/auth/wechat", who=None,
                     body={"code": "wx-login-code-regulator"}, expect=200,
                     description="wx.login code of the county's regulator exchanged for a session token")
    rec.login_as(REGULATOR, login["token"])
    return rec.call("me_regulator", "GET", f"{API}/me", who=REGULATOR, expect=200,
                    description="a regulator: no school binding, the regions regulated and what they may do there")


def record_overview(rec: Recorder, region_id: int) -> None:
    """监管总览: one ``/stats`` per level (figures, ranking, drill-down, weekly trend, cameras, breadcrumbs) and
    问题清单, the lists behind its figures, filtered by the server (period, state, overdue, kind; a total)."""
    rec.call("stats_region", "GET", f"{API}/stats?region_id={region_id}", who=REGULATOR, expect=200,
             description="the county's figures over the last 30 days, its schools ranked and to drill into")
    rec.call("stats_school_drill", "GET", f"{API}/stats?school_id=1", who=REGULATOR, expect=200,
             description="a school of the county drilled into: its figures, the breadcrumbs up to the county")
    rec.call("stats_region_forbidden", "GET", f"{API}/stats?region_id={region_id}", who="demo-principal-1",
             expect=403, description="a principal asking for the county's figures")
    rec.call("region_violations", "GET", f"{API}/regions/{region_id}/violations?limit=20", who=REGULATOR,
             expect=200, description="the county's violations, newest first, and how many in all")
    period = "from=2026-02-10&to=2026-03-11"
    rec.call("region_violations_in_progress", "GET",
             f"{API}/regions/{region_id}/violations?state=in_progress&{period}&limit=20", who=REGULATOR,
             expect=200, description="整改中 tapped: the period's violations not closed yet")
    rec.call("region_violations_rectified_before", "GET",
             f"{API}/regions/{region_id}/violations?state=rectified&{period}&before_id=2&limit=20", who=REGULATOR,
             expect=200, description="已整改, the page after id 2")
    rec.call("region_violations_overdue", "GET",
             f"{API}/regions/{region_id}/violations?overdue=true&{period}&limit=20", who=REGULATOR,
             expect=200, description="已超期 tapped: none overdue")
    rec.call("region_violations_rodent", "GET", f"{API}/regions/{region_id}/violations?kind=rodent&{period}&limit=20",
             who=REGULATOR, expect=200, description="the county's violations of one kind (a kind tapped)")
    rec.call("school_violations_regulator", "GET", f"{API}/schools/1/violations?{period}&limit=20", who=REGULATOR,
             expect=200, description="a school of the county's violations, as its regulator reads them")
    rec.call("violation_detail_regulator", "GET", f"{API}/violations/1", who=REGULATOR, expect=200,
             description="a violation of the county as its regulator reads it")


def record_city_overview(rec: Recorder, wechat: Any) -> None:
    """A regulator of the city: its figures list the county below it to drill into, with breadcrumbs."""
    from sqlalchemy import select

    from backend.accounts.services import grant_regulator
    from backend.cli import _user
    from backend.extensions import db
    from backend.schools.models import Region

    city = db.session.scalar(select(Region).where(Region.code == "330100"))
    grant_regulator(_user(CITY_REGULATOR, "杭州市市场监管局"), city, None)
    db.session.commit()
    wechat.register_code("wx-login-code-regulator-city", openid=CITY_REGULATOR)
    login = rec.call("auth_wechat_regulator_city", "POST", f"{API}/auth/wechat", who=None,
                     body={"code": "wx-login-code-regulator-city"}, expect=200,
                     description="wx.login code of the city's regulator exchanged for a session token")
    rec.login_as(CITY_REGULATOR, login["token"])
    rec.call("me_regulator_city", "GET", f"{API}/me", who=CITY_REGULATOR, expect=200,
             description="a regulator of the city")
    rec.call("stats_city", "GET", f"{API}/stats?region_id={city.id}", who=CITY_REGULATOR, expect=200,
             description="the city's figures: the county below it to drill into")
    county = db.session.scalar(select(Region).where(Region.code == "330106"))
    rec.call("stats_county_city", "GET", f"{API}/stats?region_id={county.id}", who=CITY_REGULATOR, expect=200,
             description="the county drilled into by the city's regulator: breadcrumbs 杭州市 / 西湖区")


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), ((seed * 53) % 256, 90, (seed * 29) % 256)).save(out, "JPEG", quality=80)
    return out.getvalue()


def record_inspection(rec: Recorder, region_id: int) -> None:
    """检查走访: a round planned at the desk, then visited on the phone and concluded."""
    inspectors = rec.call("_region_inspectors", "GET", f"{API}/regions/{region_id}/inspectors", who=REGULATOR,
                          expect=200, description="who may join")
    partner = next(i["user_id"] for i in inspectors if i["name"] != "西湖区市场监管局")
    planned = rec.call("_inspection_create", "POST", f"{API}/regions/{region_id}/inspections", who=REGULATOR,
                       body={"title": "春季开学食品安全联合检查", "planned_at": "2026-03-11T09:30:00+08:00",
                             "inspector_ids": [partner], "canteen_ids": [1, 2]},
                       expect=201, description="the round, planned at the desk")
    round_id = planned["id"]
    rec.call("inspections_region", "GET", f"{API}/regions/{region_id}/inspections", who=REGULATOR, expect=200,
             description="the county's inspection rounds")
    rec.call("inspection_planned", "GET", f"{API}/inspections/{round_id}", who=REGULATOR, expect=200,
             description="a round before its visits")
    photo = rec.call("inspection_photo", "POST", f"{API}/inspections/{round_id}/photos", who=REGULATOR,
                     data={"file": (io.BytesIO(_jpeg(1)), "finding.jpg"), "canteen_id": "1"}, expect=201,
                     description="a photo taken on the spot in canteen 1")
    rec.alias(photo["key"], "violation-photos/test-inspection.jpg")
    rec.call("inspection_photo_not_image", "POST", f"{API}/inspections/{round_id}/photos", who=REGULATOR,
             data={"file": (io.BytesIO(b"%PDF-1.4 not a photo"), "finding.jpg"), "canteen_id": "1"}, expect=415,
             description="a file that is not a photo, judged by its content")
    rec.call("finding_too_short", "POST", f"{API}/inspections/{round_id}/findings", who=REGULATOR,
             body={"canteen_id": 1, "description": "脏", "severity": "minor", "kind": None, "photos": [],
                   "open_violation": True},
             expect=422, description="a finding described too briefly")
    rec.call("finding_create", "POST", f"{API}/inspections/{round_id}/findings", who=REGULATOR,
             body={"canteen_id": 1, "description": "冷藏柜生熟食品混放，未分区标识", "severity": "major",
                   "kind": None, "photos": [photo["key"]], "open_violation": True},
             expect=201, description="a finding with its photo, opening a violation")
    rec.call("visit_record", "POST", f"{API}/inspections/{round_id}/visits", who=REGULATOR,
             body={"canteen_id": 2, "result": "pass"}, expect=200, description="canteen 2 visited: no issues")
    rec.call("inspection_visited", "GET", f"{API}/inspections/{round_id}", who=REGULATOR, expect=200,
             description="the round after its visits")
    rec.call("inspection_complete", "POST", f"{API}/inspections/{round_id}/complete", who=REGULATOR,
             body={"summary": "检查两所学校食堂，发现问题1项，已责令整改。"}, expect=200,
             description="the round concluded")
    rec.call("finding_after_complete", "POST", f"{API}/inspections/{round_id}/findings", who=REGULATOR,
             body={"canteen_id": 1, "description": "补充：地面有积水未清理", "severity": "minor", "kind": None,
                   "photos": [], "open_violation": True},
             expect=409, description="a finding after the round was concluded")


def _raise_alarm(school_id: int, kind: str, minutes_ago: int) -> int:
    """An AI alarm on the school's first camera, as the detection worker raises it; returns its id."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.schools.models import Camera, Canteen, KitchenArea
    from backend.timeutil import utcnow
    from backend.violations.services import raise_violation

    camera_id, canteen_id = db.session.execute(
        select(Camera.id, Canteen.id).join(KitchenArea, KitchenArea.id == Camera.area_id)
        .join(Canteen, Canteen.id == KitchenArea.canteen_id).where(Canteen.school_id == school_id)
        .order_by(Camera.id).limit(1)).one()
    at = utcnow() - timedelta(minutes=minutes_ago)
    return raise_violation(canteen_id=canteen_id, kind=kind, source="ai", camera_id=camera_id,
                           idempotency_key=f"contract-alarm:{camera_id}:{kind}:{minutes_ago}", occurred_at=at,
                           confidence=0.87, evidence={"annotated": f"evidence/{camera_id}/{minutes_ago}.jpg",
                                                      "parent_safe": f"evidence/{camera_id}/{minutes_ago}-p.jpg"}
                           ).violation.id


def record_alarms(rec: Recorder, region_id: int) -> None:
    """告警审核: the county's queue (two alarms of one camera make one event), and each verdict."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.violations.models import Violation

    # The playback scenario's AI alarm is judged first, so the queue holds only the alarms raised here.
    playback = db.session.scalar(select(Violation.id).where(Violation.idempotency_key == "contract-playback"))
    rec.call("_alarm_playback", "POST", f"{API}/alarms/{playback}/review", who=REGULATOR,
             body={"verdict": "confirmed", "reason": None}, expect=201, description="the playback scenario's alarm")
    first = _raise_alarm(1, "no_mask", 6)
    second = _raise_alarm(1, "no_mask", 4)
    smoking = _raise_alarm(2, "smoking", 2)
    rec.call("alarms_region", "GET", f"{API}/regions/{region_id}/alarms?limit=20", who=REGULATOR, expect=200,
             description="the county's AI alarms awaiting review, newest first, grouped per camera and event")
    def verdict(name: str, alarm_id: int, body: dict[str, Any], expect: int, description: str) -> None:
        rec.call(name, "POST", f"{API}/alarms/{alarm_id}/review", who=REGULATOR, body=body, expect=expect,
                 description=description)

    verdict("alarm_confirm", smoking, {"verdict": "confirmed", "reason": None}, 201, "an alarm confirmed")
    verdict("alarm_false_no_reason", second, {"verdict": "false_positive", "reason": None}, 422,
            "a false positive without its reason")
    verdict("alarm_false", second, {"verdict": "false_positive", "reason": "厨师佩戴的是透明口罩"}, 201,
            "an alarm marked false, with the reason")
    verdict("alarm_escalate", first, {"verdict": "escalated", "reason": None}, 201, "an alarm escalated")
    verdict("alarm_already_reviewed", second, {"verdict": "confirmed", "reason": None}, 409,
            "a verdict on an alarm someone already judged otherwise")
    rec.call("alarms_region_empty", "GET", f"{API}/regions/{region_id}/alarms?limit=20", who=REGULATOR,
             expect=200, description="the queue once every alarm is judged")


def record_seals(rec: Recorder) -> None:
    """现场封存 on a visit (components/seals): what could be sealed, a kitchen area sealed, refusals, the seal in
    force as the school's staff read it on 台账填报, and the principal's release."""
    headers = {"Idempotency-Key": "contract-seal-0001"}
    rec.call("seals_in_force_empty", "GET", f"{API}/canteens/1/seals?status=in_force", who=REGULATOR, expect=200,
             description="nothing sealed in the canteen yet")
    areas = rec.call("areas_regulator", "GET", f"{API}/canteens/1/areas", who=REGULATOR, expect=200,
                     description="the canteen's kitchen areas, to seal one")
    rec.call("seal_candidates_receivings", "GET", f"{API}/canteens/1/receivings?from=2026-03-05&to=2026-03-11&limit=50",
             who=REGULATOR, expect=200, description="the batches delivered in the last week, to seal one")
    rec.call("seal_candidates_samples", "GET",
             f"{API}/canteens/1/samples?from=2026-03-09&to=2026-03-11&disposed=false&limit=50", who=REGULATOR,
             expect=200, description="the retained samples not yet disposed of, to seal one")
    area = areas[0]
    rec.call("seal_reason_too_short", "POST", f"{API}/canteens/1/seals", who=REGULATOR,
             body={"target": "area", "target_id": area["id"], "reason": "脏"},
             headers={"Idempotency-Key": "contract-seal-0000"}, expect=422,
             description="a seal's reason shorter than 2 characters")
    seal = rec.call("seal_create_area", "POST", f"{API}/canteens/1/seals", who=REGULATOR,
                    body={"target": "area", "target_id": area["id"], "reason": "发现鼠迹，暂停使用并消杀"},
                    headers=headers, expect=201, description="a kitchen area sealed on the spot by the regulator")
    rec.call("seal_already_sealed", "POST", f"{API}/canteens/1/seals", who=REGULATOR,
             body={"target": "area", "target_id": area["id"], "reason": "再次封存"},
             headers={"Idempotency-Key": "contract-seal-0002"}, expect=409, description="the area is sealed already")
    rec.call("seals_in_force_staff", "GET", f"{API}/canteens/1/seals?status=in_force", who="demo-staff-1",
             expect=200, description="the seal in force as the school's staff read it on 台账填报")
    rec.call("seal_release", "POST", f"{API}/records/{seal['id']}/release", who="demo-principal-1",
             body={"reason": "消杀完毕，复查合格"}, headers={"Idempotency-Key": "contract-seal-0003"}, expect=201,
             description="the principal releases the seal with the reason")


def record_regulators(rec: Recorder, wechat: Any) -> None:
    """The regulator on the phone: log in, the overview, the inspection, the alarm queue (the seal is recorded
    last of all scenarios: it joins the canteen's record chain, which the records fixtures show)."""
    me = _login(rec, wechat)
    region_id = me["regulator_scopes"][0]["region_id"]
    record_overview(rec, region_id)
    record_inspection(rec, region_id)
    record_alarms(rec, region_id)
    record_city_overview(rec, wechat)


def record_orders(rec: Recorder) -> None:
    """监督整改通知 on the phone: an order the county issued (in the console) as the school reads it, the
    principal's answer (a refusal first), the regulator's closing, and an answer refused once it is closed."""
    order = rec.call("_order_issue", "POST", f"{API}/schools/1/supervision-orders", who=REGULATOR,
                     body={"title": "后厨防鼠设施整改", "due_at": "2026-03-18T09:00:00Z", "violation_ids": [1],
                           "content": "热菜烹饪区发现鼠迹，请完善挡鼠板、封堵孔洞并提交整改情况。"},
                     expect=201, description="the county issues an order to the school (the console's form)")
    path = f"{API}/supervision-orders/{order['id']}"
    rec.call("orders_school", "GET", f"{API}/schools/1/supervision-orders", who="demo-staff-1", expect=200,
             description="the school's supervision orders, as its staff read them from 我的")
    rec.call("order_staff", "GET", path, who="demo-staff-1", expect=200,
             description="the order as the school's staff read it (only the principal answers)")
    rec.call("order_principal", "GET", path, who="demo-principal-1", expect=200,
             description="the order as the principal opens it from the WeChat message")
    rec.call("order_response_too_short", "POST", f"{path}/respond", who="demo-principal-1",
             body={"response": "已整改"}, expect=422, description="an answer shorter than 5 characters")
    rec.call("order_respond", "POST", f"{path}/respond", who="demo-principal-1",
             body={"response": "已加装挡鼠板，封堵墙角孔洞 3 处，并请专业公司完成灭鼠。"}, expect=200,
             description="the principal answers the order")
    rec.call("order_regulator", "GET", path, who=REGULATOR, expect=200,
             description="the answered order as the regulator opens it from the WeChat message")
    rec.call("order_close", "POST", f"{path}/close", who=REGULATOR, body={"reason": "现场复查合格"}, expect=200,
             description="the regulator closes the order")
    rec.call("order_respond_closed", "POST", f"{path}/respond", who="demo-principal-1",
             body={"response": "补充：已增设粘鼠板。"}, expect=409, description="an answer after the order was closed")
