"""Who a user is to a school, in words: the name they gave when binding to it (else their WeChat nickname, else
their user number), the role they hold there (else 监管部门 for a regulator) and, for a parent, the child's class.

One implementation for every list that names people: the audit log's actors, the parents who signed up for a
meal, the recipients of notices an admin reads. Three queries for any number of people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, tuple_

from backend.accounts.models import ROLE_LABELS, Membership, MembershipStatus, RegulatorScope, User
from backend.extensions import db
from backend.schools.models import SchoolClass

REGULATOR = "监管部门"


@dataclass(frozen=True)
class Person:
    """A user as a school's lists name them."""

    name: str
    role_label: str
    child_class: str | None = None


def mask_phone(phone: str | None) -> str | None:
    """A phone number as lists show it to others than its owner: 138****8000."""
    return f"{phone[:3]}****{phone[-4:]}" if phone else None


def people_in_schools(pairs: Iterable[tuple[int | None, int]]) -> dict[tuple[int | None, int], Person]:
    """Each (school id, user id) pair's person; a pair without a school names the user by nickname (and as a
    regulator when they are one). A rejected binding gives no name: the newest other binding does."""
    wanted = set(pairs)
    user_ids = {user_id for _, user_id in wanted}
    if not user_ids:
        return {}
    nicknames = dict(db.session.execute(select(User.id, User.nickname).where(User.id.in_(user_ids))).all())
    school_pairs = sorted((school_id, user_id) for school_id, user_id in wanted if school_id is not None)
    bound: dict[tuple[int, int], tuple[str | None, str, str | None]] = {}
    if school_pairs:
        for school_id, user_id, name, role, child_class in db.session.execute(
                select(Membership.school_id, Membership.user_id, Membership.applicant_name, Membership.role,
                       SchoolClass.name)
                .outerjoin(SchoolClass, SchoolClass.id == Membership.school_class_id)
                .where(tuple_(Membership.school_id, Membership.user_id).in_(school_pairs),
                       Membership.status != MembershipStatus.REJECTED)
                .order_by(Membership.id)):
            bound[(school_id, user_id)] = (name, role, child_class)
    regulators = set(db.session.scalars(select(RegulatorScope.user_id).where(RegulatorScope.user_id.in_(user_ids))))
    people = {}
    for school_id, user_id in wanted:
        found = bound.get((school_id, user_id)) if school_id is not None else None
        name, role, child_class = found if found is not None else (None, None, None)
        what = ROLE_LABELS.get(role) or (REGULATOR if user_id in regulators else "")
        people[(school_id, user_id)] = Person(name or nicknames.get(user_id) or f"用户 {user_id}", what, child_class)
    return people


def people_in_school(school_id: int, user_ids: Iterable[int]) -> dict[int, Person]:
    """:func:`people_in_schools` for one school, by user id."""
    return {user_id: person for (_, user_id), person in
            people_in_schools((school_id, user_id) for user_id in user_ids).items()}
