"""Per-user quota of one-time subscribe messages, per template.

Each "accept" in the mini-program's subscribe pop-up (``wx.requestSubscribeMessage``) allows exactly one
message of that template. The same tap is usually reported twice: by the mini-program (``POST
/me/subscriptions``) and by WeChat's ``subscribe_msg_popup_event`` push. A report is matched with an
unmatched report of the other source within :data:`MATCH_WINDOW` and then counts once; two taps make two
reports on each side and count twice. "reject"/"ban" (and switching messages off in the settings page,
``subscribe_msg_change_event``) empty the quota; WeChat's 43101 does too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select, update

from backend.db_util import insert_if_absent
from backend.extensions import db
from backend.notices.models import SubscriptionGrant, SubscriptionQuota
from backend.timeutil import utcnow

MATCH_WINDOW = timedelta(minutes=2)
CHOICES = frozenset({"accept", "reject", "ban", "filter"})
SOURCES = frozenset({"client", "push"})


def _locked_quota(user_id: int, template_id: str, now: datetime) -> SubscriptionQuota:
    """The quota row, created if missing and locked for this transaction (serialises concurrent reports)."""
    insert_if_absent(SubscriptionQuota, {"user_id": user_id, "template_id": template_id, "remaining": 0,
                                         "accepted_total": 0, "used_total": 0, "updated_at": now},
                     ["user_id", "template_id"])
    # A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite.
    db.session.execute(update(SubscriptionQuota).where(SubscriptionQuota.user_id == user_id,
                                                       SubscriptionQuota.template_id == template_id)
                       .values(updated_at=now).execution_options(synchronize_session=False))
    quota = db.session.scalar(select(SubscriptionQuota).where(SubscriptionQuota.user_id == user_id,
                                                              SubscriptionQuota.template_id == template_id)
                              .execution_options(populate_existing=True))
    return quota


def record_choice(user_id: int, template_id: str, choice: str, source: str, at: datetime | None = None) -> bool:
    """Apply one reported pop-up choice (the caller commits); True when it added a message to the quota."""
    if choice not in CHOICES or source not in SOURCES:
        raise ValueError(f"unknown choice {choice!r} or source {source!r}")
    now = at or utcnow()
    quota = _locked_quota(user_id, template_id, now)
    if choice == "filter":  # WeChat filtered the template (e.g. not allowed in this context): nothing changed
        return False
    quota.last_choice = choice
    if choice != "accept":
        quota.remaining = 0
        return False
    other = "push" if source == "client" else "client"
    twin = db.session.scalar(
        select(SubscriptionGrant).where(
            SubscriptionGrant.user_id == user_id, SubscriptionGrant.template_id == template_id,
            SubscriptionGrant.source == other, SubscriptionGrant.matched.is_(False),
            SubscriptionGrant.at >= now - MATCH_WINDOW, SubscriptionGrant.at <= now + MATCH_WINDOW)
        .order_by(SubscriptionGrant.at).limit(1))
    if twin is not None:
        twin.matched = True
        db.session.add(SubscriptionGrant(user_id=user_id, template_id=template_id, source=source, at=now,
                                         matched=True))
        return False
    db.session.add(SubscriptionGrant(user_id=user_id, template_id=template_id, source=source, at=now,
                                     matched=False))
    quota.remaining += 1
    quota.accepted_total += 1
    return True


def record_choices(user_id: int, results: Mapping[str, str], known_templates: set[str], source: str,
                   at: datetime | None = None) -> dict[str, list[str]]:
    """Apply a whole ``wx.requestSubscribeMessage`` result; templates we do not send are ignored."""
    applied, ignored = [], []
    for template_id, choice in sorted(results.items()):
        if template_id not in known_templates or choice not in CHOICES:
            ignored.append(template_id)
            continue
        record_choice(user_id, template_id, choice, source, at)
        applied.append(template_id)
    return {"applied": applied, "ignored": ignored}


def switch_off(user_id: int, template_id: str, at: datetime | None = None) -> None:
    """The user turned this template off (settings page, or WeChat said 43101): no quota left."""
    now = at or utcnow()
    quota = _locked_quota(user_id, template_id, now)
    quota.remaining = 0


def quotas_of(user_id: int) -> dict[str, SubscriptionQuota]:
    """A user's quota rows by template id."""
    rows = db.session.scalars(select(SubscriptionQuota).where(SubscriptionQuota.user_id == user_id))
    return {row.template_id: row for row in rows}
