"""Every JSON answer of the API is typed in its OpenAPI document, so clients' types are generated from it and
integrators read what they get; the only answers without a schema are those that are not the API's JSON."""

from __future__ import annotations

# Not the API's JSON: stored files' bytes, WeChat's own message-push protocol, the probes of the process, and
# the media server's hooks (nginx-rtmp reads only the status).
UNTYPED = {"/api/v1/files/{key}", "/api/v1/wechat/push", "/healthz", "/readyz"}
UNTYPED_PREFIXES = ("/internal/media/",)


def _typed(response: dict) -> bool:
    return any(media != "application/json" or "$ref" in body.get("schema", {}) or "items" in body.get("schema", {})
               for media, body in response.get("content", {}).items())


def test_every_json_answer_has_a_schema(client):
    document = client.get("/openapi.json").json
    untyped = []
    for path, operations in document["paths"].items():
        if path in UNTYPED or path.startswith(UNTYPED_PREFIXES):
            continue
        for method, operation in operations.items():
            successes = {status: r for status, r in operation["responses"].items() if status.startswith("2")}
            if not any(status == "204" or _typed(r) for status, r in successes.items()):
                untyped.append(f"{method.upper()} {path}")
    assert untyped == []


def test_a_created_upload_is_documented_as_created(client):
    operation = client.get("/openapi.json").json["paths"]["/api/v1/uploads"]["post"]
    assert "201" in operation["responses"] and "200" not in operation["responses"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/UploadOut")
