"""The live feature's scheduled jobs, each a plain function of the current time for the scheduler to call.

* :func:`ingest_recordings` — every minute: copy finished recording files into the object store;
* :func:`purge_recordings` — hourly (or daily): remove recordings older than LIVE_RECORDING_RETENTION_DAYS;
* :func:`purge_clips` — hourly: remove download clips older than LIVE_CLIP_RETENTION_DAYS;
* :func:`close_idle_sessions` — every minute: mark view sessions closed whose media server went silent.

Each needs an app context (the workers run jobs inside one) and is safe to run twice or concurrently.
"""

from __future__ import annotations

from datetime import datetime

from backend.live import clips, recordings, sessions, talk
from backend.live.settings import live_settings


def ingest_recordings(now: datetime) -> recordings.IngestReport:
    """Store pending recording segments (a bounded batch per run)."""
    return recordings.ingest_pending(now, limit=20)


def purge_recordings(now: datetime) -> int:
    """Apply the recording retention to recordings and to the kept clips of talks; the number removed."""
    return recordings.purge_expired(now) + talk.purge_expired(now)


def purge_clips(now: datetime) -> int:
    """Apply the clip retention to the MP4 clips cut for download; the number removed."""
    return clips.purge_expired(now)


def close_idle_sessions(now: datetime) -> int:
    """Close view sessions without a sign of life for LIVE_SESSION_IDLE_SECONDS; the number closed."""
    return sessions.close_idle(now, live_settings().idle_seconds)
