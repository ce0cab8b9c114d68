"""Fixtures of the live-view tests: media settings, hook calls, a camera with a publish key, time control."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.net import free_port

HOOK_SECRET = "test-media-hook-secret-0123456789"
ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


@pytest.fixture(autouse=True)
def backend_loggers_enabled() -> None:
    """Alembic's fileConfig (migrations/env.py, run by the session's migration) disables every logger that
    existed then; the log assertions here must see what production logs."""
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and name.startswith("backend"):
            logger.disabled = False


@pytest.fixture
def media_ports() -> dict[str, int]:
    return {"rtmp": free_port(), "http": free_port()}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path, media_ports) -> dict[str, Any]:
    record_dir = tmp_path / "recordings"
    record_dir.mkdir()
    return {**app_config, "MEDIA_HOOK_SECRET": HOOK_SECRET,
            "MEDIA_RTMP_BASE": f"rtmp://127.0.0.1:{media_ports['rtmp']}/live",
            "MEDIA_HLS_BASE": f"http://127.0.0.1:{media_ports['http']}/hls",
            "LIVE_RECORD_DIR": str(record_dir), "STORAGE_LOCAL_PATH": str(tmp_path / "storage")}


@pytest.fixture
def hls_auth_calls() -> list[str]:
    """The original URI of every HLS authorisation that reached the api (nginx did not answer it from its cache)."""
    return []


@pytest.fixture
def hook_server(app, hls_auth_calls):
    """The app's media hook listener (backend/live/hook_listener.py, as each gunicorn worker runs it) on loopback:
    where nginx's hooks and HLS authorisations go; its base URL."""
    from backend.live.hook_listener import HookListener, bind

    listener = HookListener(app, bind("127.0.0.1", 0, reuse_port=False), connections=8)
    gateway = listener.gateway

    def counted(environ, start_response):
        if environ.get("PATH_INFO") == "/internal/media/hls_auth":
            hls_auth_calls.append(environ.get("HTTP_X_ORIGINAL_URI", ""))
        return gateway(environ, start_response)

    listener.gateway = counted
    listener.start()
    yield f"http://{listener.address[0]}:{listener.address[1]}"
    listener.stop()


class Clock:
    """The time the live routes see; tests move it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Freeze the clock of the live routes and the media hooks (Monday 2026-11-23 10:00 Asia/Shanghai = 02:00 UTC)."""
    from datetime import UTC

    import backend.live.gateway as gateway
    import backend.live.routes as routes

    frozen = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    monkeypatch.setattr(routes, "utcnow", frozen)
    monkeypatch.setattr(gateway, "utcnow", frozen)
    return frozen


@pytest.fixture
def hook(client):
    """``hook(name, **fields)``: call an nginx-rtmp hook the way the media server does (form POST)."""
    def call(hook_name: str, /, **fields: Any):
        data = {"app": "live", "addr": "127.0.0.1", "clientid": "1", "flashver": "LNX 9,0,124,2", **fields}
        return client.post(f"/internal/media/{hook_name}?secret={HOOK_SECRET}",
                           data={k: str(v) for k, v in data.items()})
    return call


@pytest.fixture
def camera_ids(demo) -> dict[str, int]:
    """Cameras of the demo: school 1 public area, school 1 private area (留样间), school 2 public area."""
    from backend.extensions import db
    from backend.schools.models import Camera, Canteen, KitchenArea

    rows = db.session.execute(sa.select(Camera.id, KitchenArea.public, Canteen.school_id)
                              .join(KitchenArea, Camera.area_id == KitchenArea.id)
                              .join(Canteen, KitchenArea.canteen_id == Canteen.id).order_by(Camera.id)).all()
    own_public = next(r.id for r in rows if r.school_id == 1 and r.public)
    own_private = next(r.id for r in rows if r.school_id == 1 and not r.public)
    other_public = next(r.id for r in rows if r.school_id == 2 and r.public)
    return {"public": own_public, "private": own_private, "other": other_public}


def set_live_windows(school_id: int, windows: list[dict[str, Any]]) -> None:
    """Replace the live windows of a school's canteen."""
    from backend.extensions import db
    from backend.schools.models import Canteen

    canteen = db.session.scalar(sa.select(Canteen).where(Canteen.school_id == school_id))
    canteen.live_windows = windows
    db.session.commit()


def mark_live(camera_id: int, now: datetime) -> None:
    """Record a camera as publishing (what on_publish does) without a media server."""
    from backend.extensions import db
    from backend.live.models import CameraStream

    stream = db.session.get(CameraStream, camera_id) or CameraStream(camera_id=camera_id)
    stream.publishing, stream.live_since, stream.last_event_at, stream.publisher_client_id = True, now, now, "9"
    db.session.add(stream)
    db.session.commit()


def mark_all_live(camera_ids: dict[str, int], now: datetime) -> dict[str, int]:
    """Every camera of ``camera_ids`` publishing at ``now`` (the media server keeps reporting them); the ids."""
    for camera_id in camera_ids.values():
        mark_live(camera_id, now)
    return camera_ids
