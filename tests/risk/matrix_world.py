"""Objects of the risk feature for the permission matrix's ``world``: a yellow card in each key's school."""

from __future__ import annotations

from datetime import timedelta

from backend.extensions import db
from backend.risk.models import RiskCard
from backend.timeutil import utcnow


def add_risk_world(ids: dict[str, dict[str, object]]) -> None:
    """Add card_id to each key: a yellow card on the key's violation (from the violations' world)."""
    now = utcnow()
    for values in ids.values():
        card = RiskCard(violation_id=values["violation_id"], school_id=values["school_id"], color="yellow",
                        risk_class=1, issued_at=now - timedelta(hours=1))
        db.session.add(card)
        db.session.flush()
        values["card_id"] = card.id
    db.session.commit()
