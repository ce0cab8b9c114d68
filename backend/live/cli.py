"""CLI commands of the live feature, under ``flask live``: recordings, idle sessions, the relay, media config."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from backend.integrations import media
from backend.live import recordings
from backend.live.sessions import close_idle
from backend.live.settings import live_settings
from backend.timeutil import utcnow

commands = AppGroup("live-commands", help="The live feature's commands.")
live = AppGroup("live", help="Live view: recordings, idle sessions, the relay and the media server's configuration.")
commands.add_command(live)


@live.command("ingest-recordings")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def ingest_recordings_command(limit: int) -> None:
    """Copy finished recording files into the object store (scheduled job)."""
    report = recordings.ingest_pending(utcnow(), limit)
    click.echo(f"stored {report.stored}, empty {report.empty}, failed {report.failed}, retry {report.retried}")


@live.command("purge-recordings")
def purge_recordings_command() -> None:
    """Remove recordings older than LIVE_RECORDING_RETENTION_DAYS (scheduled job)."""
    click.echo(f"removed {recordings.purge_expired(utcnow())} segments")


@live.command("close-idle-sessions")
def close_idle_command() -> None:
    """Mark view sessions closed whose media server stopped reporting (scheduled job)."""
    click.echo(f"closed {close_idle(utcnow(), live_settings().idle_seconds)} sessions")


@live.command("relay")
@click.argument("camera_ids", metavar="CAMERA_ID...", nargs=-1, type=int, required=True)
@click.option("--transcode/--copy", default=None,
              help="re-encode to H.264, or copy the source as it is (default: copy; a file source is encoded once "
                   "to H.264 into the instance's media cache and relayed from there)")
def relay_command(camera_ids: tuple[int, ...], transcode: bool | None) -> None:
    """Pull cameras' streams and publish them to the media server until stopped (one ffmpeg per camera)."""
    from backend.live.relay import run_relays, stop_on_sigterm

    stop_on_sigterm()
    raise SystemExit(run_relays(current_app._get_current_object(), camera_ids, transcode=transcode))


@live.command("media-config")
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


@live.command("media-stack")
@click.option("--rtmp-port", type=click.IntRange(1024, 65535), required=True)
@click.option("--http-port", type=click.IntRange(1024, 65535), required=True)
@click.option("--api-base", required=True, help="where nginx sends its hooks, e.g. http://127.0.0.1:5000")
def media_stack_command(rtmp_port: int, http_port: int, api_base: str) -> None:
    """Run the media server and the relay of the file cameras (backend/live/media_stack.py) until stopped; the
    console's end-to-end server runs it next to its api."""
    import signal
    import time

    from backend.live.media_stack import MediaStack

    def stop(*_: object) -> None:
        raise SystemExit(0)  # the finally below stops the relay and nginx by their pids

    signal.signal(signal.SIGTERM, stop)
    stack = MediaStack(api_base=api_base, rtmp_port=rtmp_port, http_port=http_port).start()
    click.echo(f"media stack: rtmp {rtmp_port}, http {http_port}, {len(stack.camera_ids)} cameras relayed")
    try:
        while stack.check():
            time.sleep(0.5)
    finally:
        stack.stop()
    raise SystemExit(1)  # nginx exited
