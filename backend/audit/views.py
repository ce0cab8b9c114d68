"""The audit log as a principal or a regulator reads it: each row says who did it (their name and what they are to
the school) and what was done, in words."""

from __future__ import annotations

from typing import Any

from backend.accounts.people import Person, people_in_school
from backend.audit.actions import PREFIX_CATEGORIES, TARGET_LABELS, AuditAction, AuditCategory, category_actions
from backend.audit.models import AuditLog
from backend.audit.services import list_audit

SYSTEM = Person("系统", "")
ACTION_LABELS = AuditAction.labels()


def _present(row: AuditLog, actors: dict[int, Person]) -> dict[str, Any]:
    actor = actors.get(row.actor_id, SYSTEM) if row.actor_id else SYSTEM
    prefix = row.action.split(".", 1)[0]
    category = PREFIX_CATEGORIES.get(prefix)
    return {"id": row.id, "at": row.at, "actor_id": row.actor_id, "actor_name": actor.name,
            "actor_role_label": actor.role_label,
            "action": row.action, "action_label": ACTION_LABELS.get(row.action, row.action),
            "category": category.value if category else None, "category_label": category.label if category else None,
            "target_type": row.target_type, "target_label": TARGET_LABELS.get(row.target_type or "", row.target_type),
            "target_id": row.target_id, "details": row.details}


def audit_page(school_id: int, *, before_id: int | None, limit: int,
               category: AuditCategory | None = None) -> list[dict[str, Any]]:
    """A page of the school's audit log, newest first, optionally one category of actions."""
    actions = category_actions(category) if category is not None else None
    rows = list_audit(school_id, before_id=before_id, limit=limit, actions=actions)
    # Who each actor is to the school: the name given when binding, the role held there (or 监管部门).
    actors = people_in_school(school_id, {row.actor_id for row in rows if row.actor_id})
    return [_present(row, actors) for row in rows]
