"""The OpenAPI document's error answers, derived in one place from what each route declares.

Routes do not list their error statuses by hand: the permission rule (``backend.permissions.rule``), the input
schemas, the path's converters, the HTTP method and the rate limits say which of 400, 401, 403, 404, 409,
413, 415, 422 and 429 an operation can answer, all in the API's one error shape. A route adds a status only
its service knows of with ``@bp.doc(responses=[...])``. Ids in paths are documented with their range.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from flask_limiter.util import get_qualified_name
from marshmallow import fields as ma_fields
from werkzeug.routing import Rule as UrlRule

from backend.errors import HTTP_STATUS_ERRORS
from backend.extensions import limiter
from backend.fields import ID_MIN, INT_MAX, Id, IdConverter
from backend.openapi_components import add_spec_processor
from backend.permissions import FRAMEWORK_PUBLIC_ENDPOINTS, Action, rule_of

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "properties": {
            "code": {"type": "string", "description": "machine-readable, English"},
            "message": {"type": "string", "description": "for the user, Simplified Chinese"},
            "details": {"type": "object"},
        },
    }},
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
NO_LOGIN = (Action.PUBLIC, Action.SIGNED)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error_statuses(url_rule: UrlRule, method: str, view: Any) -> set[int]:
    """The error statuses an operation can answer, from its declarations."""
    declared = rule_of(view)
    spec = getattr(view, "_spec", {})
    action = declared.action if declared else Action.PUBLIC
    has_body = spec.get("body") is not None
    statuses: set[int] = set()
    if action not in NO_LOGIN:
        statuses.add(401)
    if action is not Action.PUBLIC:
        statuses.add(403)  # a role that may not, or a signature that does not match
    inputs = [spec["body"]] if has_body else []
    inputs += [schema for schema, _ in spec.get("args") or []]
    if (url_rule.arguments or (declared and declared.scope) or action is Action.SIGNED
            or (method in WRITES and action is not Action.PUBLIC) or any(_refers_to_rows(s) for s in inputs)):
        # No such object: in the path, referred to by the input (an id, an invite code), or for signed routes
        # nothing stored or the feature not configured.
        statuses.add(404)
    if method in WRITES and action not in NO_LOGIN:
        statuses |= {409, 422}  # a state that changed under the caller; a business rule the values break
    if has_body:
        statuses |= {400, 413, 422}
    elif method in WRITES and action is Action.SIGNED:
        statuses |= {400, 413}  # signed pushes read their body themselves
    if spec.get("content_type") == "multipart/form-data":
        statuses.add(415)
    if spec.get("args") or set(url_rule.arguments) - _id_arguments(url_rule):
        statuses.add(422)
    if limiter.limit_manager.decorated_limits(get_qualified_name(view)):
        statuses.add(429)
    return statuses


def _refers_to_rows(schema: Any) -> bool:
    """Whether an input schema names rows by id (directly, in a list or in a nested object)."""
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, ma_fields.List) else field
        if isinstance(inner, Id) or (isinstance(inner, ma_fields.Nested) and _refers_to_rows(inner.schema)):
            return True
    return False


def _id_arguments(url_rule: UrlRule) -> set[str]:
    return {name for name, converter in url_rule._converters.items() if isinstance(converter, IdConverter)}


def _openapi_path(url_rule: UrlRule) -> str:
    path = url_rule.rule
    for name in url_rule.arguments:
        for converter in ("", *(f"{key}:" for key in ("id", "int", "path", "string", "float", "any", "uuid"))):
            path = path.replace(f"<{converter}{name}>", f"{{{name}}}")
    return path


def describe_errors(app: APIFlask, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the derived error answers, the error schema and the id ranges to a generated document."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    # APIFlask's own 404/422 answers point at these: give them the one shape too.
    schemas["HTTPError"] = schemas["ValidationError"] = ERROR_SCHEMA
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint in FRAMEWORK_PUBLIC_ENDPOINTS:
            continue
        operations = spec["paths"].get(_openapi_path(url_rule))
        if operations is None:
            continue
        view = app.view_functions[url_rule.endpoint]
        ids = _id_arguments(url_rule)
        for method in url_rule.methods - {"HEAD", "OPTIONS"}:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in ids:
                    parameter["schema"] = {"type": "integer", "minimum": ID_MIN, "maximum": INT_MAX}
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(url_rule, method, view)):
                answer = responses.setdefault(str(status), {})
                answer.setdefault("description", HTTP_STATUS_ERRORS[status][1])
                answer["content"] = {"application/json": {"schema": ERROR_REF}}
            rule = rule_of(view)
            if rule is not None and rule.action not in NO_LOGIN:
                operation["security"] = [{"BearerAuth": []}]
    return spec


def install(app: APIFlask) -> None:
    """Run :func:`describe_errors` whenever the document is generated."""

    def process(spec: dict[str, Any]) -> dict[str, Any]:
        with app.app_context():  # rate limits given as callables read the app's settings
            return describe_errors(app, spec)

    add_spec_processor(app, process)
