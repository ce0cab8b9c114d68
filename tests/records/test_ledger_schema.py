"""The 台账's OpenAPI output schema (``backend/records/ledger_schemas.py``) describes the whole answer: dumping
through it keeps every key and value the ledger builds, for a day holding every kind of record, an amendment,
a disposal, the trace and certificates."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from backend.extensions import db
from backend.records.ledger import LEDGER_KINDS, canteen_ledger
from backend.records.ledger_schemas import DayViewOut
from backend.schools.models import Canteen
from backend.timeutil import utcnow
from tests.records.helpers import key_paths, record_every_kind, steady, today

FIXTURES = Path(__file__).resolve().parents[2] / "miniprogram" / "test" / "fixtures"


def test_the_schema_keeps_every_field_of_a_full_day(manager, traced, kit, app):
    record_every_kind(manager, traced)
    # The morning check, one person off food handling: its persons and counts are in the 台账 too.
    staff_id = manager.create("staff", {"name": "郑师傅", "post": "厨师"}).get_json()["id"]
    manager.create("morning-checks", {"check_date": today(), "checked_at": utcnow() - timedelta(minutes=30),
                                      "checker_name": "王主管", "persons": [
                                          {"staff_id": staff_id, "temperature_c": 37.6, "hands_ok": True,
                                           "symptoms": ["fever"], "remarks": "体温偏高，已安排休息"}]})
    answer = kit("demo-regulator").get("/canteens/1/ledger", day=today().isoformat()).get_json()
    built = json.loads(json.dumps(canteen_ledger(db.session.get(Canteen, 1), today(), utcnow())))
    # The day holds every kind, so every record schema is exercised.
    assert all(built["records"][kind.value] for kind in LEDGER_KINDS), {k: len(v) for k, v in built["records"].items()}
    lunch = next(m for m in built["trace"]["meals"] if m["meal"] == "lunch")
    assert lunch["disinfection"]["records"] and lunch["accompanied_meals"]
    assert any(d["sample"] for d in lunch["menu"]["dishes"])
    assert built["receivings"] and built["suppliers"] and built["certificates"]
    assert built["additive_stock"]["additives"][0]["batches"]
    (check,) = answer["records"]["morning_check"]
    assert (check["summary"], check["off_food_handling"]) == ({"checked": 1, "passed": 0, "failed": 1}, ["郑师傅"])
    assert check["persons"][0]["findings"] == ["体温 37.6°C", "发热"]
    assert check["persons"][0]["certificate_status"] == "missing"
    missing = key_paths(built) - key_paths(answer)
    assert not missing, f"keys the schema drops: {sorted(missing)}"
    assert steady(answer) == steady(built)


def test_the_openapi_document_describes_the_ledger(client):
    document = client.get("/openapi.json").json
    operation = document["paths"]["/api/v1/canteens/{canteen_id}/ledger"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/LedgerOut")
    schemas = document["components"]["schemas"]
    ledger = schemas["LedgerOut"]["properties"]
    assert {"records", "trace", "receivings", "suppliers", "certificates", "amendments",
            "additive_stock"} <= set(ledger)
    record = schemas["LedgerRecordOut"]["properties"]
    # The envelope and the fields of each kind the console reads.
    assert {"id", "version_id", "kind", "amendment", "files", "items", "dishes", "weight_g", "companion_name",
            "method_label", "disposer_name", "valid_until", "waste_kind_label", "quantity_kg", "collector_company",
            "handover_name", "additive_name", "batch", "buyer_name", "keeper_name", "cabinet", "remaining",
            "issuer_name", "user_name", "purchase_id"} <= set(record)


def test_the_day_views_schema_keeps_every_field_of_its_answers(manager, traced, morning_checked, kit):
    """The day view is served as rendered JSON, so its schema only documents it: dumping a full day and the
    mini-program's recorded answers (a parent's, a manager's, with opinions, with corrections) through it
    changes nothing."""
    record_every_kind(manager, traced)
    answers = [kit("demo-parent-1").get("/schools/1/today").get_json()]
    answers += [json.loads(path.read_text(encoding="utf-8"))["body"] for path in sorted(FIXTURES.glob("*.json"))
                if path.name.startswith(("today_", "day_"))]
    assert len(answers) >= 6 and answers[0]["canteens"][0]["morning_check"]["checked"] == 1
    for answer in answers:
        dumped = DayViewOut().dump(answer)
        assert not key_paths(answer) - key_paths(dumped), sorted(key_paths(answer) - key_paths(dumped))
        assert dumped == answer


def test_the_openapi_document_describes_the_day_view(client):
    operations = client.get("/openapi.json").json["paths"]
    for path in ("/api/v1/schools/{school_id}/today", "/api/v1/schools/{school_id}/days/{day}"):
        ref = operations[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/DayViewOut"), path
