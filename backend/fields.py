"""The API's field types: one per kind of value, used by every schema, so no input can crash the database.

- ids (:class:`Id`, and :class:`IdConverter` for ``<id:...>`` in URL paths) and other whole numbers
  (:class:`Integer`) fit a database ``integer`` column: every id column is ``Integer`` (PostgreSQL's 32-bit
  ``integer``; SQLite would take 64 bits, but the limit is the smaller of the two so both behave alike);
- text (:class:`String`) has no control characters (tab allowed; newline only where ``multiline=True``),
  which the Excel export cannot write and PostgreSQL refuses (NUL);
- days (:class:`Date`) and instants (:class:`DateTime`) lie in 2000..2100; an instant without an offset is
  Asia/Shanghai wall-clock time, and every instant is written ISO 8601 in +08:00.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from apiflask import fields
from apiflask.validators import Range
from marshmallow import ValidationError
from werkzeug.routing import IntegerConverter, Map

from backend.timeutil import SHANGHAI, shanghai_iso, to_shanghai

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # a PostgreSQL ``integer`` column
ID_MIN = 1
FIRST_YEAR, LAST_YEAR = 2000, 2100  # no kitchen record, schedule or query is outside these years

# U+0000–U+001F and DEL, except tab (and newline in multi-line text); lone surrogates cannot be stored as UTF-8.
SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
MULTI_LINE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _with(validate: Any, *extra: Any) -> list[Any]:
    """The caller's validators (one, a list or none) followed by ``extra``."""
    if validate is None:
        return list(extra)
    return [*(validate if isinstance(validate, list | tuple) else [validate]), *extra]


def _decimal_up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 1..limit (no sign, no leading zero)."""
    digits = str(limit)
    alternatives = [rf"[1-9]\d{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        lowest = 1 if position == 0 else 0
        if int(digit) > lowest:
            alternatives.append(rf"{digits[:position]}[{lowest}-{int(digit) - 1}]\d{{{len(digits) - position - 1}}}")
    alternatives.append(digits)
    return "(?:" + "|".join(alternatives) + ")"


ID_PATTERN = _decimal_up_to(INT_MAX)  # an id as text (URL paths, media stream names)


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: an id a column can hold; any other number matches no route (404).

    The range is in the regular expression, not only in ``to_python``: werkzeug answers 405 instead of 404
    when a converter refuses a value that another method's rule on the same path has already matched.
    """

    regex = ID_PATTERN

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=ID_MIN, max=INT_MAX)


class Integer(fields.Integer):
    """A whole number that fits an ``integer`` column (422 otherwise)."""

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, validate=_with(validate, Range(INT_MIN, INT_MAX)), **kwargs)


class Id(fields.Integer):
    """The id of a row, in a query or a body: 1..2^31-1 (422 otherwise)."""

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, validate=_with(validate, Range(ID_MIN, INT_MAX)), **kwargs)


class String(fields.String):
    """Text without control characters; ``multiline=True`` lets it hold line breaks (remarks, descriptions)."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline
        self.error_messages["control_character"] = ("不能包含控制字符" if multiline else "不能包含换行或其他控制字符")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if (MULTI_LINE_FORBIDDEN if self.multiline else SINGLE_LINE_FORBIDDEN).search(text):
            raise self.make_error("control_character")
        return text


def _check_year(value: date) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(f"日期应在 {FIRST_YEAR} 年到 {LAST_YEAR} 年之间")


def _check_instant(value: datetime) -> None:
    _check_year(value)  # first in the value's own offset: converting year 9999 or 0001 could overflow
    _check_year(to_shanghai(value))


class Date(fields.Date):
    """A calendar day (YYYY-MM-DD) between 2000 and 2100."""

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, validate=_with(validate, _check_year), **kwargs)


class DateTime(fields.AwareDateTime):
    """An instant: read as ISO 8601 (without an offset: Asia/Shanghai) between 2000 and 2100, written in +08:00.

    The one date-time field of the API; :func:`backend.timeutil.shanghai_iso` writes the same outside schemas.
    """

    def __init__(self, *args: Any, validate: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, default_timezone=SHANGHAI, validate=_with(validate, _check_instant), **kwargs)

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return shanghai_iso(value)
