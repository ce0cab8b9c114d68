"""用户与会话, for the platform's admins: find an account by what a school or a support call knows of it (a name, a
nickname, a phone number or its last digits, a user number) and read who it is at which schools and regions and how
many sessions it holds, to end them all when a phone is lost or a person leaves (``services.revoke_all_sessions``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from backend.accounts.models import AuthSession, Membership, MembershipStatus, RegulatorScope, Role, User
from backend.accounts.people import mask_phone
from backend.extensions import db
from backend.schools.models import Region, School, SchoolClass
from backend.timeutil import utcnow

# Digits this long or longer may be the end of a phone number (a caller reads out the last four).
PHONE_TAIL_DIGITS = 4


def _matches(text: str) -> ColumnElement[bool]:
    """Accounts that ``text`` may name: in its nickname or a binding's name, the phone's end, the user number."""
    named = select(Membership.user_id).where(Membership.applicant_name.icontains(text, autoescape=True))
    conditions = [User.nickname.icontains(text, autoescape=True), User.id.in_(named)]
    if text.isdigit():
        conditions.append(User.id == int(text))
        if len(text) >= PHONE_TAIL_DIGITS:
            conditions.append(User.phone.endswith(text, autoescape=True))
    return or_(*conditions)


def find_users(text: str, limit: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` accounts ``text`` names, each with its bindings, regulated regions and live sessions."""
    users = list(db.session.scalars(select(User).where(_matches(text.strip())).order_by(User.id.desc()).limit(limit)))
    ids = [user.id for user in users]
    if not ids:
        return []
    bindings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for membership, school_name, class_name in db.session.execute(
            select(Membership, School.name, SchoolClass.name).join(School, School.id == Membership.school_id)
            .outerjoin(SchoolClass, SchoolClass.id == Membership.school_class_id)
            .where(Membership.user_id.in_(ids)).order_by(Membership.id)):
        bindings[membership.user_id].append({
            "school_id": membership.school_id, "school_name": school_name, "role": membership.role,
            "role_label": Role(membership.role).label, "status": membership.status,
            "status_label": MembershipStatus(membership.status).label, "name": membership.applicant_name,
            "child_class": class_name})
    regions: dict[int, list[str]] = defaultdict(list)
    for user_id, region_name in db.session.execute(
            select(RegulatorScope.user_id, Region.name).join(Region, Region.id == RegulatorScope.region_id)
            .where(RegulatorScope.user_id.in_(ids)).order_by(RegulatorScope.id)):
        regions[user_id].append(region_name)
    live = dict(db.session.execute(
        select(AuthSession.user_id, func.count()).where(AuthSession.user_id.in_(ids), AuthSession.revoked_at.is_(None),
                                                        AuthSession.expires_at > (now or utcnow()))
        .group_by(AuthSession.user_id)).all())
    return [{"id": user.id, "nickname": user.nickname, "phone": mask_phone(user.phone), "is_admin": user.is_admin,
             "created_at": user.created_at, "last_login_at": user.last_login_at,
             "live_sessions": live.get(user.id, 0), "bindings": bindings[user.id], "regions": regions[user.id]}
            for user in users]
