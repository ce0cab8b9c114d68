"""Regulators: reproducible spot checks, joint inspections whose findings open violations, supervision orders."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from backend.accounts.models import User
from backend.accounts.services import grant_regulator
from backend.extensions import db
from backend.notices.models import Notice
from backend.regulators.services import sample_canteens
from backend.schools.models import Canteen, Region
from backend.schools.services import create_region, create_school
from backend.violations.models import Violation


def _more_canteens(count: int = 8) -> list[int]:
    county = db.session.scalar(sa.select(Region).where(Region.code == "330106"))
    ids = []
    for i in range(count):
        school = create_school(None, county, f"测试学校{i}", "primary" if i % 2 else "kindergarten", None)
        canteen = Canteen(school_id=school.id, name="食堂")
        db.session.add(canteen)
        db.session.flush()
        ids.append(canteen.id)
    db.session.commit()
    return ids


def _second_inspector() -> int:
    county = db.session.scalar(sa.select(Region).where(Region.code == "330106"))
    user = User(openid="regulator-2", nickname="执法人员乙")
    db.session.add(user)
    db.session.flush()
    grant_regulator(user, county, None)
    db.session.commit()
    return user.id


def test_spot_checks_are_reproducible_random_samples(client, as_user, kitchen):
    _more_canteens()
    regulator = as_user("demo-regulator")
    first = client.post("/api/v1/regions/3/spot-checks", json={"size": 4, "seed": "2025-03-抽查"}, headers=regulator)
    assert first.status_code == 201, first.json
    again = client.post("/api/v1/regions/3/spot-checks", json={"size": 4, "seed": "2025-03-抽查"}, headers=regulator)
    body = first.json
    assert body["canteen_ids"] == again.json["canteen_ids"] and len(body["canteen_ids"]) == 4
    assert body["population_ids"] == list(range(1, 11))
    # Anyone can recompute it from the seed and the population, without our code.
    ranked = sorted(body["population_ids"], key=lambda c: hashlib.sha256(f"2025-03-抽查:{c}".encode()).hexdigest())
    assert body["canteen_ids"] == ranked[:4]
    other_seed = client.post("/api/v1/regions/3/spot-checks", json={"size": 4, "seed": "another"}, headers=regulator)
    assert other_seed.json["canteen_ids"] != body["canteen_ids"]
    random_seed = client.post("/api/v1/regions/3/spot-checks", json={"size": 3}, headers=regulator).json
    assert len(random_seed["seed"]) == 16
    assert random_seed["canteen_ids"] == sample_canteens(random_seed["seed"], random_seed["population_ids"], 3)
    kindergartens = client.post("/api/v1/regions/3/spot-checks", json={"size": 50, "school_kind": "kindergarten"},
                                headers=regulator).json
    assert kindergartens["sample_size"] == 4 and len(kindergartens["population_ids"]) == 4
    listed = client.get("/api/v1/regions/3/spot-checks", headers=regulator).json
    assert [c["id"] for c in listed][-1] == body["id"]
    assert client.get(f"/api/v1/spot-checks/{body['id']}", headers=regulator).json["seed"] == "2025-03-抽查"
    # School staff and other regions' regulators may not.
    assert client.post("/api/v1/regions/3/spot-checks", json={"size": 2},
                       headers=as_user("demo-principal-1")).status_code == 403


def test_joint_inspection_finding_opens_an_inspection_violation(client, as_user, kitchen):
    second = _second_inspector()
    regulator = as_user("demo-regulator")
    alone = client.post("/api/v1/regions/3/inspections", headers=regulator,
                        json={"title": "春季开学食品安全检查", "planned_at": "2025-03-01T09:00:00",
                              "inspector_ids": [], "canteen_ids": [1, 2]})
    assert alone.status_code == 422
    alone = client.post("/api/v1/regions/3/inspections", headers=regulator,
                        json={"title": "春季开学食品安全检查", "planned_at": "2025-03-01T09:00:00",
                              "inspector_ids": [db.session.scalar(sa.select(User.id).where(
                                  User.openid == "demo-regulator"))], "canteen_ids": [1, 2]})
    assert alone.json["error"]["code"] == "too_few_inspectors"
    outsider = client.post("/api/v1/regions/3/inspections", headers=regulator,
                           json={"title": "春季开学食品安全检查", "planned_at": "2025-03-01T09:00:00",
                                 "inspector_ids": [db.session.scalar(sa.select(User.id).where(
                                     User.openid == "demo-principal-1"))], "canteen_ids": [1]})
    assert outsider.json["error"]["code"] == "inspector_not_in_region"
    created = client.post("/api/v1/regions/3/inspections", headers=regulator,
                          json={"title": "春季开学食品安全检查", "planned_at": "2025-03-01T09:00:00",
                                "inspector_ids": [second], "canteen_ids": [1, 2]})
    assert created.status_code == 201, created.json
    round_id = created.json["id"]
    assert created.json["planned_at"] == "2025-03-01T09:00:00+08:00"
    assert sorted((i["user_id"], i["lead"]) for i in created.json["inspectors"])[-1] == (second, False)

    finding = client.post(f"/api/v1/inspections/{round_id}/findings", headers=as_user("regulator-2"),
                          json={"canteen_id": 1, "description": "冷藏柜温度12℃，超过规定", "severity": "major",
                                "kind": "inspection_finding"})
    assert finding.status_code == 201, finding.json
    violation = db.session.get(Violation, finding.json["violation_id"])
    assert (violation.source, violation.kind, violation.school_id, violation.created_by_id) == (
        "inspection", "inspection_finding", 1, second)
    notified = set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id)
                                      .where(Notice.subject_id == violation.id)))
    # An inspection finding is class 2: the county's inspectors hear of it with the school (not its author).
    assert notified == {"demo-staff-1", "demo-manager-1", "demo-committee-1", "demo-regulator", "demo-regulator-2"}
    # An inspection finding is reviewed by the regulator.
    assert client.get(f"/api/v1/violations/{violation.id}", headers=regulator).json["reviewer"] == "regulator"
    note = client.post(f"/api/v1/inspections/{round_id}/findings", headers=regulator,
                       json={"canteen_id": 2, "description": "台账记录规范，提醒保持", "severity": "minor",
                             "open_violation": False})
    assert note.status_code == 201 and note.json["violation_id"] is None
    outside = client.post(f"/api/v1/inspections/{round_id}/findings", headers=regulator,
                          json={"canteen_id": 3, "description": "不在本次检查范围内", "severity": "minor"})
    assert outside.json["error"]["code"] == "canteen_not_in_round"
    done = client.post(f"/api/v1/inspections/{round_id}/complete", headers=regulator, json={"summary": "发现1个问题"})
    assert done.json["status"] == "completed" and len(done.json["findings"]) == 2
    late = client.post(f"/api/v1/inspections/{round_id}/findings", headers=regulator,
                       json={"canteen_id": 1, "description": "检查结束后补充", "severity": "minor"})
    assert late.status_code == 409
    # A regulator who is not one of the round's inspectors may read it but not add findings.
    _third = User(openid="regulator-3")
    db.session.add(_third)
    db.session.flush()
    grant_regulator(_third, db.session.get(Region, 3), None)
    db.session.commit()
    assert client.get(f"/api/v1/inspections/{round_id}", headers=as_user("regulator-3")).status_code == 200


def test_supervision_order_issue_respond_close(client, as_user, kitchen):
    regulator, principal = as_user("demo-regulator"), as_user("demo-principal-1")
    order = client.post("/api/v1/schools/1/supervision-orders", headers=regulator,
                        json={"title": "后厨防鼠设施整改", "content": "请在期限内完善挡鼠板并提交整改报告",
                              "due_at": "2099-04-01T17:00:00"})
    assert order.status_code == 201, order.json
    order_id = order.json["id"]
    told = set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id)
                                  .where(Notice.subject_type == "supervision_order")))
    assert told == {"demo-principal-1", "demo-staff-1"}
    payload = db.session.scalars(sa.select(Notice.payload)).first()
    assert payload["issuer"] == "西湖区市场监管部门"
    # The message opens the order's page in the mini-program, where the principal answers it.
    pages = set(db.session.scalars(sa.select(Notice.page).where(Notice.subject_type == "supervision_order")))
    assert pages == {f"pages/regulators/order/index?id={order_id}"}
    assert (order.json["status"], order.json["status_label"]) == ("issued", "待答复")
    assert client.post(f"/api/v1/supervision-orders/{order_id}/close", headers=regulator, json={}).status_code == 409
    assert client.post(f"/api/v1/supervision-orders/{order_id}/respond", headers=as_user("demo-staff-1"),
                       json={"response": "已安装挡鼠板"}).status_code == 403
    responded = client.post(f"/api/v1/supervision-orders/{order_id}/respond", headers=principal,
                            json={"response": "已安装挡鼠板并聘请专业公司灭鼠"})
    assert (responded.json["status"], responded.json["status_label"]) == ("responded", "已答复")
    closed = client.post(f"/api/v1/supervision-orders/{order_id}/close", headers=regulator,
                         json={"reason": "现场复查合格"})
    assert (closed.json["status"], closed.json["status_label"]) == ("closed", "已办结")
    assert [o["id"] for o in client.get("/api/v1/schools/1/supervision-orders", headers=principal).json] == [order_id]
    # Schools cannot issue; a past deadline and other schools' violations are refused.
    assert client.post("/api/v1/schools/1/supervision-orders", headers=principal,
                       json={"title": "自查", "content": "学校自己下发通知", "due_at": "2099-01-01T00:00:00"}
                       ).status_code == 403
    past = client.post("/api/v1/schools/1/supervision-orders", headers=regulator,
                       json={"title": "过期", "content": "期限早已过去的通知", "due_at": "2001-01-01T00:00:00"})
    assert past.json["error"]["code"] == "due_in_past"
    from backend.timeutil import utcnow
    from backend.violations.services import raise_violation

    theirs = raise_violation(canteen_id=2, kind="rodent", source="ai", idempotency_key="x", occurred_at=utcnow())
    wrong = client.post("/api/v1/schools/1/supervision-orders", headers=regulator,
                        json={"title": "整改", "content": "请整改下列问题", "due_at": "2099-01-01T00:00:00",
                              "violation_ids": [theirs.violation.id]})
    assert wrong.json["error"]["code"] == "violation_not_in_school"


def test_regulators_of_another_region_see_nothing_here(client, as_user, kitchen):
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    ningbo = create_region("330200", "宁波市", "city", province)
    user = User(openid="regulator-ningbo")
    db.session.add(user)
    db.session.flush()
    grant_regulator(user, ningbo, None)
    db.session.commit()
    headers = as_user("regulator-ningbo")
    assert client.post("/api/v1/regions/3/spot-checks", json={"size": 1}, headers=headers).status_code == 403
    assert client.get("/api/v1/stats?region_id=3", headers=headers).status_code == 403
    assert client.get("/api/v1/stats?school_id=1", headers=headers).status_code == 403
    assert client.post("/api/v1/schools/1/supervision-orders", headers=headers,
                       json={"title": "越权", "content": "不属于本地区的学校", "due_at": "2099-01-01T00:00:00"}
                       ).status_code == 403
    own = client.post(f"/api/v1/regions/{ningbo.id}/spot-checks", json={"size": 1}, headers=headers)
    assert (own.status_code, own.json["error"]["code"]) == (422, "no_canteens")


def test_an_order_answers_the_problems_it_names_by_title_and_status(client, as_user, kitchen):
    from backend.timeutil import utcnow
    from backend.violations.services import raise_violation

    first = raise_violation(canteen_id=1, kind="rodent", source="ai", idempotency_key="o-1", occurred_at=utcnow())
    second = raise_violation(canteen_id=1, kind="no_hat", source="ai", idempotency_key="o-2", occurred_at=utcnow())
    ids = [second.violation.id, first.violation.id]
    order = client.post("/api/v1/schools/1/supervision-orders", headers=as_user("demo-regulator"),
                        json={"title": "鼠患与着装整改", "content": "请整改下列两项问题并答复",
                              "due_at": "2099-04-01T17:00:00", "violation_ids": ids})
    assert order.status_code == 201, order.json
    read = client.get(f"/api/v1/supervision-orders/{order.json['id']}", headers=as_user("demo-principal-1")).json
    assert [(v["id"], v["title"], v["status_label"]) for v in read["violations"]] == [
        (vid, db.session.get(Violation, vid).title, "待通知") for vid in sorted(ids)]
