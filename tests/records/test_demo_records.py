"""The demo records `make demo` seeds for school 1: what a manager opening the phone finds, and a second run
adding nothing."""

from __future__ import annotations

from backend.records.chain import verify_chain
from backend.records.demo import STAFF, seed_demo_records


def test_the_demo_canteen_has_a_staff_register_in_every_certificate_state(demo, client, as_user) -> None:
    """Five people: three with valid certificates, one ending within 30 days, the newest hire with none."""
    school_id = demo["西湖实验小学"]
    counts = seed_demo_records(school_id)
    assert (counts["staff"], counts["health_certificate"]) == (5, 4)
    canteen_id = client.get(f"/api/v1/schools/{school_id}/canteens", headers=as_user("demo-manager-1")).json[0]["id"]
    listed = client.get(f"/api/v1/canteens/{canteen_id}/staff?active=true&limit=100",
                        headers=as_user("demo-manager-1")).json["items"]
    states = {person["name"]: (person["post"], person["certificate_status"]) for person in listed}
    assert states == {"周师傅": ("厨师长", "valid"), "吴阿姨": ("留样员", "valid"), "孙师傅": ("洗消员", "valid"),
                      "郑师傅": ("厨师", "expiring"), "林小燕": ("帮厨", "missing")}
    assert len(STAFF) == len(states)
    # Run again (make demo restarted the same day): nothing is added, the chain still verifies.
    assert seed_demo_records(school_id) == counts
    assert verify_chain(canteen_id).ok
