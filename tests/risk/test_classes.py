"""Risk classes: shipped defaults, per-region settings inherited down the region tree, and what a class drives
(the deadline, who is told at once, how far escalation climbs), on a fixed clock."""

from __future__ import annotations

from datetime import timedelta

from backend.extensions import db
from backend.risk.classes import DEFAULT_KIND_SETTINGS, card_setting, kind_setting
from backend.risk.models import RiskCardSetting, RiskKindSetting
from backend.violations.escalation import escalate_overdue
from backend.violations.models import Violation, ViolationKind
from backend.violations.services import raise_violation
from tests.risk.helpers import CITY, COUNTY, MONDAY_10, PROVINCE, recipients

COUNTY_PATH = f"/{PROVINCE}/{CITY}/{COUNTY}/"


def _raise(kind: str, key: str) -> Violation:
    return raise_violation(canteen_id=1, kind=kind, source="record_rule", idempotency_key=key,
                           occurred_at=MONDAY_10).violation


def test_the_shipped_defaults_put_rodents_meal_hour_outages_and_missing_samples_in_class_1():
    assert {k for k, (c, _) in DEFAULT_KIND_SETTINGS.items() if c == 1} >= {
        ViolationKind.RODENT, ViolationKind.CAMERA_OFFLINE_MEAL, ViolationKind.SAMPLE_MISSING}
    assert set(DEFAULT_KIND_SETTINGS) == set(ViolationKind)  # every kind has a class


def test_a_region_inherits_its_parents_settings_unless_it_sets_its_own(app, demo):
    assert kind_setting(COUNTY_PATH, "smoking").risk_class == 2
    db.session.add_all([RiskKindSetting(region_id=PROVINCE, kind="smoking", risk_class=1, deadline_hours=6,
                                        updated_at=MONDAY_10),
                        RiskKindSetting(region_id=CITY, kind="smoking", risk_class=3, deadline_hours=72,
                                        updated_at=MONDAY_10),
                        RiskCardSetting(region_id=PROVINCE, yellow_after_hours=2, red_after_hours=48,
                                        updated_at=MONDAY_10)])
    db.session.commit()
    # The nearest ancestor with its own value wins: the city's, not the province's.
    smoking = kind_setting(COUNTY_PATH, "smoking")
    assert (smoking.risk_class, smoking.deadline_hours, smoking.from_region_id) == (3, 72, CITY)
    assert kind_setting(f"/{PROVINCE}/", "smoking").risk_class == 1
    # A kind no region set keeps the shipped default.
    rodent = kind_setting(COUNTY_PATH, "rodent")
    assert (rodent.risk_class, rodent.deadline_hours, rodent.from_region_id) == (1, 12, None)
    assert card_setting(COUNTY_PATH) == card_setting(f"/{PROVINCE}/")
    assert (card_setting(COUNTY_PATH).red_after_hours, card_setting(COUNTY_PATH).from_region_id) == (48, PROVINCE)


def test_the_class_sets_the_deadline_and_is_kept_on_the_violation(app, demo):
    db.session.add(RiskKindSetting(region_id=COUNTY, kind="no_mask", risk_class=1, deadline_hours=4,
                                   updated_at=MONDAY_10))
    db.session.commit()
    mask = _raise("no_mask", "mask-1")
    assert (mask.risk_class, mask.due_at) == (1, MONDAY_10 + timedelta(hours=4))
    # A later change of the settings does not rewrite what was raised.
    db.session.query(RiskKindSetting).delete()
    db.session.commit()
    assert db.session.get(Violation, mask.id).risk_class == 1
    assert _raise("no_mask", "mask-2").risk_class == 3


def test_class_1_and_2_reach_the_school_and_the_inspectors_at_once_class_3_only_the_school(app, demo):
    school = {"demo-manager-1", "demo-staff-1"}
    inspectors = {"demo-regulator", "demo-regulator-2"}
    rodent, smoking, mask = _raise("rodent", "r"), _raise("smoking", "s"), _raise("no_mask", "m")
    assert recipients(rodent.id, "violation_created") >= school | inspectors
    assert recipients(smoking.id, "violation_created") >= school | inspectors
    told = recipients(mask.id, "violation_created")
    assert told >= school and not told & inspectors


def test_escalation_climbs_by_class(app, demo):
    rodent, smoking, mask = _raise("rodent", "r"), _raise("smoking", "s"), _raise("no_mask", "m")
    levels = {}

    def run(at):
        escalate_overdue(at)
        db.session.expire_all()
        levels.update({v.kind: db.session.get(Violation, v.id).escalation_level for v in (rodent, smoking, mask)})

    run(rodent.due_at)  # 12 h: the rodent's deadline (and the smoking's: 12 h too)
    assert levels == {"rodent": 1, "smoking": 1, "no_mask": 0}
    run(rodent.due_at + timedelta(minutes=1))  # class 1: the regulator takes over at once
    assert levels == {"rodent": 2, "smoking": 1, "no_mask": 0}
    run(smoking.due_at + timedelta(hours=24))  # class 2: a day after the principal
    assert levels == {"rodent": 2, "smoking": 2, "no_mask": 0}
    run(mask.due_at)
    run(mask.due_at + timedelta(days=30))  # class 3: routine supervision, never the regulator
    assert levels["no_mask"] == 1
    assert "demo-regulator" not in recipients(mask.id, "violation_escalated")
