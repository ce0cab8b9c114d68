"""HTTP routes of the live API under /api/v1/live, and the live CLI.

The media server's hooks under /internal/media are answered in front of Flask (backend/live/gateway.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import click
from apiflask import APIBlueprint
from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.integrations import media
from backend.live import recordings, services, snapshots
from backend.live.models import RecordingSegment
from backend.live.schemas import (
    LobbyOut,
    PlayOut,
    PublishKeyOut,
    RecordingListOut,
    RecordingPlayOut,
    RecordingQuery,
    SnapshotOut,
)
from backend.live.sessions import close_idle
from backend.live.settings import live_settings
from backend.permissions import Action, current_principal, register_scope, rule
from backend.schools.models import Camera, Canteen, School
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

bp = APIBlueprint("live", __name__, tag="直播与录像", cli_group="live")


def _school_of_recording(recording_id: int) -> School | None:
    return db.session.scalar(select(School).join(RecordingSegment, RecordingSegment.school_id == School.id)
                             .where(RecordingSegment.id == recording_id))


register_scope("recording", "recording_id", "录像", _school_of_recording)


# --- live API -----------------------------------------------------------------------------------------------

@bp.post("/live/cameras/<id:camera_id>/play")
@rule(Action.LIVE_PLAY, scope="camera")
@bp.output(PlayOut)
@bp.doc(responses=[429])  # the viewer caps (backend/live/services.py)
def play(camera_id: int) -> Any:
    """Signed RTMP and HLS URLs of a camera (parents: public areas, inside the live windows)."""
    return services.request_play(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


@bp.get("/live/canteens/<id:canteen_id>/cameras")
@rule(Action.CAMERA_READ, scope="canteen")
@bp.output(LobbyOut)
def lobby(canteen_id: int) -> Any:
    """The canteen's watchable cameras, which are live, and when the live windows are open."""
    return services.live_lobby(current_principal(), db.session.get(Canteen, canteen_id), utcnow(), live_settings())


@bp.post("/live/cameras/<id:camera_id>/publish-key")
@rule(Action.CAMERA_MANAGE, scope="camera")
@bp.output(PublishKeyOut, status_code=201)
def rotate_publish_key(camera_id: int) -> Any:
    """Issue a new publish key for a camera (the previous one stops working at once)."""
    return services.rotate_publish_key(current_principal(), db.session.get(Camera, camera_id), utcnow(),
                                       live_settings())


@bp.get("/live/cameras/<id:camera_id>/recordings")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(RecordingQuery, location="query", arg_name="query")
@bp.output(RecordingListOut)
def list_recordings(camera_id: int, query: dict[str, Any]) -> Any:
    """A camera's recordings overlapping a time range (default: the last 24 hours; at most 7 days)."""
    end = query.get("end") or utcnow()
    start = query.get("start") or end - timedelta(hours=24)
    items = recordings.list_recordings(db.session.get(Camera, camera_id), start, end)
    return {"start": start, "end": end, "recordings": items}


@bp.post("/live/recordings/<id:recording_id>/play")
@rule(Action.RECORDING_READ, scope="recording")
@bp.output(RecordingPlayOut)
def play_recording(recording_id: int) -> Any:
    """A short-lived signed URL of one recording segment."""
    return recordings.recording_play_url(current_principal(), db.session.get(RecordingSegment, recording_id),
                                         utcnow())


@bp.post("/live/cameras/<id:camera_id>/snapshots")
@rule(Action.SNAPSHOT_TAKE, scope="camera")
@bp.output(SnapshotOut, status_code=201)
def take_snapshot(camera_id: int) -> Any:
    """Grab a frame from the camera now (staff)."""
    return snapshots.take_snapshot(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


# --- CLI: flask live … -------------------------------------------------------------------------------------------

@bp.cli.command("ingest-recordings")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def ingest_recordings_command(limit: int) -> None:
    """Copy finished recording files into the object store (scheduled job)."""
    report = recordings.ingest_pending(utcnow(), limit)
    click.echo(f"stored {report.stored}, empty {report.empty}, failed {report.failed}, retry {report.retried}")


@bp.cli.command("purge-recordings")
def purge_recordings_command() -> None:
    """Remove recordings older than LIVE_RECORDING_RETENTION_DAYS (scheduled job)."""
    click.echo(f"removed {recordings.purge_expired(utcnow())} segments")


@bp.cli.command("close-idle-sessions")
def close_idle_command() -> None:
    """Mark view sessions closed whose media server stopped reporting (scheduled job)."""
    click.echo(f"closed {close_idle(utcnow(), live_settings().idle_seconds)} sessions")


@bp.cli.command("relay")
@click.argument("camera_id", type=int)
@click.option("--transcode/--copy", default=None, help="re-encode to H.264 (default: only for file sources)")
def relay_command(camera_id: int, transcode: bool | None) -> None:
    """Pull a camera's stream and publish it to the media server until stopped."""
    from backend.live.relay import run_relay, stop_on_sigterm

    stop_on_sigterm()
    raise SystemExit(run_relay(camera_id, live_settings(), transcode=transcode))


@bp.cli.command("media-config")
@click.option("--template", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE", help="template variable")
def media_config_command(template: str | None, assignments: tuple[str, ...]) -> None:
    """Print the nginx-rtmp configuration rendered from docker/media/nginx.conf.template."""
    from backend.live.mediaconf import DEFAULT_TEMPLATE, default_variables

    variables = default_variables(current_app.config)
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        variables[name] = value
    with open(template or DEFAULT_TEMPLATE, encoding="utf-8") as source:
        text = source.read()
    click.echo(media.render_media_config(text, variables))
