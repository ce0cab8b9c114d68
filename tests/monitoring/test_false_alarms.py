"""False alarms learn (backend/monitoring/false_alarms.py): the share of false positives per camera and kind, the
threshold that rises one step past the limit (bounded, audited, idempotent), its revert, and the share after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from backend.accounts.models import User
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.monitoring.models import CameraMonitor, CameraTuningChange
from backend.timeutil import SHANGHAI, as_utc
from backend.violations.models import AlarmReview
from tests.violations.alarm_helpers import alarm, cameras_of
from workers.camera.tuning import DEFAULT_RULES, camera_settings
from workers.infra.job_schedule import SCHEDULE, job_by_name
from workers.jobs.platform import raise_false_alarm_thresholds

CLOCK = datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)
DEFAULT = DEFAULT_RULES["no_mask"].min_confidence


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    """A fixed Tuesday morning, ticking."""
    with time_machine.travel(CLOCK, tick=True):
        yield


def verdicts(camera: int, kind: str, false: int, confirmed: int, start: datetime, school_id: int = 1) -> None:
    """``false`` + ``confirmed`` reviewed alarms of a kind on the school's camera, raised a minute apart."""
    reviewer = db.session.scalar(sa.select(User.id).where(User.openid == "demo-staff-1"))
    for index in range(false + confirmed):
        at = start + timedelta(minutes=index)
        vid = alarm(school_id, camera=camera, kind=kind, at=at, key=f"{camera}:{kind}:{at.isoformat()}")
        db.session.add(AlarmReview(violation_id=vid, verdict="false_positive" if index < false else "confirmed",
                                   reason="误报" if index < false else None, reviewer_id=reviewer,
                                   reviewed_at=at + timedelta(seconds=30)))
    db.session.commit()


def run_job(at: datetime) -> dict[str, int]:
    return raise_false_alarm_thresholds(scheduled_for=at)


def tuning_of(camera_id: int) -> dict:
    db.session.expire_all()
    monitor = db.session.get(CameraMonitor, camera_id)
    return monitor.tuning if monitor else {}


def test_the_job_is_in_the_one_schedule():
    job = job_by_name("camera.false_alarms")
    assert job in SCHEDULE and job.func == "workers.jobs.platform:raise_false_alarm_thresholds"


def test_threshold_rises_one_step_past_the_limit_once_and_the_worker_uses_it(app, demo):
    cams = cameras_of(1)
    start = as_utc(CLOCK) - timedelta(days=2)
    verdicts(0, "no_mask", false=10, confirmed=10, start=start)  # 50 % of 20: at the limit
    verdicts(1, "no_mask", false=19, confirmed=0, start=start)  # 19 verdicts: too few to judge
    verdicts(2, "no_mask", false=10, confirmed=11, start=start)  # 48 %: under the limit
    now = as_utc(CLOCK)
    assert run_job(now) == {"raised": 1, "at_ceiling": 0}
    change = db.session.scalar(sa.select(CameraTuningChange))
    assert (change.camera_id, change.kind, change.setting) == (cams[0], "no_mask", "min_confidence")
    assert (change.old_value, change.new_value, change.verdicts, change.false_positives) == (DEFAULT, 0.55, 20, 10)
    assert tuning_of(cams[0]) == {"rules": {"no_mask": {"min_confidence": 0.55}}}
    assert tuning_of(cams[1]) == {} and tuning_of(cams[2]) == {}
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "camera.tuning_raised"))
    assert (audit.school_id, audit.target_id, audit.details["to"]) == (1, cams[0], 0.55)
    # The same fire again, or a later one on the same verdicts: nothing more.
    assert run_job(now) == {"raised": 0, "at_ceiling": 0}
    assert run_job(now + timedelta(minutes=10)) == {"raised": 0, "at_ceiling": 0}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CameraTuningChange)) == 1
    settings = camera_settings(cams[0], ["no_mask"], None, None, tuning_of(cams[0]))
    assert settings.rule("no_mask").min_confidence == 0.55


def test_the_threshold_is_bounded(app, demo):
    cams = cameras_of(1)
    monitor = CameraMonitor(camera_id=cams[0], tuning={"rules": {"smoking": {"min_confidence": 0.88}}},
                            engine_state={}, rule_state={}, last_result={})
    db.session.add(monitor)
    db.session.commit()
    start = as_utc(CLOCK) - timedelta(days=3)
    verdicts(0, "smoking", false=20, confirmed=0, start=start)
    assert run_job(as_utc(CLOCK) - timedelta(days=2)) == {"raised": 1, "at_ceiling": 0}
    assert tuning_of(cams[0])["rules"]["smoking"]["min_confidence"] == 0.9
    verdicts(0, "smoking", false=20, confirmed=0, start=as_utc(CLOCK) - timedelta(days=1))
    assert run_job(as_utc(CLOCK)) == {"raised": 0, "at_ceiling": 1}
    assert tuning_of(cams[0])["rules"]["smoking"]["min_confidence"] == 0.9


def test_installers_see_the_share_before_and_after_and_may_revert(app, client, demo, as_user):
    # A smaller policy than the default, to show it is read from the settings.
    app.config.update(FALSE_ALARM_MIN_VERDICTS="10", FALSE_ALARM_LIMIT="0.6", FALSE_ALARM_STEP="0.1")
    cams = cameras_of(1)
    verdicts(0, "no_mask", false=7, confirmed=3, start=as_utc(CLOCK) - timedelta(days=2))
    changed_at = as_utc(CLOCK) - timedelta(days=1)
    assert run_job(changed_at) == {"raised": 1, "at_ceiling": 0}  # 70 % of 10 with the settings above
    assert tuning_of(cams[0])["rules"]["no_mask"]["min_confidence"] == pytest.approx(DEFAULT + 0.1)
    verdicts(0, "no_mask", false=1, confirmed=4, start=changed_at + timedelta(hours=1))  # after: 1 of 5 false

    staff = as_user("demo-staff-1")
    view = client.get("/api/v1/schools/1/cameras/false-alarms", headers=staff)
    assert view.status_code == 200, view.json
    assert view.json["policy"] == {"limit": 0.6, "min_verdicts": 10, "step": 0.1, "ceiling": 0.9, "window_days": 30}
    [item] = view.json["items"]
    assert (item["camera_id"], item["kind"], item["kind_label"]) == (cams[0], "no_mask", "未佩戴口罩")
    assert item["all_time"] == {"verdicts": 15, "false_positives": 8, "share": round(8 / 15, 4)}
    assert item["since_last_change"] == {"verdicts": 5, "false_positives": 1, "share": 0.2}
    assert item["min_confidence"] == pytest.approx(DEFAULT + 0.1) and not item["over_limit"]
    [change] = item["changes"]
    assert change["before"] == {"verdicts": 10, "false_positives": 7, "share": 0.7}
    assert change["after"] == {"verdicts": 5, "false_positives": 1, "share": 0.2}
    assert change["at"].endswith("+08:00") and change["reverted_at"] is None

    # Who may see and revert: school staff and regulators see; the principal and staff revert; nobody else.
    assert client.get("/api/v1/schools/1/cameras/false-alarms", headers=as_user("demo-parent-1")).status_code == 403
    assert client.get("/api/v1/schools/1/cameras/false-alarms",
                      headers=as_user("demo-staff-2")).status_code == 403  # another school
    assert client.get("/api/v1/schools/1/cameras/false-alarms", headers=as_user("demo-regulator")).status_code == 200
    url = f"/api/v1/cameras/{cams[0]}/tuning-changes/{change['id']}/revert"
    for refused in ("demo-manager-1", "demo-regulator", "demo-principal-2", "demo-parent-1"):
        assert client.post(url, headers=as_user(refused)).status_code == 403, refused
    other_camera = cameras_of(2)[0]
    wrong = client.post(f"/api/v1/cameras/{other_camera}/tuning-changes/{change['id']}/revert",
                        headers=as_user("demo-principal-2"))
    assert wrong.status_code == 404  # the change is not that camera's
    reverted = client.post(url, headers=as_user("demo-principal-1"))
    assert reverted.status_code == 200, reverted.json
    assert reverted.json["change"]["reverted_at"].endswith("+08:00")
    assert reverted.json["change"]["after"] == {"verdicts": 5, "false_positives": 1, "share": 0.2}
    assert tuning_of(cams[0]) == {}  # back to the default
    again = client.post(url, headers=as_user("demo-principal-1"))
    assert again.status_code == 409 and again.json["error"]["code"] == "already_reverted"
    assert db.session.scalar(sa.select(AuditLog.actor_id).where(AuditLog.action == "camera.tuning_reverted"))
    # The verdicts that made the raise do not make it again after the revert.
    assert run_job(as_utc(CLOCK) + timedelta(minutes=10)) == {"raised": 0, "at_ceiling": 0}


def test_only_the_window_is_judged(app, demo):
    cams = cameras_of(1)
    now = as_utc(CLOCK)
    verdicts(0, "no_mask", false=20, confirmed=0, start=now - timedelta(days=31))  # a month ago: another scene
    verdicts(0, "no_mask", false=5, confirmed=5, start=now - timedelta(days=2))
    assert run_job(now) == {"raised": 0, "at_ceiling": 0}
    verdicts(0, "no_mask", false=10, confirmed=0, start=now - timedelta(days=1))  # 15 of 20 in the window
    assert run_job(now) == {"raised": 1, "at_ceiling": 0}
    change = db.session.scalar(sa.select(CameraTuningChange))
    assert (change.camera_id, change.verdicts, change.false_positives) == (cams[0], 20, 15)
