"""Yellow and red cards on a fixed clock: earned per region's durations, issued exactly once however often and
however interrupted the job runs, lifted by the region's regulator with a reason (audited), shown to the
school, the regulator and (filtered) parents."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.notices.models import Notice
from backend.risk import cards as cards_module
from backend.risk.cards import issue_cards
from backend.risk.models import RiskCard, RiskCardSetting
from backend.violations.models import Violation
from backend.violations.services import raise_violation
from tests.risk.helpers import COUNTY, MONDAY_10, recipients


def _raise(kind: str, key: str, canteen_id: int = 1) -> Violation:
    return raise_violation(canteen_id=canteen_id, kind=kind, source="record_rule", idempotency_key=key,
                           occurred_at=MONDAY_10).violation


def _cards() -> list[tuple[int, str, object]]:
    return [(c.violation_id, c.color, c.issued_at) for c in
            db.session.scalars(sa.select(RiskCard).order_by(RiskCard.violation_id, RiskCard.id))]


def _card_notices() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(Notice.purpose == "risk_card"))


def test_yellow_at_the_deadline_red_five_days_later_only_for_class_1_and_2(app, demo):
    rodent, smoking, mask = _raise("rodent", "r"), _raise("smoking", "s"), _raise("no_mask", "m")
    assert issue_cards(rodent.due_at - timedelta(seconds=1)) == {"yellow": 0, "red": 0}
    assert issue_cards(rodent.due_at) == {"yellow": 2, "red": 0}  # rodent and smoking: both due at 12 h
    assert issue_cards(mask.due_at + timedelta(days=30)) == {"yellow": 0, "red": 2}  # a class-3 problem never
    assert _cards() == [(rodent.id, "yellow", rodent.due_at), (rodent.id, "red", rodent.due_at + timedelta(days=5)),
                        (smoking.id, "yellow", smoking.due_at),
                        (smoking.id, "red", smoking.due_at + timedelta(days=5))]
    assert recipients(rodent.id, "risk_card") == {"demo-principal-1", "demo-manager-1", "demo-staff-1",
                                                  "demo-regulator", "demo-regulator-2"}


def test_red_waits_its_full_duration_and_a_fixed_problem_earns_nothing_more(app, demo, client, as_user):
    rodent, sample = _raise("rodent", "r"), _raise("sample_missing", "s")
    issue_cards(sample.due_at)
    red_at = rodent.due_at + timedelta(days=5)
    assert issue_cards(red_at - timedelta(seconds=1))["red"] == 0
    # The sample's problem is withdrawn before its red card is due: it earns none.
    response = client.post(f"/api/v1/violations/{sample.id}/dismiss", json={"reason": "留样已补录，系统误报"},
                           headers=as_user("demo-principal-1"))
    assert response.status_code == 200
    assert issue_cards(red_at + timedelta(days=10)) == {"yellow": 0, "red": 1}
    assert [(v, c) for v, c, _ in _cards()] == [(rodent.id, "yellow"), (rodent.id, "red"), (sample.id, "yellow")]


def test_durations_are_the_regions(app, demo):
    db.session.add(RiskCardSetting(region_id=COUNTY, yellow_after_hours=6, red_after_hours=24, updated_at=MONDAY_10))
    db.session.commit()
    rodent = _raise("rodent", "r")
    assert issue_cards(rodent.due_at + timedelta(hours=5))["yellow"] == 0
    assert issue_cards(rodent.due_at + timedelta(hours=6))["yellow"] == 1
    assert issue_cards(rodent.due_at + timedelta(hours=30)) == {"yellow": 0, "red": 1}
    assert _cards()[1][2] == rodent.due_at + timedelta(hours=30)


def test_repeated_runs_issue_each_card_once(app, demo):
    rodent = _raise("rodent", "r")
    later = rodent.due_at + timedelta(days=6)
    first = issue_cards(later)
    assert first == {"yellow": 1, "red": 1}
    assert issue_cards(later) == {"yellow": 0, "red": 0}
    assert issue_cards(later + timedelta(days=1)) == {"yellow": 0, "red": 0}
    assert len(_cards()) == 2 and _card_notices() == 2 * 5


class Killed(BaseException):
    """A worker killed mid-job: nothing after this point of the run happens (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("kill_at", ["before_commit", "after_first_card"])
def test_a_worker_killed_at_any_moment_loses_and_duplicates_nothing(app, demo, monkeypatch, kill_at):
    violations = [_raise("rodent", f"r{i}") for i in range(3)]
    due = violations[0].due_at
    real_notify, real_issue = cards_module._notify_card, cards_module.issue_card
    issued = []

    def notify_then_die(violation, card_id, color, at):
        real_notify(violation, card_id, color, at)
        raise Killed  # the card and its notices are written, the commit never comes

    def issue_then_die(violation_id, color, earned_at):
        if issued:
            raise Killed  # the first card committed, the process dies before the second
        issued.append(real_issue(violation_id, color, earned_at))
        return issued[-1]

    if kill_at == "before_commit":
        monkeypatch.setattr(cards_module, "_notify_card", notify_then_die)
    else:
        monkeypatch.setattr(cards_module, "issue_card", issue_then_die)
    with pytest.raises(Killed):
        issue_cards(due)
    db.session.rollback()  # the dead process's transaction is gone with it
    expected_before = 0 if kill_at == "before_commit" else 1
    assert len(_cards()) == expected_before and _card_notices() == 5 * expected_before
    monkeypatch.undo()
    assert issue_cards(due)["yellow"] == 3 - expected_before  # the redone run finishes the work
    assert issue_cards(due)["yellow"] == 0
    assert sorted(v for v, _, _ in _cards()) == sorted(v.id for v in violations)
    assert _card_notices() == 3 * 5  # each card's notices exactly once


def test_the_regulator_lifts_a_card_with_a_reason_and_no_red_follows(app, demo, client, as_user):
    rodent = _raise("rodent", "r")
    issue_cards(rodent.due_at)
    card_id = db.session.scalar(sa.select(RiskCard.id))
    url = f"/api/v1/risk-cards/{card_id}/lift"
    response = client.post(url, json={"reason": "已核实整改"}, headers=as_user("demo-principal-1"))
    assert (response.status_code, response.json["error"]["message"]) == (403, "只有监管部门可以撤销警示牌")
    response = client.post(url, json={}, headers=as_user("demo-regulator"))
    assert response.status_code == 422
    response = client.post(url, json={"reason": "已现场核实整改到位"}, headers=as_user("demo-regulator"))
    assert response.status_code == 200
    assert (response.json["active"], response.json["lift_reason"]) == (False, "已现场核实整改到位")
    again = client.post(url, json={"reason": "重复撤销"}, headers=as_user("demo-regulator-2"))
    assert (again.status_code, again.json["error"]["code"], again.json["error"]["message"]) == (
        409, "card_already_lifted", "该警示牌已被撤销")
    audit = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "risk.card_lift")).all()
    assert [(a.school_id, a.target_id, a.details["reason"]) for a in audit] == [(1, card_id, "已现场核实整改到位")]
    assert issue_cards(rodent.due_at + timedelta(days=30)) == {"yellow": 0, "red": 0}


def test_cards_are_shown_to_the_school_the_regulator_and_parents_never_to_another_school(app, demo, client,
                                                                                        as_user):
    rodent = _raise("rodent", "r")
    other = _raise("rodent", "o", canteen_id=2)
    camera = raise_violation(canteen_id=1, kind="camera_offline_meal", source="monitoring", idempotency_key="c",
                             occurred_at=MONDAY_10).violation
    issue_cards(rodent.due_at)
    school = client.get("/api/v1/schools/1/risk", headers=as_user("demo-principal-1")).json
    assert sorted(c["violation_id"] for c in school["cards"]) == sorted([rodent.id, camera.id])
    assert client.get("/api/v1/schools/2/risk", headers=as_user("demo-principal-1")).status_code == 403
    assert client.get("/api/v1/schools/1/risk", headers=as_user("demo-parent-1")).status_code == 403
    region = client.get("/api/v1/regions/3/risk/cards", headers=as_user("demo-regulator")).json
    assert sorted(c["violation_id"] for c in region) == sorted([rodent.id, other.id, camera.id])
    assert client.get("/api/v1/regions/3/risk/cards", headers=as_user("demo-principal-1")).status_code == 403
    # Parents: the active cards of kinds the school publishes (a camera's upkeep is not published by default).
    public = client.get("/api/v1/schools/1/risk/public", headers=as_user("demo-parent-1")).json
    assert [(c["kind"], c["color"]) for c in public["cards"]] == [("rodent", "yellow")]
    assert set(public["cards"][0]) == {"id", "color", "color_label", "risk_class", "kind", "kind_label", "issued_at"}
    assert client.get("/api/v1/schools/2/risk/public", headers=as_user("demo-parent-1")).status_code == 403
