"""`python -m workers`: every job of the schedule runs by hand through `run JOB`, in the workers' own app, which
has the services and no HTTP routes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from backend.timeutil import utcnow
from workers.infra.cli import commands
from workers.infra.job_schedule import SCHEDULE


@pytest.fixture
def worker_only_app(app: Any, app_config: dict[str, Any]) -> Iterator[Any]:
    """The app a worker process builds, on the test database, installed as the process's app."""
    from backend import create_worker_app
    from workers.infra.executor import set_executor
    from workers.infra.worker_app import use_app

    worker = create_worker_app(app_config)
    use_app(worker)
    yield worker
    set_executor(None)
    use_app(None)


def _overdue_violation() -> int:
    from backend.extensions import db
    from backend.schools.models import Canteen, Region, School
    from backend.violations.services import raise_violation

    region = Region(code="330106", name="西湖区", level="county", path="/")
    db.session.add(region)
    db.session.flush()
    school = School(region_id=region.id, name="测试小学", kind="primary")
    db.session.add(school)
    db.session.flush()
    canteen = Canteen(school_id=school.id, name="学生食堂", meal_windows=[], live_windows=[])
    db.session.add(canteen)
    db.session.commit()
    return raise_violation(canteen_id=canteen.id, kind="smoking", source="ai", idempotency_key="run-by-hand",
                           occurred_at=utcnow() - timedelta(days=1)).violation.id


@pytest.mark.parametrize("name", [job.name for job in SCHEDULE])
def test_every_scheduled_job_runs_by_hand(worker_only_app, name):
    violation_id = _overdue_violation()
    result = CliRunner().invoke(commands, ["run", name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    printed = ast.literal_eval(result.output.strip())  # the job's result, as the scheduler stores it
    assert isinstance(printed, dict)
    if name == "violations.escalate":  # scheduled_for is now: the day-old violation is past its due time
        from backend.extensions import db
        from backend.violations.models import Violation

        assert printed == {"escalated": 1}
        db.session.expire_all()
        assert db.session.get(Violation, violation_id).escalation_level == 1


def test_run_names_the_known_jobs_when_the_job_is_unknown(worker_only_app):
    result = CliRunner().invoke(commands, ["run", "no.such_job"])
    assert result.exit_code == 2
    assert "unknown job 'no.such_job'" in result.output and "live.ingest_recordings" in result.output


def test_the_worker_app_has_no_http_routes(worker_only_app, app):
    from backend.live.gateway import MediaHookGateway

    api_rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert any(rule.startswith("/api/v1/") for rule in api_rules) and "/openapi.json" in api_rules
    worker_rules = [rule.rule for rule in worker_only_app.url_map.iter_rules() if rule.endpoint != "static"]
    assert worker_rules == []
    assert not isinstance(worker_only_app.wsgi_app, MediaHookGateway)
    assert worker_only_app.blueprints == {}
    assert "seed-demo" in app.cli.commands and set(worker_only_app.cli.commands) <= {"db"}  # Flask-Migrate's
    assert {"sqlalchemy", "migrate", "limiter"} <= set(worker_only_app.extensions)  # the extensions are there
