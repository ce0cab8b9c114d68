"""The review queue: newest first, filters, cursor paging, grouping per camera and event, verdict counts."""

from __future__ import annotations

from datetime import timedelta

from backend.timeutil import utcnow
from backend.violations.alarm_queue import group_alarms
from tests.violations.alarm_helpers import alarm, cameras_of, minutes_ago, region_of


def test_groups_are_runs_of_one_camera_and_kind_within_ten_minutes(client, as_user, kitchen):
    # Camera 0 no_mask at -30, -25, -21 (one event: gaps of 5 and 4 min), then -5 (a new event: 16 min later);
    # camera 1 no_mask at -24 between them, camera 0 no_hat at -22: their own groups.
    a1, a2, a3 = (alarm(camera=0, at=minutes_ago(m)) for m in (30, 25, 21))
    other_camera = alarm(camera=1, at=minutes_ago(24))
    other_kind = alarm(camera=0, kind="no_hat", at=minutes_ago(22))
    later = alarm(camera=0, at=minutes_ago(5))
    page = client.get("/api/v1/schools/1/alarms", headers=as_user("demo-staff-1")).json
    assert [i["id"] for i in page["items"]] == [later, other_kind, other_camera, a3, a2, a1]  # newest first
    groups = [(g["camera_id"], g["kind"], g["count"], g["ids"]) for g in page["groups"]]
    cam0, cam1 = cameras_of(1)[:2]
    assert groups == [(cam0, "no_mask", 1, [later]), (cam0, "no_hat", 1, [other_kind]),
                      (cam1, "no_mask", 1, [other_camera]), (cam0, "no_mask", 3, [a3, a2, a1])]
    big = page["groups"][3]
    assert big["first_occurred_at"] < big["last_occurred_at"] and big["camera_name"]


def test_grouping_rule_on_plain_items():
    now = utcnow()

    def item(i, minutes, camera=1, kind="no_mask"):
        return {"id": i, "camera_id": camera, "kind": kind, "occurred_at": now - timedelta(minutes=minutes),
                "camera_name": "c", "school_name": "s", "kind_label": "k"}

    groups = group_alarms([item(5, 0), item(4, 10), item(3, 20.5), item(2, 21, camera=2), item(1, 22)])
    assert [g["ids"] for g in groups] == [[5, 4], [3, 1], [2]]  # exactly 10 min joins, 10.5 min splits


def test_filters_and_cursor_paging(client, as_user, kitchen):
    ids = [alarm(camera=i % 2, kind=("no_mask", "smoking")[i % 2], at=minutes_ago(60 - i)) for i in range(5)]
    staff = as_user("demo-staff-1")
    first = client.get("/api/v1/schools/1/alarms?limit=2", headers=staff).json
    assert [i["id"] for i in first["items"]] == ids[:-3:-1] and first["next_before_id"] == ids[3]
    second = client.get(f"/api/v1/schools/1/alarms?limit=2&before_id={first['next_before_id']}", headers=staff).json
    third = client.get(f"/api/v1/schools/1/alarms?limit=2&before_id={second['next_before_id']}", headers=staff).json
    assert [i["id"] for i in second["items"] + third["items"]] == ids[2::-1] and third["next_before_id"] is None
    smoking = client.get("/api/v1/schools/1/alarms?kind=smoking", headers=staff).json["items"]
    assert {i["kind"] for i in smoking} == {"smoking"} and len(smoking) == 2
    cam = cameras_of(1)[0]
    by_camera = client.get(f"/api/v1/schools/1/alarms?camera_id={cam}", headers=staff).json["items"]
    assert {i["camera_id"] for i in by_camera} == {cam} and len(by_camera) == 3
    bad = client.get("/api/v1/schools/1/alarms?state=maybe&limit=0", headers=staff)
    assert bad.status_code == 422 and {"state", "limit"} <= set(bad.json["error"]["details"]["fields"])
    outside = client.get(f"/api/v1/regions/{region_of(1)}/alarms?school_id=999", headers=as_user("demo-regulator"))
    assert outside.status_code == 404


def test_verdict_counts_per_camera_and_kind(client, as_user, kitchen):
    cam0, cam1 = cameras_of(1)[:2]
    a, b, c = alarm(camera=0, at=minutes_ago(3)), alarm(camera=0, at=minutes_ago(2)), alarm(camera=0, at=minutes_ago(1))
    d = alarm(camera=1, kind="smoking")
    staff = as_user("demo-staff-1")
    for vid, verdict in ((a, "confirmed"), (b, "false_positive"), (d, "escalated")):
        assert client.post(f"/api/v1/alarms/{vid}/review", json={"verdict": verdict, "reason": "复核"},
                           headers=staff).status_code == 201
    figures = client.get("/api/v1/schools/1/alarms/stats", headers=staff).json
    assert (figures["total"], figures["pending"], figures["confirmed"], figures["false_positive"],
            figures["escalated"]) == (4, 1, 1, 1, 1)
    per_camera = {row["camera_id"]: row for row in figures["by_camera"]}
    assert per_camera[cam0]["false_positive_rate"] == 0.5 and per_camera[cam0]["pending"] == 1
    assert per_camera[cam1]["false_positive_rate"] == 0.0 and per_camera[cam1]["camera_name"]
    assert {row["kind"]: row["total"] for row in figures["by_kind"]} == {"no_mask": 3, "smoking": 1}
    region = client.get(f"/api/v1/regions/{region_of(1)}/alarms/stats", headers=as_user("demo-regulator")).json
    assert region["total"] == 4 and c
    assert client.get("/api/v1/schools/1/alarms/stats?from=2026-02-01&to=2025-01-01",
                      headers=staff).status_code == 422


def test_verdict_counts_are_reused_only_while_nothing_they_count_changed(client, as_user, kitchen):
    """The counts are kept per process (stats_cache): a verdict, a new alarm and a renamed camera each show in
    the very next answer."""
    first = alarm(camera=0, at=minutes_ago(3))
    staff, regulator = as_user("demo-staff-1"), as_user("demo-regulator")
    region_stats = f"/api/v1/regions/{region_of(1)}/alarms/stats"

    def counts(path, headers):
        figures = client.get(path, headers=headers).json
        return figures["total"], figures["pending"], figures["confirmed"]

    assert counts("/api/v1/schools/1/alarms/stats", staff) == (1, 1, 0)
    assert counts(region_stats, regulator) == (1, 1, 0)
    assert client.post(f"/api/v1/alarms/{first}/review", json={"verdict": "confirmed"},
                       headers=staff).status_code == 201
    assert counts("/api/v1/schools/1/alarms/stats", staff) == (1, 0, 1)
    assert counts(region_stats, regulator) == (1, 0, 1)
    alarm(camera=0, at=minutes_ago(1))
    assert counts("/api/v1/schools/1/alarms/stats", staff) == (2, 1, 1)
    assert counts(region_stats, regulator) == (2, 1, 1)
    camera_id = cameras_of(1)[0]
    assert client.patch(f"/api/v1/cameras/{camera_id}", json={"name": "改名后的摄像头"},
                        headers=as_user("demo-principal-1")).status_code == 200
    [row] = client.get(region_stats, headers=regulator).json["by_camera"]
    assert row["camera_name"] == "改名后的摄像头"


def test_verdict_counts_list_the_cameras_with_most_alarms_and_count_them_all(client, as_user, kitchen, monkeypatch):
    from backend.violations import alarm_queue

    monkeypatch.setattr(alarm_queue, "TOP_CAMERAS", 1)
    cam1 = cameras_of(1)[1]
    alarm(camera=0, at=minutes_ago(3))
    alarm(camera=1, at=minutes_ago(2))
    alarm(camera=1, at=minutes_ago(1))
    figures = client.get("/api/v1/schools/1/alarms/stats", headers=as_user("demo-staff-1")).json
    assert figures["camera_count"] == 2 and figures["total"] == 3
    assert [(row["camera_id"], row["total"]) for row in figures["by_camera"]] == [(cam1, 2)]
    assert figures["by_camera"][0]["camera_name"]
