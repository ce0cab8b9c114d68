"""Objects of the violations, notices and regulators features for the permission matrix's ``world``.

For each key (own school 1, other school 2, outside school in another region) one violation, spot check,
inspection round, supervision order and notice, and the region id whose regulator rules apply.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice
from backend.regulators.models import InspectionInspector, InspectionRound, SpotCheck, SupervisionOrder
from backend.schools.models import Canteen, School
from backend.timeutil import utcnow
from backend.violations.services import raise_violation


def add_violation_world(ids: dict[str, dict[str, object]]) -> None:
    """Add region_id, violation_id, spot_check_id, inspection_id, order_id and notice_id to each key."""
    admin = db.session.scalar(sa.select(User).where(User.openid == "demo-admin"))
    regulator = db.session.scalar(sa.select(User).where(User.openid == "demo-regulator"))
    now = utcnow()
    for key, values in ids.items():
        school = db.session.get(School, values["school_id"])
        canteen = db.session.scalar(sa.select(Canteen).where(Canteen.school_id == school.id))
        violation = raise_violation(canteen_id=canteen.id, kind="no_mask", source="ai",
                                    idempotency_key=f"matrix:{key}", occurred_at=now, commit=False).violation
        check = SpotCheck(region_id=school.region_id, seed="matrix", sample_size=1, population_ids=[canteen.id],
                          canteen_ids=[canteen.id], created_by_id=admin.id, created_at=now)
        inspection = InspectionRound(region_id=school.region_id, title="联合检查", planned_at=now, status="planned",
                                     created_by_id=admin.id, created_at=now)
        order = SupervisionOrder(school_id=school.id, title="整改通知", content="请整改后厨卫生问题", violation_ids=[],
                                 due_at=now + timedelta(days=3), status="issued", issued_by_id=admin.id,
                                 issued_at=now)
        db.session.add_all([check, inspection, order])
        db.session.flush()
        # The region's regulator takes part in every round (only a round's inspectors may change it).
        db.session.add(InspectionInspector(round_id=inspection.id, user_id=regulator.id, lead=True))
        notice = Notice(user_id=values["user_id"], school_id=school.id, subject_type="violation",
                        subject_id=violation.id, purpose="violation_created", template="violation", title="发现问题",
                        body="测试", payload={}, idempotency_key=f"matrix-notice:{key}", created_at=now,
                        status="inbox_only", attempts=0, attempt_budget=5, next_attempt_at=now)
        db.session.add(notice)
        db.session.flush()
        values.update(region_id=school.region_id, violation_id=violation.id, spot_check_id=check.id,
                      inspection_id=inspection.id, order_id=order.id, notice_id=notice.id)
    db.session.commit()
