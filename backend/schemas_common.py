"""Schema pieces shared by several features."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from apiflask import Schema
from apiflask.validators import OneOf, Range
from marshmallow import ValidationError, missing, validates_schema
from marshmallow.fields import Field

from backend.fields import DateTime, Id, Integer, String
from backend.schools.models import Meal

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class TrimmedString(String):
    """Text with surrounding whitespace removed before validation, so "  " fails ``Length(1, ...)``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def validate_hhmm(value: str) -> None:
    """A wall-clock time written HH:MM (24 h)."""
    if not HHMM.match(value):
        raise ValidationError("时间格式应为 HH:MM")


class WindowSchema(Schema):
    """A daily time window in Asia/Shanghai: Monday is weekday 0."""

    weekday = Integer(required=True, validate=Range(0, 6))
    start = String(required=True, validate=validate_hhmm)
    end = String(required=True, validate=validate_hhmm)

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["start"] >= data["end"]:
            raise ValidationError("结束时间必须晚于开始时间", "end")


class MealWindowSchema(WindowSchema):
    """A meal service window."""

    meal = String(required=True, validate=OneOf([m.value for m in Meal]))


class PageQuerySchema(Schema):
    """Cursor paging by id, newest first."""

    before_id = Id(load_default=None)
    limit = Integer(load_default=50, validate=Range(1, 200))


def patch_schema(name: str, doc: str, source: type[Schema], names: Iterable[str], *, nullable: Iterable[str] = (),
                 **extra: Field) -> type[Schema]:
    """The schema of a PATCH body: the ``names`` fields of the create schema ``source`` with the same validation,
    none required and none defaulted (what is left out stays as it is); only the ``nullable`` ones may be set
    to null. ``extra`` fields only a change has are added as given."""
    nullable = set(nullable)
    fields: dict[str, Any] = {}
    for field_name in names:
        field = copy.deepcopy(source._declared_fields[field_name])
        field.required, field.load_default, field.allow_none = False, missing, field_name in nullable
        fields[field_name] = field
    return type(name, (Schema,), {"__doc__": doc, "__module__": source.__module__, **fields, **extra})


@cache
def brief(entity: str, *, id_nullable: bool = False, name_nullable: bool = True) -> type[Schema]:
    """A mixin of an output schema: another row it points at and the name a client shows for it, ``<entity>_id``
    and ``<entity>_name`` (``brief("camera")``: ``camera_id``, ``camera_name``). The name is null by default (a
    user without a nickname, a row gone since); ``id_nullable`` where the row may point at none."""
    fields = {f"{entity}_id": Integer(allow_none=id_nullable), f"{entity}_name": String(allow_none=name_nullable)}
    return type(f"{_camel(entity)}Brief", (Schema,), {"__doc__": f"The {entity} and its name.",
                                                     "__module__": __name__, **fields})


@cache
def signed(who: str, at: str, *, pending: bool = False) -> type[Schema]:
    """A mixin of an output schema: who did something and when, ``<who>_id``, ``<who>_name`` (null: no name) and
    ``at`` (``signed("issued_by", "issued_at")``). ``pending``: not done yet, so all three may be null."""
    return type(f"{_camel(who)}Signed", (brief(who, id_nullable=pending),),
                {"__doc__": f"Who ({who}) and when ({at}).", "__module__": __name__,
                 at: DateTime(allow_none=pending)})


@cache
def labelled(code: str, *, nullable: bool = False, label_nullable: bool = False) -> type[Schema]:
    """A mixin of an output schema: a coded value and the Chinese label clients show for it, ``<code>`` and
    ``<code>_label`` (``labelled("status")``: ``status``, ``status_label``). ``nullable``: there may be no value
    (then no label either); ``label_nullable``: a value may have no label."""
    return type(f"{_camel(code)}Labelled", (Schema,), {
        "__doc__": f"The {code} and its label.", "__module__": __name__,
        code: String(allow_none=nullable), f"{code}_label": String(allow_none=nullable or label_nullable)})


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def localise_validation_messages() -> None:
    """Give marshmallow's built-in field and validator messages in Chinese: users read them in the app."""
    from marshmallow import fields, validate

    fields.Field.default_error_messages = {
        "required": "缺少必填字段",
        "null": "不能为空",
        "validator_failed": "取值无效",
    }
    for name, message in {"String": "应为字符串", "Integer": "应为整数", "Float": "应为数字", "Boolean": "应为布尔值",
                          "DateTime": "日期时间格式不正确", "Date": "日期格式不正确", "List": "应为列表",
                          "Nested": "格式不正确", "Dict": "应为对象"}.items():
        field_class = getattr(fields, name)
        field_class.default_error_messages = {**field_class.default_error_messages, "invalid": message}
    fields.Integer.default_error_messages["too_large"] = "数值过大"
    validate.Length.message_min = "长度不能少于 {min}"
    validate.Length.message_max = "长度不能超过 {max}"
    validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
    validate.Length.message_equal = "长度应为 {equal}"
    # Range formats its messages twice: once for the operators, then for the bounds.
    validate.Range.message_min = "不能小于 {{min}}"
    validate.Range.message_max = "不能大于 {{max}}"
    validate.Range.message_all = "应在 {{min}} 到 {{max}} 之间"
    validate.OneOf.default_message = "取值应为以下之一：{choices}"


localise_validation_messages()
