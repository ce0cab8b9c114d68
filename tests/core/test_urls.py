"""Every URL can be found by searching the source: each route of the app is a literal string in backend/, and
every route of the media-hook gateway (answered in front of Flask) is listed in /openapi.json."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from backend.app import API_PREFIX
from backend.live import gateway

BACKEND = Path(__file__).resolve().parents[2] / "backend"


@lru_cache(maxsize=1)
def _literals() -> frozenset[str]:
    found: set[str] = set()
    for path in BACKEND.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return frozenset(found)


def test_every_rule_of_the_app_is_a_literal_in_the_source(app):
    ours = [rule for rule in app.url_map.iter_rules()
            if app.view_functions[rule.endpoint].__module__.startswith("backend.")]
    assert len(ours) > 100
    missing = sorted(rule.rule for rule in ours
                     if rule.rule not in _literals() and rule.rule.removeprefix(API_PREFIX) not in _literals())
    assert missing == []
    assert "/canteens/<id:canteen_id>/samples" in _literals()


def test_every_gateway_route_is_in_the_openapi_document(client):
    spec = client.get("/openapi.json").get_json()
    assert len(gateway.ROUTES) >= 10
    for name, (methods, _handler) in gateway.ROUTES.items():
        operations = spec["paths"].get(gateway.PREFIX + name)
        assert operations is not None, name
        assert set(operations) == {method.lower() for method in methods}, name
        for operation in operations.values():
            assert operation["tags"] == [gateway.OPENAPI_TAG] and operation["x-internal"] is True
            assert {"200", "403"} <= set(operation["responses"])
    assert gateway.OPENAPI_TAG in {tag["name"] for tag in spec["tags"]}
    # The document describes the gateway: those paths are answered by it, not by Flask's URL map.
    flask_paths = {rule.rule for rule in client.application.url_map.iter_rules()}
    assert not any(path.startswith(gateway.PREFIX) for path in flask_paths)
    response = client.post("/internal/media/on_play", data={"app": "live", "name": "1"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "media_hook_unauthorized"
