"""Which violations parents and the parents' committee may see: the rule that keeps false alarms from them.

An AI alarm (source ``ai``) is held from the public side (the committee's violation list and detail, the
transparency page, parents' and committee's figures and every committee notice) until a reviewer confirms
or escalates it; an alarm marked false positive is never released. Staff, the principal and regulators see
every alarm at once, as before. Violations of other sources are public from the start, as before.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select

from backend.extensions import db
from backend.violations.models import PUBLIC_VERDICTS, AlarmReview, Violation, ViolationSource

_PUBLIC = [verdict.value for verdict in PUBLIC_VERDICTS]


def public_condition() -> ColumnElement[bool]:
    """SQL: the violation is not held from parents (not an AI alarm, or one confirmed or escalated)."""
    return or_(Violation.source != ViolationSource.AI,
               exists().where(AlarmReview.violation_id == Violation.id, AlarmReview.verdict.in_(_PUBLIC)))


def is_public(violation: Violation) -> bool:
    """Python twin of :func:`public_condition` for one loaded violation (reads its review in this transaction)."""
    if violation.source != ViolationSource.AI:
        return True
    verdict = db.session.scalar(select(AlarmReview.verdict).where(AlarmReview.violation_id == violation.id))
    return verdict in _PUBLIC
