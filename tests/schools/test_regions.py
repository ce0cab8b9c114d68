"""The region tree (``GET /regions``): provinces, their cities, their counties, for anyone signed in."""

from __future__ import annotations


def _names(nodes: list[dict]) -> list[str]:
    return [node["name"] for node in nodes]


def test_the_region_tree_nests_counties_in_cities_in_provinces(client, demo, as_user):
    answer = client.get("/api/v1/regions", headers=as_user("demo-parent-1"))
    assert answer.status_code == 200, answer.json
    (province,) = answer.json["regions"]
    assert (province["name"], province["level"], province["code"]) == ("浙江省", "province", "330000")
    (city,) = province["children"]
    assert (city["name"], city["level"]) == ("杭州市", "city")
    assert "西湖区" in _names(city["children"])
    county = next(node for node in city["children"] if node["name"] == "西湖区")
    assert county["level"] == "county" and county["children"] == [] and set(county) == {
        "id", "code", "name", "level", "children"}


def test_the_region_tree_is_for_those_signed_in(client, demo):
    answer = client.get("/api/v1/regions")
    assert answer.status_code == 401 and answer.json["error"]["code"]
