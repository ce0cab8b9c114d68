"""Values for WeChat subscribe-message keywords, built within WeChat's rules.

WeChat refuses a whole message (47003) when one keyword breaks its kind's rule, so every value passes
through one of these functions: ``thing`` ≤ 20 characters of text, ``phrase`` ≤ 5 Chinese characters,
``time`` a date and clock such as ``2024-05-01 12:30``, ``character_string`` ≤ 32 printable ASCII, ...
Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from backend.timeutil import to_shanghai

THING_MAX = 20
PHRASE_MAX = 5
CHARACTER_STRING_MAX = 32
NUMBER_MAX = 32
ELLIPSIS = "…"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_SPACES = re.compile(r"\s+")
# Characters that glue to the one before them: cutting just before one would split what the reader sees.
_JOINERS = {"\u200d"}  # zero width joiner (emoji sequences)


def _clean(value: object) -> str:
    """Text without control characters and with runs of whitespace (newlines too) as one space."""
    text = _SPACES.sub(" ", "" if value is None else str(value))
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c in _JOINERS)
    return text.strip()


def _attaches_to_previous(char: str) -> bool:
    """Combining marks, variation selectors, emoji modifiers and joiners belong to the character before."""
    return (unicodedata.combining(char) > 0 or unicodedata.category(char) in ("Mn", "Me", "Mc")
            or "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff" or char in _JOINERS)


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters ending in an ellipsis, cut between whole visible characters."""
    end = limit - 1
    # Step back while the cut would separate a character from the marks that belong to it.
    while end > 0 and (_attaches_to_previous(text[end]) or text[end - 1] in _JOINERS):
        end -= 1
    head = text[:end].rstrip(" ·-—_,，.。、;；:：/|")
    return (head or text[:end]) + ELLIPSIS


def thing(value: object, limit: int = THING_MAX) -> str:
    """A ``thing`` keyword: up to 20 characters; longer text is cut cleanly and ends with "…"."""
    text = _clean(value)
    if not text:
        return "无"
    return text if len(text) <= limit else _cut(text, limit)


def phrase(value: str) -> str:
    """A ``phrase`` keyword: up to 5 Chinese characters (our fixed status words); anything else is a bug."""
    text = _clean(value)
    if not text or len(text) > PHRASE_MAX or not all(_HAN.match(c) for c in text):
        raise ValueError(f"{value!r} is not a WeChat phrase (1-5 Chinese characters)")
    return text


def time_value(value: datetime) -> str:
    """A ``time`` keyword: ``YYYY-MM-DD HH:MM`` in Asia/Shanghai."""
    return to_shanghai(value).strftime("%Y-%m-%d %H:%M")


def date_value(value: datetime) -> str:
    """A ``date`` keyword: ``YYYY年M月D日`` in Asia/Shanghai."""
    local = to_shanghai(value)
    return f"{local.year}年{local.month}月{local.day}日"


def character_string(value: object) -> str:
    """A ``character_string`` keyword: printable ASCII only, up to 32 characters."""
    text = "".join(c for c in _clean(value) if "\x21" <= c <= "\x7e")
    return text[:CHARACTER_STRING_MAX] or "-"


def number(value: int | float) -> str:
    """A ``number`` keyword: digits with an optional decimal part."""
    if isinstance(value, bool) or value < 0:
        raise ValueError("WeChat numbers are non-negative")
    text = str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")
    return text[:NUMBER_MAX]
