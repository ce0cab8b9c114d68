"""The web console (console/, a Vue single-page app) served by the API at ``/console/``.

Same origin as the API, so the browser needs no CORS. Vite names every built asset after its content hash,
so assets are cached for a year; ``index.html`` is revalidated on every load so a new build is picked up.
Any other path under ``/console/`` is a page of the app's history-mode router and gets ``index.html``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint
from flask import send_from_directory
from werkzeug.exceptions import NotFound

from backend.config import PROJECT_ROOT
from backend.errors import ApiError
from backend.permissions import Action, rule

CONSOLE_DIST = PROJECT_ROOT / "console" / "dist"
ASSET_MAX_AGE = 365 * 24 * 3600
# What a built file or a page of the app's router can be called: anything else is no page of the console.
CONSOLE_PATH = re.compile(r"[A-Za-z0-9._~/-]*")

bp = APIBlueprint("console", __name__, tag="网页控制台", enable_openapi=False)


def _index(dist: Path) -> Any:
    if not (dist / "index.html").is_file():
        raise ApiError(404, "console_not_built", "网页控制台尚未构建（在 console/ 中运行 npm ci && npm run build）")
    response = send_from_directory(dist, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/console/")
@bp.get("/console/<path:path>")
@rule(Action.PUBLIC)
def console(path: str = "") -> Any:
    """A built file of the console, or its ``index.html`` for a page of the app's router."""
    dist = CONSOLE_DIST
    if not CONSOLE_PATH.fullmatch(path):
        raise ApiError(404, "not_found", "页面不存在")
    if path.startswith("assets/"):
        try:
            response = send_from_directory(dist, path, max_age=ASSET_MAX_AGE)
        except NotFound as exc:
            raise ApiError(404, "not_found", "文件不存在") from exc
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
        return response
    if path and (dist / path).is_file() and path != "index.html":
        return send_from_directory(dist, path, max_age=3600)  # favicon and other unhashed files
    return _index(dist)
