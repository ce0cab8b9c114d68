"""The 台账's OpenAPI output schema (``backend/records/ledger_schemas.py``) describes the whole answer: dumping
through it keeps every key and value the ledger builds, for a day holding every kind of record, an amendment,
a disposal, the trace and certificates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from backend.extensions import db
from backend.records.ledger import LEDGER_KINDS, canteen_ledger
from backend.schools.models import Canteen
from backend.timeutil import utcnow
from tests.records.helpers import today
from tests.records.test_ledger import _amended_sample

# Differ between two reads a moment apart: the signed URLs' expiry and the time of the answer.
MOMENTARY = {"url", "url_expires_at", "generated_at"}


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in MOMENTARY else _steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def _keys(value: Any, path: str = "") -> set[str]:
    """Every key path of a JSON value (list items merged), e.g. ``records.sample[].disposal.id``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{'<id>' if k.isdigit() else k}".lstrip(".")
            found |= {here} | _keys(v, here)
    elif isinstance(value, list):
        for v in value:
            found |= _keys(v, f"{path}[]")
    return found


def test_the_schema_keeps_every_field_of_a_full_day(manager, traced, kit, app):
    _amended_sample(manager, traced)
    old = manager.sample(traced["dishes"]["红烧肉"], utcnow().replace(microsecond=0) - timedelta(hours=49)).get_json()
    manager.create("sample-disposals", {"sample_id": old["id"], "disposer_name": "吴阿姨", "remarks": "到期处置"})
    manager.disinfection(today(), "lunch")
    manager.create("accompanied-meals", {"service_date": today(), "meal": "lunch", "companion_name": "张校长",
                                         "companion_role": "school_leader", "rating": 5, "remarks": "口味适中",
                                         "photo_upload_ids": [manager.photo()]})
    staff_id = manager.create("staff", {"name": "孙师傅", "post": "厨师"}).get_json()["id"]
    manager.create("waste-disposals", {"disposed_at": utcnow() - timedelta(minutes=5), "waste_kind": "waste_oil",
                                       "quantity_kg": 6.5, "collector_company": "杭州城环收运有限公司",
                                       "collector_name": "陈师傅", "staff_id": staff_id,
                                       "photo_upload_ids": [manager.photo()]})
    batch = manager.create("additive-purchases", {
        "additive_name": "亚硝酸钠", "manufacturer": "浙江味美食品配料有限公司", "batch": "YX1", "quantity": 500,
        "unit": "g", "purchase_date": today(), "supplier_name": "杭州配料供应站", "buyer_name": "周师傅",
        "keeper_name": "王主管", "cabinet": "库房专柜"}).get_json()
    manager.create("additive-uses", {"use_date": today(), "meal": "lunch", "dish_id": traced["dishes"]["红烧肉"],
                                     "purchase_id": batch["id"], "quantity": 3, "issuer_name": "王主管",
                                     "user_name": "孙师傅"})
    answer = kit("demo-regulator").get("/canteens/1/ledger", day=today().isoformat()).get_json()
    built = json.loads(json.dumps(canteen_ledger(db.session.get(Canteen, 1), today(), utcnow())))
    # The day holds every kind, so every record schema is exercised.
    assert all(built["records"][kind.value] for kind in LEDGER_KINDS), {k: len(v) for k, v in built["records"].items()}
    lunch = next(m for m in built["trace"]["meals"] if m["meal"] == "lunch")
    assert lunch["disinfection"]["records"] and lunch["accompanied_meals"]
    assert any(d["sample"] for d in lunch["menu"]["dishes"])
    assert built["receivings"] and built["suppliers"] and built["certificates"]
    assert built["additive_stock"]["additives"][0]["batches"]
    missing = _keys(built) - _keys(answer)
    assert not missing, f"keys the schema drops: {sorted(missing)}"
    assert _steady(answer) == _steady(built)


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
