"""One component per schema in the OpenAPI document (``backend/openapi_components.py``)."""

from __future__ import annotations

import re

from backend.openapi_components import merge_copies


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_a_numbered_copy_is_merged_into_its_original_and_references_follow():
    card = {"type": "object", "properties": {"id": {"type": "integer"}}}
    spec = {"paths": {"/cards": {"post": {"responses": {"201": {"content": {"application/json": {
        "schema": _ref("CardOut1")}}}}}}},
            "components": {"schemas": {
                "CardOut": card, "CardOut1": dict(card),
                "CardListOut": {"properties": {"items": {"type": "array", "items": _ref("CardOut1")}}},
                # Alike in name only: a different shape keeps its own component.
                "Step2": {"type": "string"}, "Step": {"type": "integer"}}}}
    merged = merge_copies(spec)
    assert set(merged["components"]["schemas"]) == {"CardOut", "CardListOut", "Step2", "Step"}
    assert merged["paths"]["/cards"]["post"]["responses"]["201"]["content"]["application/json"]["schema"] == \
        _ref("CardOut")
    assert merged["components"]["schemas"]["CardListOut"]["properties"]["items"]["items"] == _ref("CardOut")


def test_the_apis_document_has_no_numbered_copies(client):
    """No copy of a schema, and no two schemas of one name (apispec numbers the second: name it apart)."""
    document = client.get("/openapi.json").json
    schemas = document["components"]["schemas"]
    copies = [name for name in schemas if (m := re.match(r"^(.+?)\d+$", name)) and m[1] in schemas]
    assert copies == []
    # RecordOut is both the kinds' POST output and nested in GET /records/{id}'s versions: one component.
    assert "RecordOut" in schemas and '"#/components/schemas/RecordOut1"' not in str(document).replace("'", '"')
