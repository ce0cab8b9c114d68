"""Regulators at work out of the box: two demo inspectors, the region's inspectors to choose from, photos on
findings, and answers that name schools, canteens and people (loaded once per list, not once per row)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from backend.accounts.models import RegulatorScope, User
from backend.accounts.services import grant_regulator
from backend.cli import seed_demo
from backend.extensions import db
from backend.schools.models import Region
from backend.schools.services import create_region
from backend.violations.models import Violation
from tests.violations.conftest import png_bytes, user_id

API = "/api/v1"


def _county() -> Region:
    return db.session.scalar(sa.select(Region).where(Region.code == "330106"))


def _round(client, headers, canteen_ids=(1, 2), title="春季开学食品安全检查") -> dict:
    response = client.post(f"{API}/regions/{_county().id}/inspections", headers=headers,
                           json={"title": title, "planned_at": "2025-03-01T09:00:00",
                                 "inspector_ids": [user_id("demo-regulator-2")], "canteen_ids": list(canteen_ids)})
    assert response.status_code == 201, response.json
    return response.json


def _photo(client, headers, round_id, canteen_id=1):
    return client.post(f"{API}/inspections/{round_id}/photos", headers=headers, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(png_bytes()), "finding.png"), "canteen_id": str(canteen_id)})


def test_the_demo_has_two_inspectors_and_a_joint_inspection_works(client, as_user, kitchen):
    seed_demo()  # a second run changes nothing
    county = _county()
    scopes = db.session.scalars(sa.select(RegulatorScope).where(RegulatorScope.region_id == county.id)).all()
    assert sorted(db.session.get(User, s.user_id).openid for s in scopes) == ["demo-regulator", "demo-regulator-2"]
    # A city-level regulator covers the county too; a regulator of another city does not.
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    city = db.session.scalar(sa.select(Region).where(Region.code == "330100"))
    for openid, nickname, region in (("regulator-city", "杭州市市场监管局", city),
                                     ("regulator-ningbo", "宁波市市场监管局",
                                      create_region("330200", "宁波市", "city", province))):
        user = User(openid=openid, nickname=nickname)
        db.session.add(user)
        db.session.flush()
        grant_regulator(user, region, None)
    grant_regulator(db.session.get(User, user_id("demo-regulator")), city, None)  # listed once, by the county
    db.session.commit()

    regulator = as_user("demo-regulator")
    inspectors = client.get(f"{API}/regions/{county.id}/inspectors", headers=regulator)
    assert inspectors.status_code == 200, inspectors.json
    assert inspectors.json == [
        {"user_id": user_id("demo-regulator"), "name": "西湖区市场监管局", "scope_region_id": county.id,
         "scope_region_name": "西湖区"},
        {"user_id": user_id("demo-regulator-2"), "name": "西湖区市场监管局执法二组", "scope_region_id": county.id,
         "scope_region_name": "西湖区"},
        {"user_id": user_id("regulator-city"), "name": "杭州市市场监管局", "scope_region_id": city.id,
         "scope_region_name": "杭州市"},
    ]
    assert client.get(f"{API}/regions/{county.id}/inspectors", headers=as_user("regulator-ningbo")).status_code == 403
    assert client.get(f"{API}/regions/{county.id}/inspectors",
                      headers=as_user("demo-principal-1")).status_code == 403

    created = _round(client, regulator)
    assert [(i["name"], i["lead"]) for i in created["inspectors"]] == [("西湖区市场监管局", True),
                                                                       ("西湖区市场监管局执法二组", False)]
    finding = client.post(f"{API}/inspections/{created['id']}/findings", headers=as_user("demo-regulator-2"),
                          json={"canteen_id": 2, "description": "冷藏柜温度12℃，超过规定", "severity": "major"})
    assert finding.status_code == 201, finding.json
    assert finding.json["inspector_name"] == "西湖区市场监管局执法二组"


def test_inspectors_attach_photos_to_findings(client, as_user, kitchen):
    regulator = as_user("demo-regulator")
    # The school's photo route is for school members' reports; a regulator is refused there.
    refused = client.post(f"{API}/schools/1/violation-photos", headers=regulator, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(png_bytes()), "finding.png")})
    assert refused.status_code == 403
    inspection = _round(client, regulator)
    photo = _photo(client, regulator, inspection["id"])
    assert photo.status_code == 201, photo.json
    key = photo.json["key"]
    assert key.startswith(f"violation-photos/1/{user_id('demo-regulator')}/") and photo.json["url"]

    finding = client.post(f"{API}/inspections/{inspection['id']}/findings", headers=regulator,
                          json={"canteen_id": 1, "description": "后厨地面积水，防鼠板缺失", "severity": "major",
                                "photos": [key]})
    assert finding.status_code == 201, finding.json
    assert len(finding.json["photos"]) == 1
    shown_photo = client.get(finding.json["photos"][0])  # the signed URL serves the stored (re-encoded) image
    assert shown_photo.status_code == 200 and shown_photo.mimetype == "image/png"
    violation = db.session.get(Violation, finding.json["violation_id"])
    assert violation.evidence == {"photos": [key]}
    # The school's staff see the inspector's photo in the violation's evidence.
    detail = client.get(f"{API}/violations/{violation.id}", headers=as_user("demo-staff-1")).json
    assert len(detail["evidence"]["photos"]) == 1
    shown = client.get(f"{API}/inspections/{inspection['id']}", headers=regulator).json
    assert len(shown["findings"][0]["photos"]) == 1

    # Only the round's inspectors, only its canteens, only while it is open, only images.
    outsider = User(openid="regulator-3")
    db.session.add(outsider)
    db.session.flush()
    grant_regulator(outsider, _county(), None)
    db.session.commit()
    not_one_of_them = _photo(client, as_user("regulator-3"), inspection["id"])
    assert (not_one_of_them.status_code, not_one_of_them.json["error"]["code"]) == (403, "not_an_inspector")
    elsewhere = _photo(client, regulator, inspection["id"], canteen_id=3)
    assert elsewhere.json["error"]["code"] == "canteen_not_in_round"
    text = client.post(f"{API}/inspections/{inspection['id']}/photos", headers=regulator,
                       content_type="multipart/form-data",
                       data={"file": (io.BytesIO(b"%PDF-1.4 not a photo"), "x.jpg"), "canteen_id": "1"})
    assert text.status_code == 415
    # Another inspector's photo cannot be passed off as one's own.
    stolen = client.post(f"{API}/inspections/{inspection['id']}/findings", headers=as_user("demo-regulator-2"),
                         json={"canteen_id": 1, "description": "引用他人照片", "severity": "minor", "photos": [key]})
    assert stolen.json["error"]["code"] == "photo_not_found"
    client.post(f"{API}/inspections/{inspection['id']}/complete", headers=regulator, json={"summary": "完成"})
    assert _photo(client, regulator, inspection["id"]).json["error"]["code"] == "inspection_completed"


def test_answers_name_regions_schools_canteens_and_people(client, as_user, kitchen):
    regulator, principal = as_user("demo-regulator"), as_user("demo-principal-1")
    county = _county()
    check = client.post(f"{API}/regions/{county.id}/spot-checks", headers=regulator, json={"size": 2, "seed": "s"})
    assert check.status_code == 201
    listed = client.get(f"{API}/regions/{county.id}/spot-checks", headers=regulator).json[0]
    assert listed["region_name"] == "西湖区" and listed["created_by_name"] == "西湖区市场监管局"
    assert {(c["canteen_name"], c["school_name"]) for c in listed["canteens"]} == {
        ("学生食堂", "西湖实验小学"), ("学生食堂", "文三路中学")}
    assert [c["canteen_id"] for c in listed["canteens"]] == listed["canteen_ids"]

    inspection = _round(client, regulator)
    client.post(f"{API}/inspections/{inspection['id']}/visits", headers=regulator,
                json={"canteen_id": 1, "result": "pass"})
    shown = client.get(f"{API}/regions/{county.id}/inspections", headers=regulator).json[0]
    assert shown["region_name"] == "西湖区" and shown["created_by_name"] == "西湖区市场监管局"
    assert [(t["school_name"], t["canteen_name"], t["result"]) for t in shown["targets"]] == [
        ("西湖实验小学", "学生食堂", "pass"), ("文三路中学", "学生食堂", None)]

    order = client.post(f"{API}/schools/1/supervision-orders", headers=regulator,
                        json={"title": "后厨防鼠设施整改", "content": "请在期限内完善挡鼠板并提交整改报告",
                              "due_at": "2099-04-01T17:00:00"}).json
    assert (order["school_name"], order["issued_by_name"]) == ("西湖实验小学", "西湖区市场监管局")
    client.post(f"{API}/supervision-orders/{order['id']}/respond", headers=principal,
                json={"response": "已安装挡鼠板并聘请专业公司灭鼠"})
    closed = client.post(f"{API}/supervision-orders/{order['id']}/close", headers=regulator,
                         json={"reason": "现场复查合格"}).json
    assert closed["responded_by_name"] == "西湖实验小学校长" and closed["closed_by_name"] == "西湖区市场监管局"
    assert client.get(f"{API}/schools/1/supervision-orders", headers=principal).json[0]["school_name"] == "西湖实验小学"


@pytest.fixture
def count_queries(app):
    """A counter of the SQL statements the app runs while the ``with`` block is open."""
    class Counter:
        count = 0

        def __enter__(self):
            self.count = 0
            sa.event.listen(db.engine, "before_cursor_execute", self._seen)
            return self

        def __exit__(self, *exc):
            sa.event.remove(db.engine, "before_cursor_execute", self._seen)

        def _seen(self, *args, **kwargs):
            self.count += 1

    return Counter()


def test_lists_load_names_once_per_list_not_per_row(client, as_user, kitchen, count_queries):
    regulator, principal = as_user("demo-regulator"), as_user("demo-principal-1")
    county = _county()

    def cost(url, headers):
        with count_queries as counter:
            assert client.get(url, headers=headers).status_code == 200
        return counter.count

    def grow(times):
        for n in range(times):
            inspection = _round(client, regulator, title=f"第{n}轮检查")
            client.post(f"{API}/inspections/{inspection['id']}/findings", headers=regulator,
                        json={"canteen_id": 1, "description": "冷藏柜温度偏高", "severity": "minor"})
            client.post(f"{API}/regions/{county.id}/spot-checks", headers=regulator, json={"size": 2})
            client.post(f"{API}/schools/1/supervision-orders", headers=regulator,
                        json={"title": f"整改通知{n}", "content": "请在期限内完成整改",
                              "due_at": "2099-04-01T17:00:00"})

    urls = [(f"{API}/regions/{county.id}/inspections", regulator),
            (f"{API}/regions/{county.id}/spot-checks", regulator), (f"{API}/schools/1/supervision-orders", principal)]
    grow(1)
    [cost(url, headers) for url, headers in urls]  # warm: the first request of a session records its use
    one_row = [cost(url, headers) for url, headers in urls]
    grow(4)
    assert [len(client.get(url, headers=headers).json) for url, headers in urls] == [5, 5, 5]
    assert [cost(url, headers) for url, headers in urls] == one_row
