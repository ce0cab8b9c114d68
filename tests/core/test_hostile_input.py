"""No input makes a 5xx: every route of the URL map, called by the admin with out-of-range ids (in the path,
the query and the body), control characters and absurd dates.

The walk iterates ``app.url_map`` and each view's declared input schemas, so a new route or field is covered
without editing this file. For every field it sends an otherwise plausible request with that one field made
hostile, so the value gets past the other fields' validation to wherever it could crash.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

from backend import fields
from backend.permissions import FRAMEWORK_PUBLIC_ENDPOINTS
from backend.timeutil import shanghai_iso, to_shanghai, utcnow
from tests.core.test_permission_matrix import world  # noqa: F401  the same objects of every kind

OUT_OF_RANGE_IDS = [2**31, 2**63, 2**64 + 1]
HOSTILE_INTEGERS = [2**31, -(2**31) - 1, 2**63, -(2**63) - 1]
HOSTILE_TEXT = ["a\x00b", "a\x1bb", "a\x0bb"]
HOSTILE_DATES = ["0342-01-01", "9999-12-31", "1999-12-31", "2101-01-01"]
HOSTILE_TIMES = ["0342-05-01T10:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                 "2101-01-01T00:00:00+08:00"]
BODY_LOCATIONS = {"json", "form", "files", "form_and_files", "json_or_form"}
# Path arguments that name a page of the console's client-side router: any well-formed name is a page (the
# app shows its own "not found"), so only malformed text must be refused there, not unlikely dates.
ROUTER_PAGE_ARGS = {("console.console", "path")}



def _choices(field: ma_fields.Field) -> list[Any] | None:
    for validator in field.validators:
        if isinstance(validator, ma_validate.OneOf):
            return list(validator.choices)
    return None


def _bounds(field: ma_fields.Field) -> tuple[Any, Any]:
    low = high = None
    for validator in field.validators:
        if isinstance(validator, ma_validate.Range | ma_validate.Length):
            low = validator.min if validator.min is not None else low
            high = validator.max if validator.max is not None else high
    return low, high


def plausible(field: ma_fields.Field, ids: dict[str, Any], name: str = "") -> Any:
    """A value the field (probably) accepts: the request then gets past validation to the service."""
    choices = _choices(field)
    if choices:
        return choices[0]
    low, high = _bounds(field)
    if isinstance(field, ma_fields.Nested):
        return {key: plausible(inner, ids, key) for key, inner in field.schema.fields.items() if not inner.dump_only}
    if isinstance(field, ma_fields.List):
        return [plausible(field.inner, ids, name.removesuffix("s"))] * max(low or 1, 1)
    if isinstance(field, ma_fields.Dict):
        return {}
    if isinstance(field, ma_fields.Boolean):
        return True
    if isinstance(field, fields.Id):
        return ids.get(name if name.endswith("_id") else f"{name}_id", 1)
    if isinstance(field, ma_fields.Number):
        return max(low or 1, 1) if high is None or high >= 1 else high
    if isinstance(field, ma_fields.DateTime):
        return shanghai_iso(utcnow() - timedelta(hours=1))
    if isinstance(field, ma_fields.Date):
        return to_shanghai(utcnow()).date().isoformat()
    if isinstance(field, ma_fields.String):
        return "测" * max(low or 4, 4) if high is None else "测" * min(max(low or 4, 4), high)
    return None


def hostile(field: ma_fields.Field) -> list[Any]:
    """Values no field of this type may accept."""
    if isinstance(field, ma_fields.Integer):
        return HOSTILE_INTEGERS
    if isinstance(field, ma_fields.DateTime):
        return HOSTILE_TIMES
    if isinstance(field, ma_fields.Date):
        return HOSTILE_DATES
    if isinstance(field, ma_fields.String):
        return HOSTILE_TEXT
    if isinstance(field, ma_fields.List):
        return [[value] for value in hostile(field.inner)]
    return []


def mutations(schema: Any, ids: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(field path, payload) pairs: a plausible payload with one (possibly nested) field made hostile."""
    loadable = {key: field for key, field in schema.fields.items() if not field.dump_only}
    base = {field.data_key or key: plausible(field, ids, key) for key, field in loadable.items()}
    result = []
    for key, field in loadable.items():
        wire = field.data_key or key
        for value in hostile(field):
            result.append((wire, {**base, wire: value}))
        inner = field.inner if isinstance(field, ma_fields.List) else field
        if isinstance(inner, ma_fields.Nested):
            for path, nested in mutations(inner.schema, ids):
                result.append((f"{wire}.{path}", {**base, wire: [nested] if inner is not field else nested}))
    return result


def _routes(app: Any) -> list[tuple[Any, str, Any]]:
    routes = []
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint in FRAMEWORK_PUBLIC_ENDPOINTS:
            continue
        for method in sorted(url_rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((url_rule, method, app.view_functions[url_rule.endpoint]))
    return routes


def _url(url_rule: Any, ids: dict[str, Any], **override: Any) -> str:
    values = {arg: override.get(arg, ids.get(arg, "x")) for arg in url_rule.arguments}
    return url_rule.build(values, append_unknown=False)[1]


def _flatten_for_form(payload: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in payload.items():
        data[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return data


class Walk:
    """Sends the requests and keeps what went wrong."""

    def __init__(self, client: Any, headers: Any) -> None:
        self.client, self.headers = client, headers
        self.failures: list[str] = []
        self.count = 0
        self.statuses: dict[tuple[str, str], set[int]] = {}

    def send(self, url_rule: Any, method: str, url: str, what: str, *, refused: bool, **kwargs: Any) -> Any:
        """One request; 5xx always fails, and a hostile value must never be accepted (2xx)."""
        response = self.client.open(url, method=method, headers=self.headers(), **kwargs)
        self.count += 1
        self.statuses.setdefault((url_rule.rule, method), set()).add(response.status_code)
        if response.status_code >= 500:
            body = response.get_data(as_text=True)[:200]
            self.failures.append(f"{method} {url} {what}: {response.status_code} {body}")
        elif refused and response.status_code < 300:
            self.failures.append(f"{method} {url} {what}: accepted with {response.status_code}")
        if b"+00:00" in response.get_data():  # every date-time the API writes is in +08:00
            self.failures.append(f"{method} {url} {what}: a date-time in +00:00")
        if response.status_code >= 400 and response.is_json:
            assert set(response.json["error"]) == {"code", "message", "details"}, (method, url)
        return response


def walk_every_route(app: Any, client: Any, ids: dict[str, Any], headers: Any) -> Walk:
    """The whole hostile walk over the URL map (also used by the OpenAPI status test)."""
    walk = Walk(client, headers)
    for url_rule, method, view in _routes(app):
        id_args = [arg for arg, converter in url_rule._converters.items() if isinstance(converter, fields.IdConverter)]
        for arg in id_args:
            for value in OUT_OF_RANGE_IDS:
                response = walk.send(url_rule, method, _url(url_rule, ids, **{arg: value}), f"path {arg}={value}",
                                     refused=True, json={})
                if response.status_code != 404:
                    walk.failures.append(f"{method} {url_rule.rule} with {arg}={value}: {response.status_code}")
        for arg in set(url_rule.arguments) - set(id_args):
            router_page = (url_rule.endpoint, arg) in ROUTER_PAGE_ARGS
            for value in HOSTILE_TEXT + ([] if router_page else HOSTILE_DATES):
                walk.send(url_rule, method, _url(url_rule, ids, **{arg: value}), f"path {arg}={value!r}",
                          refused=True, json={})
        spec = getattr(view, "_spec", {})
        url = _url(url_rule, ids)
        for schema, _location in spec.get("args") or []:
            for path, payload in mutations(schema, ids):
                walk.send(url_rule, method, url, f"query {path}", refused=True, query_string=payload)
        body = spec.get("body")
        if body is not None:
            content_type = spec.get("content_type")
            multipart = content_type == "multipart/form-data"
            for path, payload in mutations(body, ids):
                if multipart:
                    data = _flatten_for_form({k: v for k, v in payload.items()
                                              if not isinstance(body.fields.get(k), ma_fields.Field)
                                              or type(body.fields[k]).__name__ != "File"})
                    for key, field in body.fields.items():
                        if type(field).__name__ == "File":
                            data[key] = (io.BytesIO(b"not really a file"), "x.png")
                    walk.send(url_rule, method, url, f"form {path}", refused=True, data=data,
                              content_type="multipart/form-data")
                else:
                    walk.send(url_rule, method, url, f"body {path}", refused=True, json=payload)
        if not spec.get("args") and body is None:
            walk.send(url_rule, method, url, "plain", refused=False, json={})
    return walk


def test_no_hostile_input_makes_a_server_error(app, client, world, as_user):  # noqa: F811
    ids = world["own"]
    walk = walk_every_route(app, client, ids, lambda: as_user("demo-admin"))
    assert walk.failures == []
    assert walk.count > 500  # the walk really reached the fields, not just the routes
    # The OpenAPI document lists every status the walk met, and those anonymous callers and a parent meet.
    for who in (None, "demo-parent-1"):
        for url_rule, method, _ in _routes(app):
            walk.headers = (lambda: {}) if who is None else (lambda who=who: as_user(who))
            walk.send(url_rule, method, _url(url_rule, world["other"]), f"as {who}", refused=False, json={})
    document = client.get("/openapi.json").json
    # Blueprints that serve files, not API operations (/docs/assets, /console/), stay out of the document.
    files_only = {rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint.rpartition(".")[0] in app.blueprints
                  and not getattr(app.blueprints[rule.endpoint.rpartition(".")[0]], "enable_openapi", False)}
    undocumented = []
    for (rule, method), statuses in walk.statuses.items():
        if rule in files_only:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
        responses = document["paths"][path][method.lower()]["responses"]
        undocumented += [f"{method} {path} {s}" for s in sorted(statuses) if str(s) not in responses]
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                assert document["components"]["schemas"][schema]["required"] == ["error"], (method, path, status)
    assert undocumented == []


def test_an_out_of_range_id_in_a_path_is_404_in_the_error_shape(client, demo, as_user):
    headers = as_user("demo-admin")
    for value in (2**31, 2**63, -1, 0):
        response = client.get(f"/api/v1/schools/{value}", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/schools/{2**31 - 1}", headers=headers).status_code == 404
    assert client.get("/api/v1/schools/1", headers=headers).status_code == 200


def test_an_out_of_range_id_in_a_query_or_body_is_422(client, demo, as_user):
    headers = as_user("demo-admin")
    response = client.get(f"/api/v1/stats?school_id={2**31}", headers=headers)
    assert response.status_code == 422
    assert "school_id" in response.json["error"]["details"]["fields"]
    response = client.post("/api/v1/schools/1/violations", headers=headers, json={
        "canteen_id": 2**63, "description": "后厨地面有积水未清理"})
    assert response.status_code == 422
    assert "canteen_id" in response.json["error"]["details"]["fields"]


def test_control_characters_are_refused_and_newlines_only_in_multi_line_text(client, demo, as_user):
    headers = as_user("demo-admin")
    school = client.post("/api/v1/schools", headers=headers, json={
        "region_code": "330106", "name": "新\x00学校", "kind": "primary"})
    assert school.status_code == 422
    assert "name" in school.json["error"]["details"]["fields"]
    assert client.post("/api/v1/schools", headers=headers, json={
        "region_code": "330106", "name": "新\n学校", "kind": "primary"}).status_code == 422
    canteen_id = client.get("/api/v1/schools/1/canteens", headers=headers).json[0]["id"]
    report = {"canteen_id": canteen_id, "description": "第一行：地面积水\n第二行：\t未清理"}
    assert client.post("/api/v1/schools/1/violations", headers=headers, json=report).status_code == 201
    refused = client.post("/api/v1/schools/1/violations", headers=headers,
                          json={**report, "description": "地面积水\x07未清理干净"})
    assert refused.status_code == 422
    assert "description" in refused.json["error"]["details"]["fields"]


def test_absurd_dates_are_refused_and_times_without_offset_are_shanghai(client, demo, as_user):
    headers = as_user("demo-admin")
    recordings = "/api/v1/live/cameras/1/recordings"
    for value in ("0342-05-01T10:00:00", "2101-01-01T00:00:00+08:00", "1999-12-31T23:59:59+08:00"):
        response = client.get(recordings, headers=headers, query_string={"start": value})
        assert response.status_code == 422, value
        assert "start" in response.json["error"]["details"]["fields"]
    answer = client.get(recordings, headers=headers,
                        query_string={"start": "2026-01-05T08:00:00", "end": "2026-01-05T09:00:00Z"})
    assert answer.status_code == 200
    assert answer.json["start"] == "2026-01-05T08:00:00+08:00"
    assert answer.json["end"] == "2026-01-05T17:00:00+08:00"
    stats = client.get("/api/v1/stats", headers=headers, query_string={"from": "0342-01-01"})
    assert stats.status_code == 422


HOOK_SECRET = "hostile-walk-media-hook-secret-0123"
HOSTILE_HOOK_VALUES = ["cam-2147483648", "cam-9999999999", "cam-1\x00", "a\x00b", "\xff\xfe", "-1", "1e309", "nan"]
NGINX_FIELDS = ["name", "app", "addr", "clientid", "path", "token", "key", "start", "duration", "time", "tcurl"]
ZLM_FIELDS = {"app": "live", "stream": "cam-1", "id": "7", "ip": "127.0.0.1", "params": "token=x", "schema": "rtmp",
              "player": True, "regist": False, "file_path": "/tmp/x.mp4", "start_time": 1767225600, "time_len": 5,
              "file_size": 10}
ZLM_HOSTILE = [2**63, -(2**63) - 1, 1e300, -1e300, -1, "nan", None, {}, [], "cam-2147483648", "a\x00b", True]


def test_no_media_hook_input_makes_a_server_error(app, client, demo):
    """The media-hook gateway answers /internal/media/* in front of Flask: its inputs must not 500 either."""
    from backend.integrations.media import NGINX_CALLS
    from backend.live import gateway

    app.config["MEDIA_HOOK_SECRET"] = HOOK_SECRET
    failures, count = [], 0

    def send(path: str, method: str, what: str, query_string: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        nonlocal count
        response = client.open(f"/internal/media/{path}", method=method,
                               query_string={**(query_string or {}), "secret": HOOK_SECRET}, **kwargs)
        count += 1
        if response.status_code >= 500:
            failures.append(f"{method} {path} {what}: {response.status_code}")
        return response

    plain = {"call": "done", "app": "live", "name": "cam-1", "clientid": "5"}
    assert send("on_done", "POST", "plain", data=plain).json == {"allowed": True}  # the secret gets us in

    for path, (methods, _) in gateway.ROUTES.items():
        if path.startswith("zlm/"):
            for key in ZLM_FIELDS:
                for value in ZLM_HOSTILE:
                    send(path, "POST", f"{key}={value!r}", json={**ZLM_FIELDS, key: value})
            continue
        if path == "hls_auth":
            for value in HOSTILE_HOOK_VALUES:
                uri = f"/hls/{'t' * 40}/{value}.m3u8"
                send(path, "GET", uri, headers={"X-Original-URI": uri, "X-Real-IP": value})
            continue
        for call in NGINX_CALLS:
            for name in NGINX_FIELDS:
                for value in HOSTILE_HOOK_VALUES:
                    fields = {"call": call, "app": "live", "name": "cam-1", "clientid": "9", "addr": "127.0.0.1",
                              name: value}
                    for method in sorted(methods):
                        payload = {"data": fields} if method == "POST" else {"query_string": fields}
                        send(path, method, f"{call} {name}={value!r}", **payload)
    assert failures == []
    assert count > 1000


def test_no_mini_program_fixture_has_a_date_time_outside_shanghai():
    """The fixtures are recorded API answers (tests/contract/recorder.py): they show what clients receive."""
    from tests.contract.recorder import FIXTURE_DIR

    files = sorted(FIXTURE_DIR.glob("*.json")) + sorted(Path(__file__).parents[1].joinpath("contract").rglob("*.json"))
    assert len(files) > 20
    assert [f.name for f in files if "+00:00" in f.read_text(encoding="utf-8")] == []
