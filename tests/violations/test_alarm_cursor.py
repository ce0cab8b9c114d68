"""The cheap cursor the console polls: from the database without Redis, through Redis with it, so two api
instances give the same answer about an alarm committed by a third party (the detection worker)."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests.violations.alarm_helpers import alarm, region_of


def _cursor(client, headers, path="/api/v1/schools/1/alarms/cursor"):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_database_cursor_moves_with_new_alarms_and_verdicts(client, as_user, kitchen):
    staff = as_user("demo-staff-1")
    empty = _cursor(client, staff)
    assert empty["latest_id"] is None
    vid = alarm()
    after_alarm = _cursor(client, staff)
    assert after_alarm["latest_id"] == vid and after_alarm["revision"] != empty["revision"]
    assert client.post(f"/api/v1/alarms/{vid}/review", json={"verdict": "confirmed"}, headers=staff).status_code == 201
    after_review = _cursor(client, staff)
    assert after_review["latest_id"] == vid and after_review["revision"] != after_alarm["revision"]
    region = _cursor(client, as_user("demo-regulator"), f"/api/v1/regions/{region_of(1)}/alarms/cursor")
    assert region == after_review
    assert _cursor(client, as_user("demo-staff-2"), "/api/v1/schools/2/alarms/cursor")["latest_id"] is None


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test only, removed afterwards."""
    prefix = f"test:alarms:{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def app_config(app_config, redis_url, redis_prefix):
    """The app under test (the "worker" and first api instance) with Redis."""
    return {**app_config, "REDIS_URL": redis_url, "ALARM_SIGNAL_PREFIX": redis_prefix}


def test_two_api_instances_agree_through_redis(app, app_config, client, as_user, kitchen, redis_url, redis_prefix):
    from backend import create_app

    second = create_app(app_config).test_client()
    staff, regulator = as_user("demo-staff-1"), as_user("demo-regulator")
    region_path = f"/api/v1/regions/{region_of(1)}/alarms/cursor"
    before = _cursor(second, staff)
    vid = alarm()  # committed by this process, as a detection worker would
    stored = redis.Redis.from_url(redis_url).hgetall(f"{redis_prefix}:school:1")
    assert int(stored[b"latest"]) == vid and int(stored[b"revision"]) == 1
    for instance in (client, second):
        answer = _cursor(instance, staff)
        assert answer["latest_id"] == vid and answer["revision"].startswith("r.")  # read from Redis
        assert answer["revision"] != before["revision"]
        assert _cursor(instance, regulator, region_path)["latest_id"] == vid
    first_answer = _cursor(client, staff)
    assert second.post(f"/api/v1/alarms/{vid}/review", json={"verdict": "confirmed"},
                       headers=staff).status_code == 201
    moved = _cursor(client, staff)  # the other instance's verdict moves this one's answer
    assert moved["revision"] != first_answer["revision"] and moved == _cursor(second, staff)
    assert _cursor(second, as_user("demo-staff-2"), "/api/v1/schools/2/alarms/cursor")["latest_id"] is None
