"""A region's risk settings through the API: regulators of the region read and change them (audited), a
region below inherits, nobody else may change them; errors in Chinese."""

from __future__ import annotations

from backend.extensions import db
from backend.schools.models import Region
from backend.schools.services import create_region
from backend.violations.services import raise_violation
from tests.risk.helpers import CITY, COUNTY, MONDAY_10, PROVINCE, user_id

URL = "/api/v1/regions/{}/risk/settings"


def _kind(settings: dict, kind: str) -> dict:
    return next(item for item in settings["kinds"] if item["kind"] == kind)


def test_the_regulator_changes_the_regions_settings_and_it_is_audited(app, demo, client, as_user):
    regulator = as_user("demo-regulator")
    settings = client.get(URL.format(COUNTY), headers=regulator).json
    assert (_kind(settings, "rodent")["risk_class"], _kind(settings, "rodent")["source"]) == (1, "default")
    assert settings["cards"]["red_after_hours"] == 120
    body = {"kinds": [{"kind": "no_mask", "risk_class": 2, "deadline_hours": 24}],
            "cards": {"yellow_after_hours": 4, "red_after_hours": 72}}
    response = client.put(URL.format(COUNTY), json=body, headers=regulator)
    assert response.status_code == 200
    mask = _kind(response.json, "no_mask")
    assert (mask["risk_class"], mask["deadline_hours"], mask["source"], mask["source_label"]) == (
        2, 24, "own", "本地区设置")
    assert (response.json["cards"]["yellow_after_hours"], response.json["cards"]["source"]) == (4, "own")
    violation = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="m",
                                occurred_at=MONDAY_10).violation
    assert violation.risk_class == 2
    # Back to inheriting: the default applies again.
    response = client.put(URL.format(COUNTY), json={"kinds": [{"kind": "no_mask", "inherit": True}]},
                          headers=as_user("demo-regulator-2"))
    assert (_kind(response.json, "no_mask")["risk_class"], _kind(response.json, "no_mask")["source"]) == (3, "default")
    history = client.get(URL.format(COUNTY) + "/history", headers=regulator).json
    assert [(h["actor_id"], h["kinds"], h["cards"]) for h in history] == [
        (user_id("demo-regulator-2"), [{"kind": "no_mask", "before": [2, 24], "after": None}], None),
        (user_id("demo-regulator"), [{"kind": "no_mask", "before": None, "after": [2, 24]}],
         {"before": None, "after": [4, 72]})]
    # Saving the same values again changes nothing and audits nothing.
    client.put(URL.format(COUNTY), json={"cards": {"yellow_after_hours": 4, "red_after_hours": 72}}, headers=regulator)
    assert len(client.get(URL.format(COUNTY) + "/history", headers=regulator).json) == 2


def test_a_region_below_inherits_and_only_a_regions_regulators_change_it(app, demo, client, as_user):
    admin = as_user("demo-admin")
    response = client.put(URL.format(CITY), json={"kinds": [{"kind": "smoking", "risk_class": 1, "deadline_hours": 6}]},
                          headers=admin)
    assert response.status_code == 200
    county = client.get(URL.format(COUNTY), headers=as_user("demo-regulator")).json
    smoking = _kind(county, "smoking")
    assert (smoking["risk_class"], smoking["source"], smoking["source_region_id"]) == (1, "inherited", CITY)
    assert smoking["source_label"].startswith("继承自")
    # The county's regulator may not change (or read) the city's or the province's settings.
    for region in (CITY, PROVINCE):
        refused = client.put(URL.format(region), json={"kinds": []}, headers=as_user("demo-regulator"))
        assert (refused.status_code, refused.json["error"]["message"]) == (403, "只有该地区的监管人员可以设置风险分级")
    # School people never.
    for openid in ("demo-principal-1", "demo-staff-1", "demo-parent-1"):
        assert client.get(URL.format(COUNTY), headers=as_user(openid)).status_code == 403
        assert client.put(URL.format(COUNTY), json={"kinds": []}, headers=as_user(openid)).status_code == 403
    # Another region's regulator sees nothing of this one.
    province = db.session.get(Region, PROVINCE)
    other = create_region("330200", "宁波市", "city", province)
    db.session.commit()
    from backend.accounts.models import User
    from backend.accounts.services import grant_regulator

    ningbo = User(openid="ningbo-regulator")
    db.session.add(ningbo)
    db.session.flush()
    grant_regulator(ningbo, other, user_id("demo-admin"))
    db.session.commit()
    for url in (URL.format(COUNTY), "/api/v1/regions/3/risk/cards", "/api/v1/regions/3/risk/uptime",
                "/api/v1/schools/1/risk"):
        assert client.get(url, headers=as_user("ningbo-regulator")).status_code == 403


def test_invalid_settings_are_refused_in_chinese(app, demo, client, as_user):
    regulator = as_user("demo-regulator")
    cases = [
        {"kinds": [{"kind": "rodent", "risk_class": 4, "deadline_hours": 12}]},
        {"kinds": [{"kind": "no_such_kind", "risk_class": 1, "deadline_hours": 12}]},
        {"kinds": [{"kind": "rodent", "risk_class": 1, "deadline_hours": 0}]},
        {"cards": {"yellow_after_hours": -1, "red_after_hours": 24}},
    ]
    for body in cases:
        response = client.put(URL.format(COUNTY), json=body, headers=regulator)
        assert response.status_code == 422, body
    response = client.put(URL.format(COUNTY), json={"kinds": [{"kind": "rodent", "risk_class": 1}]}, headers=regulator)
    assert (response.status_code, response.json["error"]["message"]) == (422, "请同时填写风险等级和整改期限")
    twice = {"kinds": [{"kind": "rodent", "risk_class": 1, "deadline_hours": 6},
                       {"kind": "rodent", "risk_class": 2, "deadline_hours": 6}]}
    response = client.put(URL.format(COUNTY), json=twice, headers=regulator)
    assert (response.status_code, response.json["error"]["message"]) == (422, "同一类问题只能设置一次")
    assert client.get(URL.format(COUNTY) + "/history", headers=regulator).json == []
