"""Rendering the media server's configuration from the project's template (docker/media)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.config import PROJECT_ROOT

DEFAULT_TEMPLATE = PROJECT_ROOT / "docker" / "media" / "nginx.conf.template"


def default_variables(config: dict[str, Any]) -> dict[str, str]:
    """Template values for a media server next to this api (override any with ``--set NAME=VALUE``); its hooks go
    to the api's media hook listener (MEDIA_HOOK_LISTEN) when there is one, else to the api's port."""
    from backend.live.hook_listener import hook_base

    instance = Path(config["INSTANCE_PATH"])
    return {
        "MEDIA_USER": "www-data",
        "RTMP_LISTEN": "1935",
        "HTTP_LISTEN": "8080",
        "API_HOOK_BASE": hook_base(config) or "http://127.0.0.1:5000",
        "MEDIA_HOOK_SECRET": config.get("MEDIA_HOOK_SECRET") or "",
        "HLS_DIR": str(instance / "hls"),
        "RECORD_DIR": str(config.get("LIVE_RECORD_DIR") or instance / "recordings"),
        "RECORD_INTERVAL": "5m",
    }
