"""The kinds' routes' OpenAPI output schemas (``backend/records/kind_schemas.py``) describe the whole answer:
dumping through them keeps every key and value the presenters build, for every kind's list, a record written,
a corrected record's versions and a seal's."""

from __future__ import annotations

import json
from typing import Any

from backend.records import queries
from backend.records.presenters import present_records
from backend.records.routes import KIND_ROUTES
from backend.records.services import current_version
from tests.records.helpers import amended_sample, key_paths, record_every_kind, steady, today


def _segment(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _kept(answer: Any, built: Any) -> None:
    """Nothing the presenters built is lost on the way out, and nothing is changed."""
    missing = key_paths(built) - key_paths(answer)
    assert not missing, f"keys the schema drops: {sorted(missing)}"
    assert steady(answer) == steady(built)


def test_every_kinds_list_keeps_every_field(manager, traced, morning_checked):
    record_every_kind(manager, traced)
    for kind, path, _, _ in KIND_ROUTES:
        answer = manager.get(f"/canteens/1/{_segment(path)}").get_json()
        assert answer["items"], f"no {kind} recorded: the test would check nothing"
        entries = [current_version(item["id"]) for item in answer["items"]]
        _kept(answer, {"items": _as_json(present_records(entries, today())), "next_cursor": answer["next_cursor"]})


def test_a_record_written_and_a_corrected_ones_versions_keep_every_field(manager, traced):
    first = amended_sample(manager, traced)
    detail = manager.get(f"/records/{first['id']}").get_json()
    assert len(detail["versions"]) == 2 and detail["versions"][1]["changes"]
    _kept(detail, _as_json(queries.record_detail(first["id"], today())))
    written = manager.create("staff", {"name": "钱师傅", "post": "面点师", "phone": "13900001111"}).get_json()
    _kept(written, _as_json(present_records([current_version(written["id"])], today())[0]))


def test_a_seal_and_its_release_keep_every_field(manager, traced, kit):
    principal = kit("demo-principal-1")
    seal = principal.create("seals", {"target": "item", "target_id": traced["pork"], "reason": "疑似变质，封存待检"})
    principal.post(f"/records/{seal.get_json()['id']}/release", {"reason": "检验合格，解除封存"})
    detail = manager.get(f"/records/{seal.get_json()['id']}").get_json()
    assert detail["release"]["reason"] == "检验合格，解除封存"
    _kept(detail, _as_json(queries.record_detail(seal.get_json()["id"], today())))


def test_the_openapi_document_types_the_kinds_routes(client):
    document = client.get("/openapi.json").json

    def schema_of(path: str, method: str, status: str) -> str:
        content = document["paths"][f"/api/v1{path}"][method]["responses"][status]["content"]
        return content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    for _, path, _, _ in KIND_ROUTES:
        openapi_path = path.replace("<id:canteen_id>", "{canteen_id}")
        assert schema_of(openapi_path, "get", "200") == "RecordListOut", path
        assert schema_of(openapi_path, "post", "201") == "RecordOut", path
    assert schema_of("/records/{record_id}", "get", "200") == "RecordDetailOut"
    assert schema_of("/records/{record_id}/amendments", "post", "201") == "RecordOut"
    record = document["components"]["schemas"]["RecordOut"]["properties"]
    # The fields of the kinds the 台账 does not list, besides its own.
    assert {"credit_code", "certificates", "post", "health_certificate", "certificate_status", "staff_name",
            "persons", "summary", "off_food_handling", "in_force", "release", "weight_g"} <= set(record)
