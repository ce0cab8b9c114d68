"""The live feature's settings, read once per app from its config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from backend.integrations.media import derive_key


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class LiveSettings:
    """Everything the live services need from the configuration."""

    token_key: bytes
    hook_secret: str
    trust_loopback: bool
    server_kind: str
    rtmp_base: str
    hls_base: str
    publish_base: str
    token_ttl: int
    idle_seconds: int
    max_per_camera: int
    max_per_school: int
    record_dir: Path
    media_cache_dir: Path
    retention_days: int
    clip_retention_days: int
    snapshot_timeout: float

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LiveSettings:
        """Build the settings; a value out of range stops the app instead of misbehaving later."""
        settings = cls(
            token_key=derive_key(config["SECRET_KEY"]),
            hook_secret=config.get("MEDIA_HOOK_SECRET") or "",
            trust_loopback=_flag(config.get("MEDIA_HOOK_TRUST_LOOPBACK", "false")),
            server_kind=config.get("MEDIA_SERVER_KIND") or "nginx-rtmp",
            rtmp_base=config["MEDIA_RTMP_BASE"],
            hls_base=config["MEDIA_HLS_BASE"],
            publish_base=config.get("MEDIA_RTMP_PUBLISH_BASE") or config["MEDIA_RTMP_BASE"],
            token_ttl=int(config.get("LIVE_TOKEN_TTL_SECONDS") or 60),
            idle_seconds=int(config.get("LIVE_SESSION_IDLE_SECONDS") or 60),
            max_per_camera=int(config.get("LIVE_MAX_VIEWERS_PER_CAMERA") or 50),
            max_per_school=int(config.get("LIVE_MAX_VIEWERS_PER_SCHOOL") or 200),
            record_dir=Path(config.get("LIVE_RECORD_DIR") or Path(config["INSTANCE_PATH"]) / "recordings"),
            # Derived files of the media stack (the demo video's H.264 rendition): instance-local, rebuilt at will.
            media_cache_dir=Path(config["INSTANCE_PATH"]) / "media-cache",
            retention_days=int(config.get("LIVE_RECORDING_RETENTION_DAYS") or 15),
            # Clips are copies made for download: a week is long enough to fetch one again, and none outlives
            # the recordings' retention by much (a clip of the oldest recording is itself at most this old).
            clip_retention_days=int(config.get("LIVE_CLIP_RETENTION_DAYS") or 7),
            snapshot_timeout=float(config.get("LIVE_SNAPSHOT_TIMEOUT_SECONDS") or 10),
        )
        if settings.server_kind not in ("nginx-rtmp", "zlmediakit"):
            raise ValueError("MEDIA_SERVER_KIND must be nginx-rtmp or zlmediakit")
        if not (5 <= settings.token_ttl <= 3600 and 10 <= settings.idle_seconds <= 3600):
            raise ValueError("LIVE_TOKEN_TTL_SECONDS must be 5..3600 and LIVE_SESSION_IDLE_SECONDS 10..3600")
        if (settings.max_per_camera < 1 or settings.max_per_school < 1 or settings.retention_days < 1
                or settings.clip_retention_days < 1):
            raise ValueError("live viewer caps, recording and clip retention must be at least 1")
        return settings


def live_settings() -> LiveSettings:
    """The current app's live settings (built on first use)."""
    settings = current_app.extensions.get("live_settings")
    if settings is None:
        settings = LiveSettings.from_config(current_app.config)
        current_app.extensions["live_settings"] = settings
    return settings
