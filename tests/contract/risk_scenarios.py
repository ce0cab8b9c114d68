"""The parents' transparency page (透明公示) in the mini-program's fixtures: the school's camera uptime, its
active yellow and red cards and its food-safety index (食安指数) with the 阳光食堂 rating, as parents read them.

Runs last: the rodent problem the school scenarios reported (class 1) is left unfixed past its deadline, the
card job issues its yellow card, the nightly index job runs, and the clock goes back to where the scenarios
froze it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tests.contract.recorder import Recorder

API = "/api/v1"


def record_risk(rec: Recorder, frozen: Any) -> None:
    """透明公示 before and after a class-1 problem earned its yellow card; a parent of another school refused."""
    from backend.extensions import db
    from backend.risk.cards import issue_cards
    from backend.timeutil import utcnow
    from backend.violations.models import Violation
    from workers.jobs.platform import compute_risk_index

    rec.call("risk_public_no_cards", "GET", f"{API}/schools/1/risk/public", who="demo-parent-1", expect=200,
             description="透明公示 of the parent's school: camera uptime, no card")
    rodent = db.session.scalar(sa.select(Violation).where(Violation.school_id == 1, Violation.kind == "rodent")
                               .order_by(Violation.id))
    back_to = utcnow()
    frozen.move_to(rodent.due_at + timedelta(hours=1))
    assert issue_cards(utcnow())["yellow"] >= 1
    compute_risk_index(utcnow())
    rec.call("risk_public_yellow_card", "GET", f"{API}/schools/1/risk/public", who="demo-parent-1", expect=200,
             description="透明公示 after the rodent problem passed its deadline unfixed: a yellow card; the "
                         "index of the month")
    rec.call("risk_public_other_school", "GET", f"{API}/schools/2/risk/public", who="demo-parent-1", expect=403,
             description="a parent asking for another school's transparency page")
    frozen.move_to(back_to)
