"""家长陪餐: the school publishes slots, parents sign up (idempotent, capacity, own school only), the school
decides, the parent rates after the meal (never before), the school answers; the opinions show in the day view
and the transparency data without the parent's name. Fixed clock: Monday 9 March 2026, 09:00 in Shanghai
(the demo canteens serve lunch 11:30–12:30)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from backend.accounts.models import Role, User
from backend.accounts.services import grant_membership, issue_session
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.parent_meals.models import ParentMealSignup
from backend.schools.models import School
from backend.timeutil import SHANGHAI
from tests.conftest import using_postgresql
from tests.records.helpers import Kit

API = "/api/v1"
MONDAY = date(2026, 3, 9)
MORNING = datetime(2026, 3, 9, 9, 0, tzinfo=SHANGHAI)
AFTER_LUNCH = datetime(2026, 3, 9, 12, 40, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def people(client, demo, as_user, clock):
    """Headers of the demo users of school 1 (and the parent of school 2), and a second parent of school 1."""
    extra = User(openid="demo-parent-extra", nickname="另一位家长")
    db.session.add(extra)
    db.session.flush()
    grant_membership(extra, db.session.get(School, 1), Role.PARENT, None)
    db.session.commit()
    names = ["parent-1", "committee-1", "principal-1", "staff-1", "manager-1", "parent-2", "principal-2"]
    found = {name: as_user(f"demo-{name}") for name in names}
    found["extra"] = as_user("demo-parent-extra")
    found["regulator"] = as_user("demo-regulator")
    return found


def _slot(client, headers, *, school=1, canteen=1, day=MONDAY, meal="lunch", capacity=2, expect=201):
    response = client.post(f"{API}/schools/{school}/parent-meal-slots", headers=headers,
                           json={"canteen_id": canteen, "service_date": day.isoformat(), "meal": meal,
                                 "capacity": capacity, "note": "请提前十分钟到校门口登记"})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def _sign_up(client, headers, slot_id, expect=201):
    response = client.post(f"{API}/parent-meal-slots/{slot_id}/signups", headers=headers, json={})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def _decide(client, headers, signup_id, decision="approve", expect=200):
    response = client.post(f"{API}/parent-meal-signups/{signup_id}/decision", headers=headers,
                           json={"decision": decision})
    assert response.status_code == expect, response.get_json()
    return response.get_json()


RATING = {"taste": 4, "hygiene": 5, "portion": 3, "comment": "红烧肉偏咸，米饭很香"}


def test_the_whole_round_shows_in_the_day_view_and_the_transparency_data(client, people, clock, monkeypatch):
    # Readers may see a school snapshot up to a second old; here every read checks the cached day view afresh,
    # so a rating and an answer must change its version.
    monkeypatch.setattr("backend.records.day.SNAPSHOT_MAX_AGE_SECONDS", 0)
    slot = _slot(client, people["principal-1"])
    assert (slot["capacity"], slot["taken"], slot["remaining"], slot["open"]) == (2, 0, 2, True)
    assert slot["meal_starts_at"] == "2026-03-09T11:30:00+08:00"

    signup = _sign_up(client, people["parent-1"], slot["id"])
    assert (signup["status"], signup["status_label"], signup["can_rate"]) == ("pending", "待审核", False)
    again = _sign_up(client, people["parent-1"], slot["id"], expect=200)
    assert again["id"] == signup["id"]  # idempotent: the same sign-up, no second place taken
    _sign_up(client, people["committee-1"], slot["id"])
    full = client.post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=people["extra"], json={})
    assert full.status_code == 409
    assert full.get_json()["error"]["code"] == "slot_full"
    assert full.get_json()["error"]["message"] == "该餐次的陪餐名额已满"

    listed = client.get(f"{API}/schools/1/parent-meal-slots", headers=people["parent-1"]).get_json()
    assert [(s["id"], s["taken"], s["full"], s["my_signup"]["id"]) for s in listed] == \
        [(slot["id"], 2, True, signup["id"])]

    school_list = client.get(f"{API}/schools/1/parent-meal-signups?status=pending", headers=people["staff-1"])
    assert school_list.status_code == 200
    assert {(s["name"], s["child_class"]) for s in school_list.get_json()} >= {("西湖实验小学家长", "三年级二班")}
    approved = _decide(client, people["principal-1"], signup["id"])
    assert approved["status"] == "approved"

    early = client.post(f"{API}/parent-meal-signups/{signup['id']}/rating", headers=people["parent-1"], json=RATING)
    assert early.status_code == 422
    assert early.get_json()["error"]["code"] == "meal_not_served_yet"
    assert early.get_json()["error"]["message"] == "陪餐尚未开始，用餐后才能评价"
    assert early.get_json()["error"]["details"]["meal_starts_at"] == "2026-03-09T11:30:00+08:00"

    before = client.get(f"{API}/schools/1/today", headers=people["parent-1"]).get_json()
    assert before["canteens"][0]["parent_meals"] == []  # cached now: the rating below must still show

    clock.move_to(AFTER_LUNCH)
    mine = client.get(f"{API}/schools/1/parent-meal-signups/mine", headers=people["parent-1"]).get_json()
    assert [(m["id"], m["can_rate"]) for m in mine] == [(signup["id"], True)]
    rated = client.post(f"{API}/parent-meal-signups/{signup['id']}/rating", headers=people["parent-1"], json=RATING)
    assert rated.status_code == 200, rated.get_json()
    assert rated.get_json()["opinion"]["taste"] == 4 and rated.get_json()["can_rate"] is False
    same = client.post(f"{API}/parent-meal-signups/{signup['id']}/rating", headers=people["parent-1"], json=RATING)
    assert same.status_code == 200
    changed = client.post(f"{API}/parent-meal-signups/{signup['id']}/rating", headers=people["parent-1"],
                          json={**RATING, "taste": 1})
    assert changed.status_code == 409 and changed.get_json()["error"]["code"] == "already_rated"

    day = client.get(f"{API}/schools/1/today", headers=people["parent-1"]).get_json()
    [opinion] = day["canteens"][0]["parent_meals"]
    assert (opinion["meal"], opinion["role_label"], opinion["comment"], opinion["answer"]) == \
        ("lunch", "家长", "红烧肉偏咸，米饭很香", None)
    assert opinion["rated_at"] == "2026-03-09T12:40:00+08:00"

    answered = client.post(f"{API}/parent-meal-signups/{signup['id']}/answer", headers=people["staff-1"],
                           json={"answer": "已请厨师减少用盐，下周起调整"})
    assert answered.status_code == 200, answered.get_json()
    day = client.get(f"{API}/schools/1/today", headers=people["committee-1"]).get_json()
    assert day["canteens"][0]["parent_meals"][0]["answer"] == "已请厨师减少用盐，下周起调整"
    assert day["canteens"][0]["parent_meals"][0]["answered_at"] == "2026-03-09T12:40:00+08:00"

    page = client.get(f"{API}/schools/1/transparency?from=2026-03-01&to=2026-03-31", headers=people["parent-1"])
    assert page.status_code == 200, page.get_json()
    meals = page.get_json()["parent_meals"]
    assert (meals["rated"], meals["answered"], meals["averages"]) == (1, 1, {"taste": 4, "hygiene": 5, "portion": 3})
    assert meals["opinions"][0]["answer"] == "已请厨师减少用盐，下周起调整"
    public = client.get(f"{API}/schools/1/parent-meal-opinions?from=2026-03-09&to=2026-03-09",
                        headers=people["parent-1"]).get_json()
    assert public["opinions"][0]["signup_id"] == signup["id"]
    for body in (day, page.get_json(), public):  # opinions never name the parent
        text = str(body)
        assert "西湖实验小学家长" not in text and "三年级二班" not in text

    actions = set(db.session.scalars(sa.select(AuditLog.action).where(AuditLog.school_id == 1)))
    assert {"parent_meal.slot_publish", "parent_meal.approve", "parent_meal.answer"} <= actions


def test_a_parent_sees_and_signs_up_only_at_their_childs_school(client, people, clock):
    slot = _slot(client, people["principal-1"])
    other = _slot(client, people["principal-2"], school=2, canteen=2)
    assert client.get(f"{API}/schools/1/parent-meal-slots", headers=people["parent-2"]).status_code == 403
    assert client.get(f"{API}/schools/1/parent-meal-opinions", headers=people["parent-2"]).status_code == 403
    refused = client.post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=people["parent-2"], json={})
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ParentMealSignup)) == 0
    # The school's own list never shows another school's slots.
    assert [s["id"] for s in client.get(f"{API}/schools/2/parent-meal-slots",
                                        headers=people["parent-2"]).get_json()] == [other["id"]]
    mine = _sign_up(client, people["parent-1"], slot["id"])
    # The other school's principal cannot decide it, nor anyone answer it from there.
    assert client.post(f"{API}/parent-meal-signups/{mine['id']}/decision", headers=people["principal-2"],
                       json={"decision": "approve"}).status_code == 403
    # Staff do not sign up as parents; the canteen manager does not decide.
    assert client.post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=people["staff-1"],
                       json={}).status_code == 403
    assert client.post(f"{API}/parent-meal-signups/{mine['id']}/decision", headers=people["manager-1"],
                       json={"decision": "approve"}).status_code == 403
    # Regulators read the region's opinions, they do not sign up.
    assert client.get(f"{API}/schools/1/parent-meal-opinions", headers=people["regulator"]).status_code == 200
    # Another parent of the same school does not rate someone else's meal.
    committee = _sign_up(client, people["committee-1"], slot["id"])
    _decide(client, people["principal-1"], committee["id"])
    clock.move_to(AFTER_LUNCH)
    stranger = client.post(f"{API}/parent-meal-signups/{committee['id']}/rating", headers=people["parent-1"],
                           json=RATING)
    assert stranger.status_code == 403 and stranger.get_json()["error"]["message"] == "只能评价自己参加的陪餐"


def test_publishing_rules_and_declines(client, people, clock):
    past = _slot(client, people["principal-1"], meal="breakfast", expect=422)
    assert past["error"]["code"] == "slot_in_past"
    foreign = _slot(client, people["principal-1"], canteen=2, expect=422)
    assert foreign["error"]["code"] == "canteen_not_in_school"
    slot = _slot(client, people["staff-1"], capacity=1)
    assert _slot(client, people["principal-1"], expect=409)["error"]["code"] == "slot_exists"
    assert client.post(f"{API}/schools/1/parent-meal-slots", headers=people["parent-1"], json={
        "canteen_id": 1, "service_date": "2026-03-10", "meal": "lunch", "capacity": 1}).status_code == 403

    first = _sign_up(client, people["parent-1"], slot["id"])
    _decide(client, people["principal-1"], first["id"], "decline")
    # A declined sign-up frees its place; the parent asking again gets their declined sign-up back.
    assert _sign_up(client, people["parent-1"], slot["id"], expect=200)["status"] == "declined"
    second = _sign_up(client, people["committee-1"], slot["id"])
    full = _decide(client, people["principal-1"], first["id"], "approve", expect=409)
    assert full["error"]["code"] == "slot_full"
    clock.move_to(AFTER_LUNCH)
    # A declined or pending sign-up is not rated; a closed slot takes no one.
    assert client.post(f"{API}/parent-meal-signups/{second['id']}/rating", headers=people["committee-1"],
                       json=RATING).get_json()["error"]["code"] == "signup_not_approved"
    closed = client.post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=people["extra"], json={})
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "slot_closed"
    assert client.post(f"{API}/parent-meal-signups/{second['id']}/answer", headers=people["principal-1"],
                       json={"answer": "感谢参与"}).get_json()["error"]["code"] == "not_rated"


def test_ratings_are_validated(client, people, clock):
    slot = _slot(client, people["principal-1"])
    signup = _sign_up(client, people["parent-1"], slot["id"])
    _decide(client, people["principal-1"], signup["id"])
    clock.move_to(AFTER_LUNCH)
    for body in ({**RATING, "taste": 0}, {**RATING, "hygiene": 6}, {"taste": 3}, {**RATING, "comment": "x" * 501}):
        response = client.post(f"{API}/parent-meal-signups/{signup['id']}/rating", headers=people["parent-1"],
                               json=body)
        assert response.status_code == 422, body


def test_parents_read_the_morning_check_as_counts_only(client, people, clock):
    """晨检 beside samples and disinfection: how many were checked, passed, and are off food handling; never who,
    never a temperature or a certificate."""
    manager = Kit(client, people["manager-1"])
    staff = [manager.create("staff", {"name": name, "post": "厨师"}).get_json()["id"] for name in ("赵大厨", "钱师傅")]
    for number, staff_id in enumerate(staff):
        manager.create("health-certificates", {"staff_id": staff_id, "number": f"JKZ-00{number}",
                                               "issuer": "西湖区疾控中心", "valid_until": MONDAY + timedelta(days=300),
                                               "scan_upload_ids": [manager.photo()]})
    manager.create("morning-checks", {"check_date": MONDAY, "checked_at": "2026-03-09T07:00:00",
                                      "checker_name": "王主管",
                                      "persons": [{"staff_id": staff[0], "temperature_c": 36.5, "hands_ok": True},
                                                  {"staff_id": staff[1], "temperature_c": 38.3, "hands_ok": True}]})
    for who in ("parent-1", "committee-1"):
        response = client.get(f"{API}/schools/1/today", headers=people[who])
        block = response.get_json()["canteens"][0]["morning_check"]
        assert (block["status"], block["checked"], block["passed"], block["failed"]) == ("done", 2, 1, 1)
        body = response.get_data(as_text=True)
        for personal in ("赵大厨", "钱师傅", "王主管", "38.3", "36.5", "JKZ-00", "temperature", "staff_id", "symptom"):
            assert personal not in body, (who, personal)


@pytest.mark.skipif(not using_postgresql(), reason="concurrent writers need PostgreSQL's row locks")
def test_concurrent_sign_ups_never_overfill_a_slot(app, client, people, clock):
    """Eight parents, each asking twice at once, for two places: two sign-ups, each answered again (200), the
    rest refused with 409 ``slot_full``."""
    slot = _slot(client, people["principal-1"], capacity=2)
    school = db.session.get(School, 1)
    headers = []
    for n in range(8):
        user = User(openid=f"concurrent-parent-{n}")
        db.session.add(user)
        db.session.flush()
        grant_membership(user, school, Role.PARENT, None)
        db.session.commit()
        issued = issue_session(user, 24)
        db.session.commit()
        headers.append({"Authorization": f"Bearer {issued.token}"})

    def sign_up(n):
        response = app.test_client().post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=headers[n % 8],
                                          json={})
        return n % 8, response.status_code, response.get_json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(sign_up, range(16)))
    winners = {who for who, status, _ in answers if status == 201}
    assert len(winners) == 2
    assert {status for who, status, _ in answers if who in winners} <= {200, 201}
    assert all(body["error"]["code"] == "slot_full" for who, status, body in answers if who not in winners)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ParentMealSignup)) == 2


def test_periods_are_checked_and_only_parents_sign_up(client, people, clock, as_user):
    reversed_period = client.get(f"{API}/schools/1/parent-meal-slots?from=2026-03-10&to=2026-03-01",
                                 headers=people["parent-1"])
    assert reversed_period.status_code == 422 and reversed_period.get_json()["error"]["code"] == "period_reversed"
    too_long = client.get(f"{API}/schools/1/parent-meal-opinions?from=2024-01-01&to=2026-03-01",
                          headers=people["committee-1"])
    assert too_long.status_code == 422 and too_long.get_json()["error"]["code"] == "period_too_long"
    slot = _slot(client, people["principal-1"])
    admin = client.post(f"{API}/parent-meal-slots/{slot['id']}/signups", headers=as_user("demo-admin"), json={})
    assert admin.status_code == 422 and admin.get_json()["error"]["message"] == "只有本校的家长和家委会成员可以报名陪餐"
    # The default period of the slots runs from today for 30 days: a week ahead is listed, in date order.
    ahead = _slot(client, people["principal-1"], day=MONDAY + timedelta(days=7))
    listed = client.get(f"{API}/schools/1/parent-meal-slots", headers=people["parent-1"]).get_json()
    assert [s["id"] for s in listed] == [slot["id"], ahead["id"]]
