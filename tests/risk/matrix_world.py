"""Objects of the risk feature for the permission matrix's ``world``: a yellow card, an early warning and a WeCom
group robot in each key's school."""

from __future__ import annotations

from datetime import timedelta

from backend.extensions import db
from backend.notices.models import NoticeRobot
from backend.risk.models import RiskCard, RiskWarning
from backend.timeutil import utcnow


def add_risk_world(ids: dict[str, dict[str, object]]) -> None:
    """Add card_id, warning_id and robot_id to each key: a yellow card on the key's violation (from the violations'
    world), an open early warning and a robot of the key's school."""
    now = utcnow()
    for values in ids.values():
        card = RiskCard(violation_id=values["violation_id"], school_id=values["school_id"], color="yellow",
                        risk_class=1, issued_at=now - timedelta(hours=1))
        db.session.add(card)
        db.session.flush()
        values["card_id"] = card.id
        warning = RiskWarning(key=f"camera_uptime:school:{values['school_id']}:2026-12-01", kind="camera_uptime",
                              fact=f"school:{values['school_id']}", school_id=values["school_id"], reason="在线率偏低",
                              data={"uptime_7d": 80.0}, raised_at=now, seen_at=now)
        db.session.add(warning)
        db.session.flush()
        values["warning_id"] = warning.id
        robot = NoticeRobot(school_id=values["school_id"], name="食堂群", key_hint="****0001",
                            webhook_key="00000000-0000-4000-8000-000000000001", classes=[1, 2], enabled=True)
        db.session.add(robot)
        db.session.flush()
        values["robot_id"] = robot.id
    db.session.commit()
