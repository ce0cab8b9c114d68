"""The shared output mixins of ``backend/schemas_common.py``: the fields they declare, which of them may be null,
and that the OpenAPI document describes a schema built from them as it did when the fields were spelled out."""

from __future__ import annotations

from apiflask import Schema
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from backend.fields import DateTime, Integer, String
from backend.schemas_common import brief, labelled, signed


def _fields(schema: type[Schema]) -> dict[str, tuple[str, bool]]:
    return {name: (type(field).__name__, field.allow_none) for name, field in schema._declared_fields.items()}


def test_brief_is_an_id_and_a_name_the_name_null_by_default() -> None:
    assert _fields(brief("camera")) == {"camera_id": ("Integer", False), "camera_name": ("String", True)}
    assert _fields(brief("school", id_nullable=True)) == {"school_id": ("Integer", True),
                                                          "school_name": ("String", True)}
    assert _fields(brief("region", name_nullable=False)) == {"region_id": ("Integer", False),
                                                             "region_name": ("String", False)}


def test_signed_is_who_and_when_all_null_while_pending() -> None:
    assert _fields(signed("issued_by", "issued_at")) == {
        "issued_by_id": ("Integer", False), "issued_by_name": ("String", True), "issued_at": ("DateTime", False)}
    assert _fields(signed("closed_by", "closed_at", pending=True)) == {
        "closed_by_id": ("Integer", True), "closed_by_name": ("String", True), "closed_at": ("DateTime", True)}


def test_labelled_is_a_code_and_its_label() -> None:
    assert _fields(labelled("status")) == {"status": ("String", False), "status_label": ("String", False)}
    assert _fields(labelled("kind", label_nullable=True)) == {"kind": ("String", False), "kind_label": ("String", True)}
    assert _fields(labelled("resolution", nullable=True)) == {"resolution": ("String", True),
                                                              "resolution_label": ("String", True)}


def test_the_same_arguments_give_the_same_mixin() -> None:
    """One class per field group, so a schema may name it twice in its bases' bases without a conflict."""
    assert brief("camera") is brief("camera")
    assert brief("camera") is not brief("camera", id_nullable=True)
    assert signed("reviewer", "reviewed_at") is signed("reviewer", "reviewed_at")
    assert labelled("kind") is labelled("kind")


class _MixedOut(brief("camera", id_nullable=True), signed("reviewer", "reviewed_at"), labelled("kind")):
    """A schema built from the mixins."""

    id = Integer()


class _SpelledOut(Schema):
    """The same fields spelled out."""

    id = Integer()
    camera_id = Integer(allow_none=True)
    camera_name = String(allow_none=True)
    reviewer_id = Integer()
    reviewer_name = String(allow_none=True)
    reviewed_at = DateTime()
    kind = String()
    kind_label = String()


def test_the_openapi_document_describes_mixed_fields_as_spelled_out_ones() -> None:
    spec = APISpec("mixins", "1", "3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("MixedOut", schema=_MixedOut)
    spec.components.schema("SpelledOut", schema=_SpelledOut)
    components = spec.to_dict()["components"]["schemas"]
    assert components["MixedOut"] == components["SpelledOut"]
