"""HTTP routes: the live API under /api/v1/live, and the media server's hooks under /internal/media.

The hooks are outside /api/v1 and need no login: they accept only the media server, which proves itself
with MEDIA_HOOK_SECRET (``?secret=`` in the hook URL, or the ``X-Media-Hook-Secret`` header), or — when
MEDIA_HOOK_TRUST_LOOPBACK is on — by calling from the loopback address. They answer 2xx to allow and 403 to
refuse.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

import click
from apiflask import APIBlueprint
from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from backend.errors import ApiError
from backend.extensions import db
from backend.integrations import media
from backend.live import hooks, recordings, services, snapshots
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
from backend.timeutil import SHANGHAI, utcnow

log = logging.getLogger(__name__)

bp = APIBlueprint("live", __name__, tag="直播与录像", cli_group="live")
hooks_bp = APIBlueprint("media_hooks", __name__, tag="媒体服务器回调", url_prefix="/internal/media")
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def _school_of_recording(recording_id: int) -> School | None:
    return db.session.scalar(select(School).join(RecordingSegment, RecordingSegment.school_id == School.id)
                             .where(RecordingSegment.id == recording_id))


register_scope("recording", "recording_id", "录像", _school_of_recording)


# --- live API -----------------------------------------------------------------------------------------------

@bp.post("/live/cameras/<int:camera_id>/play")
@rule(Action.LIVE_PLAY, scope="camera")
@bp.output(PlayOut)
def play(camera_id: int) -> Any:
    """Signed RTMP and HLS URLs of a camera (parents: public areas, inside the live windows)."""
    return services.request_play(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


@bp.get("/live/canteens/<int:canteen_id>/cameras")
@rule(Action.CAMERA_READ, scope="canteen")
@bp.output(LobbyOut)
def lobby(canteen_id: int) -> Any:
    """The canteen's watchable cameras, which are live, and when the live windows are open."""
    return services.live_lobby(current_principal(), db.session.get(Canteen, canteen_id), utcnow(), live_settings())


@bp.post("/live/cameras/<int:camera_id>/publish-key")
@rule(Action.CAMERA_MANAGE, scope="camera")
@bp.output(PublishKeyOut, status_code=201)
def rotate_publish_key(camera_id: int) -> Any:
    """Issue a new publish key for a camera (the previous one stops working at once)."""
    return services.rotate_publish_key(current_principal(), db.session.get(Camera, camera_id), utcnow(),
                                       live_settings())


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=SHANGHAI)


@bp.get("/live/cameras/<int:camera_id>/recordings")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(RecordingQuery, location="query", arg_name="query")
@bp.output(RecordingListOut)
def list_recordings(camera_id: int, query: dict[str, Any]) -> Any:
    """A camera's recordings overlapping a time range (default: the last 24 hours; at most 7 days)."""
    end = _aware(query.get("end")) or utcnow()
    start = _aware(query.get("start")) or end - timedelta(hours=24)
    items = recordings.list_recordings(db.session.get(Camera, camera_id), start, end)
    return {"start": start, "end": end, "recordings": items}


@bp.post("/live/recordings/<int:recording_id>/play")
@rule(Action.RECORDING_READ, scope="recording")
@bp.output(RecordingPlayOut)
def play_recording(recording_id: int) -> Any:
    """A short-lived signed URL of one recording segment."""
    return recordings.recording_play_url(current_principal(), db.session.get(RecordingSegment, recording_id),
                                         utcnow())


@bp.post("/live/cameras/<int:camera_id>/snapshots")
@rule(Action.SNAPSHOT_TAKE, scope="camera")
@bp.output(SnapshotOut, status_code=201)
def take_snapshot(camera_id: int) -> Any:
    """Grab a frame from the camera now (staff)."""
    return snapshots.take_snapshot(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


# --- media-server hooks ---------------------------------------------------------------------------------------

def _authenticate_media_server(query: dict[str, str] | None = None) -> None:
    settings = live_settings()
    secret = (query if query is not None else request.args).get("secret")
    presented = secret or request.headers.get("X-Media-Hook-Secret") or ""
    if settings.hook_secret and hmac.compare_digest(presented.encode(), settings.hook_secret.encode()):
        return
    if settings.trust_loopback and request.remote_addr in LOOPBACK:
        return
    log.warning("media hook %s refused: caller not authenticated (from %s)", request.path, request.remote_addr)
    raise ApiError(403, "media_hook_unauthorized", "仅媒体服务器可调用")


def _refused(reason: str) -> ApiError:
    return ApiError(403, "media_refused", "媒体服务器请求被拒绝", {"reason": reason})


def _nginx_hook(*calls: media.HookCall) -> dict[str, Any]:
    query = media.parse_form(request.query_string)
    _authenticate_media_server(query)
    if (request.content_length or 0) > media.MAX_HOOK_BODY:
        raise ApiError(413, "payload_too_large", "回调内容过大")
    try:
        # nginx-rtmp posts a form (the secret rides in the URL); a GET notification carries it all in the query.
        fields = media.parse_form(request.get_data(cache=False)) if request.method == "POST" else query
        event = media.parse_nginx_rtmp(fields)
    except media.PayloadError as exc:
        raise ApiError(400, "bad_hook_payload", "回调参数不正确") from exc
    if event.call not in calls:
        raise ApiError(400, "bad_hook_payload", "回调参数不正确", {"call": event.call.value})
    try:
        hooks.handle(event, utcnow(), live_settings())
    except hooks.HookRefused as exc:
        raise _refused(exc.reason) from exc
    except SQLAlchemyError:
        if event.call not in (media.HookCall.UPDATE_PLAY, media.HookCall.UPDATE_PUBLISH):
            raise  # a new publisher or player is refused while the database cannot say yes
        # Running streams are not cut because the database is briefly away: the next update decides.
        db.session.rollback()
        log.exception("media hook %s could not be checked; letting the running stream go on", event.call.value)
        return {"allowed": True, "checked": False}
    return {"allowed": True}


@hooks_bp.route("/on_publish", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_publish() -> Any:
    """nginx-rtmp ``on_publish``: a camera (or relay) starts publishing with its key."""
    return _nginx_hook(media.HookCall.PUBLISH)


@hooks_bp.route("/on_publish_done", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_publish_done() -> Any:
    """nginx-rtmp ``on_publish_done``: the camera stopped publishing."""
    return _nginx_hook(media.HookCall.PUBLISH_DONE)


@hooks_bp.route("/on_play", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_play() -> Any:
    """nginx-rtmp ``on_play``: a player presents its token; allowed plays open a view session."""
    return _nginx_hook(media.HookCall.PLAY)


@hooks_bp.route("/on_done", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_done() -> Any:
    """nginx-rtmp ``on_done``: a player (or publisher) disconnected; the view session closes."""
    return _nginx_hook(media.HookCall.PLAY_DONE)


@hooks_bp.route("/on_update", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_update() -> Any:
    """nginx-rtmp ``on_update``: periodic; a 403 drops the publisher or player."""
    return _nginx_hook(media.HookCall.UPDATE_PLAY, media.HookCall.UPDATE_PUBLISH)


@hooks_bp.route("/on_record_done", methods=["GET", "POST"])
@rule(Action.SIGNED)
def on_record_done() -> Any:
    """nginx-rtmp ``on_record_done``: a recording file is complete."""
    return _nginx_hook(media.HookCall.RECORD_DONE)


@hooks_bp.get("/hls_auth")
@rule(Action.SIGNED)
def hls_auth() -> Any:
    """nginx ``auth_request`` for every HLS playlist and segment request."""
    _authenticate_media_server()
    uri = request.headers.get("X-Original-URI", "")
    client = request.headers.get("X-Real-IP") or None
    try:
        hooks.authorize_hls(media.parse_hls_uri(uri), client, utcnow(), live_settings())
    except hooks.HookRefused as exc:
        raise _refused(exc.reason) from exc
    return {"allowed": True}


def _zlm_hook(event_name: str) -> Any:
    _authenticate_media_server()
    try:
        event = media.parse_zlmediakit(event_name, request.get_json(silent=True))
    except media.PayloadError:
        return media.zlmediakit_answer(False, "bad payload"), 400
    if event is not None:
        try:
            hooks.handle(event, utcnow(), live_settings())
        except hooks.HookRefused as exc:
            return media.zlmediakit_answer(False, exc.reason), 403
    answer = media.zlmediakit_answer(True)
    if event_name == "on_publish":
        answer.update({"enable_hls": True, "enable_mp4": True, "enable_audio": False})
    return answer


@hooks_bp.post("/zlm/on_publish")
@rule(Action.SIGNED)
def zlm_on_publish() -> Any:
    """ZLMediaKit ``on_publish``."""
    return _zlm_hook("on_publish")


@hooks_bp.post("/zlm/on_play")
@rule(Action.SIGNED)
def zlm_on_play() -> Any:
    """ZLMediaKit ``on_play`` (RTMP, RTSP, HTTP-FLV and HLS players alike)."""
    return _zlm_hook("on_play")


@hooks_bp.post("/zlm/on_stream_changed")
@rule(Action.SIGNED)
def zlm_on_stream_changed() -> Any:
    """ZLMediaKit ``on_stream_changed`` (a stream registered or went away)."""
    return _zlm_hook("on_stream_changed")


@hooks_bp.post("/zlm/on_flow_report")
@rule(Action.SIGNED)
def zlm_on_flow_report() -> Any:
    """ZLMediaKit ``on_flow_report`` (a player or pusher disconnected)."""
    return _zlm_hook("on_flow_report")


@hooks_bp.post("/zlm/on_record_mp4")
@rule(Action.SIGNED)
def zlm_on_record_mp4() -> Any:
    """ZLMediaKit ``on_record_mp4`` (a recorded MP4 file is complete)."""
    return _zlm_hook("on_record_mp4")


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
