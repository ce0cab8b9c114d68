"""The API documentation page (``/docs``) without the internet.

APIFlask's Swagger UI page loads its script, style sheet and icon from a CDN by default: offline, and often
from mainland China, the page stays blank. The files come instead from the ``swagger-ui-bundle-v2`` package
(Swagger UI 5's dist folder in a PyPI wheel, module ``swagger_ui_bundle``; version 5 reads the OpenAPI 3.1
that APIFlask writes) and this blueprint serves them at ``/docs/assets/``. The settings below point the page
at them and switch off the online spec validator badge (a request to swagger.io on every load).
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle
from flask import Blueprint, send_from_directory

from backend.errors import not_found
from backend.permissions import Action, rule

ASSETS_PATH = "/docs/assets"  # the route below spells it out, so a search for the URL finds it
# Served files: exactly what the page loads (the bundle's folder also holds source maps and an index page).
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"})
# Read by APIFlask when it renders /docs.
DOCS_SETTINGS: dict[str, Any] = {
    "SWAGGER_UI_CSS": f"{ASSETS_PATH}/swagger-ui.css",
    "SWAGGER_UI_BUNDLE_JS": f"{ASSETS_PATH}/swagger-ui-bundle.js",
    "SWAGGER_UI_STANDALONE_PRESET_JS": f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
    "DOCS_FAVICON": f"{ASSETS_PATH}/favicon-32x32.png",
    "SWAGGER_UI_CONFIG": {"validatorUrl": None},
}

# A plain Flask blueprint: the files are not API operations, so they stay out of the OpenAPI document.
bp = Blueprint("api_docs", __name__)


@bp.get("/docs/assets/<asset>")
@rule(Action.PUBLIC)
def asset(asset: str) -> Any:
    """One Swagger UI file from the installed ``swagger-ui-bundle-v2`` package."""
    if asset not in ASSETS:
        raise not_found("文件")
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, asset, max_age=86400)
