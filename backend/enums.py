"""Enumerations whose members carry their Simplified Chinese label, so a value and its label are declared once."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class LabelledStrEnum(StrEnum):
    """A ``StrEnum`` declared as ``NAME = "value", "标签"``: the member is the string ``"value"``, its
    ``label`` the text users read."""

    label: str

    def __new__(cls, value: str, label: str) -> Any:
        """Make the member the plain ``value`` string and keep ``label`` beside it."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Every member's label, keyed by member, in declaration order."""
        return {member: member.label for member in cls}
