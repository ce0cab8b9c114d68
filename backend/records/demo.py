"""Demo records of a school: suppliers with certificates, the staff register with health certificates, the
morning check, deliveries, menus whose dishes trace back to batches and suppliers, samples, disinfection and an
accompanied meal, for yesterday and today (``flask seed-demo``: school 1), or for every meal day of the last two
weeks too (``flask seed-demo --history``: both schools, the second one missing a few).

Everything goes through the real services as the demo canteen manager, each record at the time it would have been
written (a menu the afternoon before, a sample before the meal, the disinfection after it), so the chain's times
and the completeness of past days read as a canteen's would. Running it again the same day changes nothing
(suppliers are looked up by name, day records carry fixed Idempotency-Keys); running it later the same day adds the
samples and disinfection of meals that have ended since.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from backend.accounts.models import User
from backend.extensions import db
from backend.permissions import Principal, load_principal
from backend.records import idempotency
from backend.records.meal_windows import scheduled_windows, shanghai_today, window_for
from backend.records.models import (
    MenuDish,
    ReceivingItem,
    RecordEntry,
    RecordKind,
    StaffMember,
    Supplier,
)
from backend.records.services import amend_record, create_record
from backend.records.uploads import store_upload
from backend.records.versions import current_version, is_current, logical_id
from backend.schools.models import Canteen, School
from backend.timeutil import SHANGHAI, utcnow

SUPPLIERS = [
    ("杭州绿源蔬菜配送有限公司", "91330106MA27XB3K1A", "陈建国", "0571-86001234",
     [("business_licence", 730), ("food_business_licence", 20)]),
    ("浙江鲜肉联食品有限公司", "91330100MA2H4L7P2B", "王丽", "0571-86005678",
     [("business_licence", 900), ("food_business_licence", 400), ("animal_quarantine", 200)]),
    ("杭州粮油批发有限公司", "91330105MA28C6N93C", "李强", "0571-86009012",
     [("business_licence", 1000), ("food_production_licence", 500)]),
    ("西湖区蛋品豆制品商行", "92330106MA2D8E5R4D", "赵芳", "13905710001",
     [("business_licence", 600), ("food_business_licence", 300)]),
]
# name, post, phone, days the health certificate has left (None: not registered yet). One certificate ends
# within 30 days (a 健康证到期或未登记 warning) and the newest hire has none yet, so the register shows every state.
STAFF = [
    ("周师傅", "厨师长", "13905710101", 300),
    ("吴阿姨", "留样员", None, 200),
    ("孙师傅", "洗消员", None, 120),
    ("郑师傅", "厨师", "13905710104", 18),
    ("林小燕", "帮厨", None, None),
]
# ingredient, category, supplier index, quantity, unit, production offset (days before), shelf life, storage, °C
ITEMS = [
    ("大米", "grain", 2, 50, "千克", 30, 365, "ambient", None),
    ("食用油", "oil", 2, 20, "升", 60, 540, "ambient", None),
    ("猪肉", "meat", 1, 15, "千克", 1, 3, "chilled", 3.5),
    ("鸡蛋", "egg", 3, 30, "千克", 3, 30, "ambient", None),
    ("豆腐", "soy", 3, 10, "千克", 1, 3, "chilled", 4.0),
    ("青菜", "vegetable", 0, 20, "千克", None, None, "ambient", None),
    ("番茄", "vegetable", 0, 15, "千克", None, None, "ambient", None),
    ("土豆", "vegetable", 0, 15, "千克", None, None, "ambient", None),
]
MENUS = {
    "breakfast": [("鸡蛋饼", "staple", ["鸡蛋", "食用油"]), ("白粥", "staple", ["大米"])],
    "lunch": [("红烧肉", "meat", ["猪肉", "食用油"]), ("番茄炒蛋", "mixed", ["番茄", "鸡蛋", "食用油"]),
              ("清炒青菜", "vegetable", ["青菜", "食用油"]), ("米饭", "staple", ["大米"])],
    "dinner": [("麻婆豆腐", "mixed", ["豆腐", "猪肉"]), ("酸辣土豆丝", "vegetable", ["土豆", "食用油"]),
               ("米饭", "staple", ["大米"])],
}


def demo_image(label: str, size: tuple[int, int] = (640, 480)) -> bytes:
    """A deterministic JPEG standing in for a phone photo (same label, same bytes)."""
    digest = hashlib.sha256(label.encode()).digest()
    image = Image.new("RGB", size, (digest[0], digest[1], digest[2]))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        x, y = digest[3 + i] * size[0] // 256, digest[9 + i] * size[1] // 256
        draw.ellipse((x, y, x + 80, y + 60), fill=(digest[15 + i], 200, 255 - digest[15 + i]))
    draw.rectangle((10, 10, size[0] - 10, size[1] - 10), outline=(255, 255, 255), width=4)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _upload(principal: Principal, canteen: Canteen, label: str) -> int:
    data = demo_image(label)
    key = "demo-upload-" + hashlib.sha256(label.encode()).hexdigest()[:24]
    return store_upload(principal, canteen, data, f"{label}.jpg", max_bytes=10 * 1024 * 1024, idempotency_key=key,
                        fingerprint=idempotency.fingerprint("demo upload", data)).upload.id


def _create(principal: Principal, canteen: Canteen, kind: str, values: dict[str, Any], key: str,
            at: datetime | None = None) -> int:
    """A record written at ``at`` (now by default)."""
    key = "demo-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return create_record(principal, canteen, kind, values, idempotency_key=key,
                         fingerprint=idempotency.fingerprint(f"demo {kind}", values), now=at).record_id


def shanghai_at(day: date, hhmm: str) -> datetime:
    """``day`` at ``hhmm`` (e.g. "14:30"), Beijing time: when a demo record or problem happened."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=SHANGHAI)


def _suppliers(principal: Principal, canteen: Canteen, today: date, registered: datetime) -> list[int]:
    ids = []
    for name, code, contact, phone, certificates in SUPPLIERS:
        existing = db.session.scalar(select(logical_id()).join(Supplier, Supplier.entry_id == RecordEntry.id)
                                     .where(RecordEntry.canteen_id == canteen.id, is_current(), Supplier.name == name))
        if existing is None:
            existing = _create(principal, canteen, RecordKind.SUPPLIER, {
                "name": name, "credit_code": code, "contact_name": contact, "phone": phone,
                "address": "杭州市西湖区", "remarks": None}, f"supplier {name}", registered)
            for kind, days in certificates:
                scan = _upload(principal, canteen, f"{name} {kind}")
                _create(principal, canteen, RecordKind.CERTIFICATE, {
                    "supplier_id": existing, "kind": kind, "number": f"{code[-8:]}-{kind[:4].upper()}",
                    "issuer": "杭州市西湖区市场监督管理局", "valid_from": today - timedelta(days=365),
                    "valid_until": today + timedelta(days=days), "scan_upload_ids": [scan]},
                    f"certificate {name} {kind} {today}", registered)
        ids.append(existing)
    return ids


def _staff(principal: Principal, canteen: Canteen, today: date, registered: datetime) -> None:
    """The staff register and each person's health certificate, looked up by name so a second run adds none."""
    for name, post, phone, days in STAFF:
        existing = db.session.scalar(select(logical_id()).join(StaffMember, StaffMember.entry_id == RecordEntry.id)
                                     .where(RecordEntry.canteen_id == canteen.id, is_current(),
                                            StaffMember.name == name))
        if existing is not None:
            continue
        staff_id = _create(principal, canteen, RecordKind.STAFF,
                           {"name": name, "post": post, "phone": phone, "active": True}, f"staff {name}", registered)
        if days is None:
            continue
        valid_until = today + timedelta(days=days)
        _create(principal, canteen, RecordKind.HEALTH_CERTIFICATE, {
            "staff_id": staff_id, "number": f"3301062026{staff_id:05d}", "issuer": "杭州市西湖区疾病预防控制中心",
            "valid_from": valid_until - timedelta(days=364), "valid_until": valid_until,
            "scan_upload_ids": [_upload(principal, canteen, f"health certificate {name}")], "reading_id": None},
            f"health certificate {name} {today}", registered)


def _morning_check(principal: Principal, canteen: Canteen, day: date, at: datetime) -> None:
    """The day's 晨检 of everyone holding a health certificate (the newest hire, who has none, does not work yet)."""
    people = db.session.execute(select(logical_id(), StaffMember.name).join(
        StaffMember, StaffMember.entry_id == RecordEntry.id).where(RecordEntry.canteen_id == canteen.id, is_current(),
                                                                   StaffMember.active.is_(True))).all()
    certified = {name for name, _, _, days in STAFF if days is not None}
    persons = [{"staff_id": staff_id, "temperature_c": 36.4 + (staff_id % 4) / 10, "hands_ok": True, "symptoms": [],
                "result": None, "remarks": None} for staff_id, name in sorted(people) if name in certified]
    _create(principal, canteen, RecordKind.MORNING_CHECK, {
        "check_date": day, "checked_at": at, "checker_name": "周师傅", "remarks": None, "persons": persons},
        f"morning check {day}", at)


Event = tuple[datetime, Callable[[], None]]


def _day(principal: Principal, canteen: Canteen, day: date, supplier_ids: list[int], now: datetime,
         skipped: frozenset[str] = frozenset()) -> list[Event]:
    """A day's records as events, each at the time it would have been written (the delivery and the menus the
    afternoon before, the morning check and the samples before the meals, the company and the disinfection after
    them); the caller runs those whose time has come, in the order of their times, across days. ``skipped`` names
    what the canteen failed to record that day (``morning_check``, ``disinfection``)."""
    events: list[Event] = []
    item_ids: dict[str, int] = {}
    written: dict[str, int] = {}  # record ids of the day's menus (by meal) and of its accompanied meal
    received_at = shanghai_at(day - timedelta(days=1), "14:30")  # before the menus that use it and the dinner before
    by_supplier: dict[int, list[tuple[Any, ...]]] = {}
    for item in ITEMS:
        by_supplier.setdefault(item[2], []).append(item)

    def receive(index: int, items: list[tuple[Any, ...]], at: datetime) -> None:
        invoice = _upload(principal, canteen, f"invoice {day} {index}")
        record_id = _create(principal, canteen, RecordKind.RECEIVING, {
            "supplier_id": supplier_ids[index], "received_at": received_at, "receiver_name": "周师傅",
            "remarks": None, "inspection_report_upload_ids": [], "invoice_upload_ids": [invoice],
            "items": [{"item_id": None, "ingredient": name, "category": category, "batch": f"{day:%Y%m%d}-{n + 1:02d}",
                       "quantity": quantity, "unit": unit,
                       "production_date": None if offset is None else day - timedelta(days=offset),
                       "shelf_life_days": shelf, "expiry_date": None, "storage": storage,
                       "storage_temperature_c": temperature}
                      for n, (name, category, _, quantity, unit, offset, shelf, storage, temperature)
                      in enumerate(items)]}, f"receiving {day} {index}", at)
        entry = current_version(record_id)
        for item in db.session.scalars(select(ReceivingItem).where(ReceivingItem.entry_id == entry.id)):
            item_ids[item.ingredient] = item.logical_id

    def publish(meal: str, dishes: list[tuple[str, str, list[str]]], at: datetime) -> None:
        written[meal] = _create(principal, canteen, RecordKind.MENU, {
            "service_date": day, "meal": meal, "remarks": None,
            "dishes": [{"name": name, "category": category, "ingredient_item_ids": [item_ids[i] for i in uses]}
                       for name, category, uses in dishes]}, f"menu {day} {meal}", at)

    def sample(meal: str, sampled_at: datetime) -> None:
        menu_entry = current_version(written[meal])
        dishes = db.session.scalars(select(MenuDish).where(MenuDish.entry_id == menu_entry.id).order_by(MenuDish.id))
        for position, dish in enumerate(dishes):
            _create(principal, canteen, RecordKind.SAMPLE, {
                "dish_id": dish.id, "weight_g": 150.0, "sampled_at": sampled_at, "sealed": True,
                "fridge_temperature_c": 4.0, "sampler_name": "吴阿姨",
                "photo_upload_ids": [_upload(principal, canteen, f"sample {day} {meal} {dish.name}")]},
                f"sample {day} {meal} {dish.name}", sampled_at + timedelta(minutes=3 + position))

    accompanied = {"service_date": day, "meal": "lunch", "companion_name": "张明（校长）",
                   "companion_role": "school_leader", "rating": 5,
                   "remarks": "菜品温度适宜，口味清淡，学生反映良好。", "photo_upload_ids": []}

    def accompany(at: datetime) -> None:
        written["accompanied"] = _create(principal, canteen, RecordKind.ACCOMPANIED_MEAL, accompanied,
                                         f"accompanied {day} lunch", at)

    def correct_accompanied(at: datetime) -> None:
        corrected = {**accompanied, "rating": 4, "remarks": "菜品温度适宜，青菜略咸，已提醒厨师减盐。",
                     "photo_upload_ids": [_upload(principal, canteen, f"accompanied {day}")]}
        key = "demo-" + hashlib.sha256(f"amend accompanied {day}".encode()).hexdigest()[:32]
        amend_record(principal, written["accompanied"], corrected, "评分和意见登记有误，按陪餐记录本更正，补上陪餐照片",
                     expected_version_id=None, idempotency_key=key,
                     fingerprint=idempotency.fingerprint("demo amendment", corrected), now=at)

    def disinfect(meal: str, performed_at: datetime) -> None:
        _create(principal, canteen, RecordKind.DISINFECTION, {
            "service_date": day, "meal": meal, "target": "tableware", "area_id": None, "target_name": "餐盘、碗筷",
            "method": "steam", "temperature_c": 100.0, "minutes": 15.0, "concentration_mg_l": None,
            "item_count": 480, "performed_at": performed_at, "operator_name": "孙师傅",
            "photo_upload_ids": [_upload(principal, canteen, f"disinfection {day} {meal}")]},
            f"disinfection {day} {meal}", performed_at + timedelta(minutes=5))

    for index, items in sorted(by_supplier.items()):
        at = received_at + timedelta(minutes=10 + index)
        events.append((at, lambda index=index, items=items, at=at: receive(index, items, at)))
    for position, (meal, dishes) in enumerate(MENUS.items()):
        at = received_at + timedelta(minutes=40 + position)
        events.append((at, lambda meal=meal, dishes=dishes, at=at: publish(meal, dishes, at)))
    windows = {meal: window_for(canteen, day, meal) for meal in MENUS}
    checked_at = windows["breakfast"].start - timedelta(minutes=50)
    if "morning_check" not in skipped:
        events.append((checked_at, lambda: _morning_check(principal, canteen, day, checked_at)))
    for meal, window in windows.items():
        sampled_at = window.start - timedelta(minutes=20)
        events.append((sampled_at + timedelta(minutes=3), lambda meal=meal, at=sampled_at: sample(meal, at)))
        if meal == "lunch":
            served = window.end + timedelta(minutes=5)
            events.append((served, lambda at=served: accompany(at)))
        if "disinfection" not in skipped:
            performed_at = window.end + timedelta(minutes=30)
            events.append((performed_at + timedelta(minutes=5), lambda meal=meal, at=performed_at: disinfect(meal, at)))
    if day == shanghai_today(now) - timedelta(days=1):
        # Yesterday's company was corrected that evening, its photo added: the desk shows an amendment.
        evening = shanghai_at(day, "19:30")
        events.append((evening, lambda: correct_accompanied(evening)))
    return events


# The second school's gaps over the last two weeks (its n-th meal day before yesterday, counting back: what it did
# not record), so its completeness falls below the region's warning line and 台账 has incomplete days to show.
GAPS = {2: {1: frozenset({"disinfection"}), 3: frozenset({"morning_check"}), 6: frozenset({"disinfection"}),
            7: frozenset({"morning_check", "disinfection"})}}
HISTORY_DAYS = 14


def seed_demo_records(school_id: int, now: datetime | None = None, history: bool = False) -> dict[str, int]:
    """Create (or complete) yesterday's and today's demo records of a school's first canteen; with ``history``, of
    every meal day of the last two weeks too (the demo school numbered ``school_id`` in GAPS misses a few)."""
    now = now or utcnow()
    school = db.session.get(School, school_id)
    canteen = school.canteens[0]
    manager = db.session.scalar(select(User).where(User.openid == f"demo-manager-{school_id}"))
    principal = load_principal(manager)
    today = shanghai_today(now)
    # Registered before the first day written: a delivery never comes from a supplier registered after it.
    registered = shanghai_at(today - timedelta(days=HISTORY_DAYS + 7 if history else 2), "15:00")
    supplier_ids = _suppliers(principal, canteen, today, registered)
    _staff(principal, canteen, today, registered)
    gaps = GAPS.get(school_id, {}) if history else {}
    past = [d for d in (today - timedelta(days=back) for back in range(HISTORY_DAYS, 1, -1) if history)
            if scheduled_windows(canteen, d)]
    events: list[Event] = []
    for day in [*past, today - timedelta(days=1), today]:
        nth_back = len(past) - past.index(day) if day in past else 0
        events += _day(principal, canteen, day, supplier_ids, now, gaps.get(nth_back, frozenset()))
    # In the order of their times across days (a day's delivery comes the afternoon before), so the chain runs in
    # time order as a canteen's does; what is still to come today is not written.
    for at, action in sorted(events, key=lambda event: event[0]):
        if at <= now:
            action()
    return dict(db.session.execute(select(RecordEntry.kind, func.count()).where(
        RecordEntry.canteen_id == canteen.id, is_current()).group_by(RecordEntry.kind)).all())
