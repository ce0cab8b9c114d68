"""The API's field types (backend/fields.py): one per kind of value, and every schema uses them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError
from marshmallow import fields as ma_fields

from backend import fields
from backend.app import create_app
from backend.timeutil import shanghai_iso

OURS = {ma_fields.String: fields.String, ma_fields.Integer: (fields.Integer, fields.Id),
        ma_fields.Date: fields.Date, ma_fields.DateTime: fields.DateTime}


def _schemas() -> set[type[Schema]]:
    create_app({"APP_ENV": "testing", "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40})  # imports every route
    found, todo = set(), [Schema]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {s for s in found if s.__module__.startswith("backend.")}


def _leaves(field: ma_fields.Field):
    yield field
    if isinstance(field, ma_fields.List):
        yield from _leaves(field.inner)
    if isinstance(field, ma_fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                yield from _leaves(part)


def test_every_schema_field_is_one_of_the_api_field_types():
    schemas = _schemas()
    assert len(schemas) > 80
    strays = []
    for schema in schemas:
        for name, declared in schema._declared_fields.items():
            for field in _leaves(declared):
                for base, ours in OURS.items():
                    if isinstance(field, base) and not isinstance(field, ours):
                        strays.append(f"{schema.__module__}.{schema.__name__}.{name}: {type(field).__name__}")
    assert strays == []


class Probe(Schema):
    id = fields.Id()
    count = fields.Integer()
    line = fields.String()
    text = fields.String(multiline=True)
    day = fields.Date()
    at = fields.DateTime()


@pytest.mark.parametrize(("name", "value"), [
    ("id", 0), ("id", -1), ("id", 2**31), ("id", 2**63), ("count", 2**31), ("count", -(2**31) - 1),
    ("line", "a\nb"), ("line", "a\x00b"), ("line", "a\x7f"), ("line", "\ud800"), ("text", "a\x0bb"),
    ("text", "a\rb"), ("day", "0342-01-01"), ("day", "2101-01-01"), ("day", "1999-12-31"),
    ("at", "0342-05-01T10:00:00"), ("at", "2100-12-31T23:59:59-12:00"), ("at", "9999-12-31T23:59:59"),
])
def test_values_outside_what_a_column_or_a_person_means_are_refused(name, value):
    with pytest.raises(ValidationError) as refused:
        Probe().load({name: value})
    assert list(refused.value.messages) == [name]


def test_values_inside_are_read_and_date_times_are_written_in_shanghai():
    loaded = Probe().load({"id": 2**31 - 1, "count": -(2**31), "line": "a\tb", "text": "第一行\n第二行\t",
                           "day": "2100-12-31", "at": "2000-01-01T08:00:00"})
    assert loaded["id"] == 2**31 - 1 and loaded["text"] == "第一行\n第二行\t"
    assert loaded["at"].isoformat() == "2000-01-01T08:00:00+08:00"  # no offset: Asia/Shanghai
    dumped = Probe().dump({"at": datetime(2026, 3, 11, 2, 0, 0, 123456, tzinfo=UTC)})
    assert dumped["at"] == "2026-03-11T10:00:00+08:00" == shanghai_iso(datetime(2026, 3, 11, 2, 0))
    assert shanghai_iso(None) is None


def test_the_id_converter_matches_exactly_the_ids_a_column_can_hold():
    import re

    pattern = re.compile(fields.ID_PATTERN + r"\Z")
    for number in (1, 9, 10, 999_999_999, 1_000_000_000, 2_147_483_639, 2**31 - 1):
        assert pattern.match(str(number)), number
    for text in ("0", "01", "-1", str(2**31), "2147483650", "9999999999", str(2**63), "1.0", "+1"):
        assert not pattern.match(text), text
