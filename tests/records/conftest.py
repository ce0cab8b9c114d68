"""Fixtures of the records tests: kits acting as demo users, and a traced menu of today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from backend.accounts.models import User
from backend.accounts.services import grant_regulator
from backend.extensions import db
from backend.schools.models import Region
from backend.schools.services import create_region, create_school
from backend.timeutil import SHANGHAI, utcnow
from tests.records.helpers import Kit, item, today

# A Tuesday afternoon in Shanghai, far from midnight: records are dated by the Shanghai day, and the demo's
# second canteen serves breakfast on weekdays only, so the real clock made these tests depend on the hour and
# the weekday they ran at. The clock ticks from there, so tokens and durations behave.
RECORDS_CLOCK = datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def records_clock() -> Iterator[None]:
    """Every records test runs on the same weekday afternoon."""
    with time_machine.travel(RECORDS_CLOCK, tick=True):
        yield


@pytest.fixture
def kit(client, demo, as_user):
    """``kit(openid, canteen_id=1)`` → a Kit acting as that demo user."""

    def make(openid: str, canteen_id: int = 1) -> Kit:
        return Kit(client, as_user(openid), canteen_id)

    return make


@pytest.fixture
def manager(kit) -> Kit:
    """The canteen manager of school 1."""
    return kit("demo-manager-1")


@pytest.fixture
def traced(manager) -> dict[str, Any]:
    """A supplier with a certificate, a delivery of pork and rice, and today's lunch made from them."""
    supplier_id = manager.supplier()
    certificate = manager.certificate(supplier_id, today() + timedelta(days=200)).get_json()
    receiving = manager.receiving(supplier_id, [
        item("猪肉", batch="ZR-0301"),
        item("大米", category="grain", batch="DM-0215", quantity=50, production_date=today() - timedelta(days=20),
             shelf_life_days=365, storage="ambient", storage_temperature_c=None)]).get_json()
    pork, rice = (i["item_id"] for i in receiving["items"])
    menu = manager.menu(today(), "lunch", [("红烧肉", [pork, rice]), ("米饭", [rice])]).get_json()
    return {"supplier_id": supplier_id, "certificate": certificate, "receiving": receiving, "pork": pork,
            "rice": rice, "menu": menu, "dishes": {d["name"]: d["dish_id"] for d in menu["dishes"]}}


@pytest.fixture
def morning_checked(manager) -> dict[str, Any]:
    """Today's morning check (晨检) done by one person with a valid health certificate, so that rules about meals
    are tested alone."""
    staff_id = manager.create("staff", {"name": "吴阿姨", "post": "留样员"}).get_json()["id"]
    manager.create("health-certificates", {"staff_id": staff_id, "number": "JKZ-0001", "issuer": "西湖区疾控中心",
                                           "valid_until": today() + timedelta(days=365),
                                           "scan_upload_ids": [manager.photo()]})
    return manager.create("morning-checks", {
        "check_date": today(), "checked_at": utcnow() - timedelta(minutes=1), "checker_name": "王主管",
        "persons": [{"staff_id": staff_id, "temperature_c": 36.4, "hands_ok": True}]}).get_json()


@pytest.fixture
def ningbo_regulator(kit):
    """A regulator of another city (Ningbo), with a school of its own there."""
    province = db.session.scalar(sa.select(Region).where(Region.code == "330000"))
    city = create_region("330200", "宁波市", "city", province)
    create_school(None, city, "宁波实验小学", "primary", None)
    user = User(openid="regulator-ningbo", nickname="宁波市市场监管局")
    db.session.add(user)
    db.session.flush()
    grant_regulator(user, city, None)
    db.session.commit()
    return kit("regulator-ningbo")
