"""One component per schema in the OpenAPI document.

A schema that is both a route's output and nested in another route's output can be registered twice: when the
nesting route comes first (APIFlask sorts routes by the length of their path), apispec names the nested schema,
and APIFlask, which tracks only the schemas it registered itself, registers the output again as ``<Name>1``.
The document then holds two identical components and the generated client types two names for one shape.
This processor keeps the first name and points every reference to a numbered copy at it.

APIFlask keeps one spec processor; :func:`add_spec_processor` chains each module's onto those before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apiflask import APIFlask

REF_PREFIX = "#/components/schemas/"
NUMBERED = re.compile(r"^(?P<base>.+?)(?P<number>\d+)$")


def merge_copies(spec: dict[str, Any]) -> dict[str, Any]:
    """Remove every component that is a numbered copy of another (``CardOut1`` equal to ``CardOut``) and point
    the references to it at the original. Components that merely share a name's stem are left alone."""
    schemas = spec.get("components", {}).get("schemas", {})
    copies = {}
    for name, schema in schemas.items():
        match = NUMBERED.match(name)
        if match and schemas.get(match["base"]) == schema:
            copies[REF_PREFIX + name] = REF_PREFIX + match["base"]
    for ref in copies:
        del schemas[ref.removeprefix(REF_PREFIX)]
    return _replace_refs(spec, copies) if copies else spec


def _replace_refs(value: Any, copies: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: copies.get(v, v) if k == "$ref" and isinstance(v, str) else _replace_refs(v, copies)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_refs(v, copies) for v in value]
    return value


def add_spec_processor(app: APIFlask, process: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run ``process`` on the OpenAPI document whenever it is generated, after the processors added before."""
    previous: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(app, "spec_callback", None)
    app.spec_processor(lambda spec: process(previous(spec) if previous else spec))


def install(app: APIFlask) -> None:
    """Run :func:`merge_copies` whenever the document is generated, after any spec processor registered before."""
    add_spec_processor(app, merge_copies)
