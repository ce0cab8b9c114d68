"""The audit log as a principal or a regulator reads it: each row says who did it (their name and what they are to
the school) and what was done, in words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.accounts.models import ROLE_LABELS, Membership, MembershipStatus, RegulatorScope, User
from backend.audit.actions import PREFIX_CATEGORIES, TARGET_LABELS, AuditAction, AuditCategory, category_actions
from backend.audit.models import AuditLog
from backend.audit.services import list_audit
from backend.extensions import db

SYSTEM = "系统"
REGULATOR = "监管部门"
ACTION_LABELS = AuditAction.labels()


def _actors(school_id: int, user_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Each actor's name and what they are to the school, in three queries: the name given when binding to the
    school, else the WeChat nickname, else the user number; the role held there, else 监管部门 for a regulator."""
    if not user_ids:
        return {}
    nicknames = dict(db.session.execute(select(User.id, User.nickname).where(User.id.in_(user_ids))).all())
    bound = {user_id: (name, role) for user_id, name, role in db.session.execute(
        select(Membership.user_id, Membership.applicant_name, Membership.role)
        .where(Membership.school_id == school_id, Membership.user_id.in_(user_ids),
               Membership.status != MembershipStatus.REJECTED)
        .order_by(Membership.id))}
    regulators = set(db.session.scalars(select(RegulatorScope.user_id).where(RegulatorScope.user_id.in_(user_ids))))
    actors = {}
    for user_id in user_ids:
        name, role = bound.get(user_id, (None, None))
        what = ROLE_LABELS.get(role) or (REGULATOR if user_id in regulators else "")
        actors[user_id] = (name or nicknames.get(user_id) or f"用户 {user_id}", what)
    return actors


def _present(row: AuditLog, actors: dict[int, tuple[str, str]]) -> dict[str, Any]:
    name, what = actors.get(row.actor_id, (SYSTEM, "")) if row.actor_id else (SYSTEM, "")
    prefix = row.action.split(".", 1)[0]
    category = PREFIX_CATEGORIES.get(prefix)
    return {"id": row.id, "at": row.at, "actor_id": row.actor_id, "actor_name": name, "actor_role_label": what,
            "action": row.action, "action_label": ACTION_LABELS.get(row.action, row.action),
            "category": category.value if category else None, "category_label": category.label if category else None,
            "target_type": row.target_type, "target_label": TARGET_LABELS.get(row.target_type or "", row.target_type),
            "target_id": row.target_id, "details": row.details}


def audit_page(school_id: int, *, before_id: int | None, limit: int,
               category: AuditCategory | None = None) -> list[dict[str, Any]]:
    """A page of the school's audit log, newest first, optionally one category of actions."""
    actions = category_actions(category) if category is not None else None
    rows = list_audit(school_id, before_id=before_id, limit=limit, actions=actions)
    actors = _actors(school_id, {row.actor_id for row in rows if row.actor_id})
    return [_present(row, actors) for row in rows]
