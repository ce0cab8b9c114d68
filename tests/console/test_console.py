"""The web console: served by the API at /console/ from its build, with types that match /openapi.json."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.config import PROJECT_ROOT
from backend.console_routes import CONSOLE_DIST

CONSOLE = PROJECT_ROOT / "console"


@pytest.fixture(scope="session")
def console_build() -> Path:
    """The console built once per session through the Makefile's stamp target (a no-op when up to date)."""
    if shutil.which("npm") is None or shutil.which("make") is None:
        pytest.skip("npm (Node.js) is not installed: the console cannot be built")
    subprocess.run(["make", "-s", "console/dist/.built"], cwd=PROJECT_ROOT, check=True)
    return CONSOLE_DIST


@pytest.fixture()
def web(tmp_path: Path) -> Iterator[Any]:
    """A test client of the API (the console routes touch no database)."""
    from backend import create_app

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    yield app.test_client()


def test_console_serves_index_and_hashed_assets(console_build: Path, web: Any) -> None:
    index = web.get("/console/")
    assert index.status_code == 200
    assert index.mimetype == "text/html"
    assert index.headers["Cache-Control"] == "no-cache"
    html = index.get_data(as_text=True)
    assert '<div id="app">' in html
    script = next(part.split('"')[0] for part in html.split('src="')[1:] if part.startswith("/console/assets/"))
    asset = web.get(script)
    assert asset.status_code == 200
    assert asset.get_data() == (console_build / script.removeprefix("/console/")).read_bytes()
    assert "immutable" in asset.headers["Cache-Control"] and "max-age=31536000" in asset.headers["Cache-Control"]
    for page in ("/console/overview", "/console/violations/12", "/console/supervision/orders/3"):
        routed = web.get(page)  # history-mode pages of the app's router: index.html
        assert routed.status_code == 200 and routed.get_data(as_text=True) == html
    missing = web.get("/console/assets/no-such-file.js")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_console_needs_no_cdn(console_build: Path) -> None:
    html = (console_build / "index.html").read_text(encoding="utf-8")
    built = html + "".join(p.read_text(encoding="utf-8") for p in (console_build / "assets").glob("*.css"))
    assert "//cdn" not in built and "https://" not in html


def test_console_openapi_document_and_types_are_current(console_build: Path, tmp_path: Path) -> None:
    from scripts.dump_openapi import openapi_document

    committed = json.loads((CONSOLE / "src/api/openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), "the API changed: run `make console-types` and commit the result"
    regenerated = tmp_path / "schema.d.ts"
    subprocess.run(["npx", "openapi-typescript", "src/api/openapi.json", "-o", str(regenerated)], cwd=CONSOLE,
                   check=True, capture_output=True)
    assert regenerated.read_text(encoding="utf-8") == (CONSOLE / "src/api/schema.d.ts").read_text(encoding="utf-8"), \
        "console/src/api/schema.d.ts is stale: run `make console-types` and commit the result"


def test_make_skips_the_console_build_when_nothing_changed(console_build: Path) -> None:
    """`make demo` builds the console only when a source, the lock file or a config changed (the stamp
    console/dist/.built): asked without building (`make -q`), make says it is up to date, and not once a source,
    the lock file or the Vite config is taken as changed (`-W`, nothing touched)."""
    target = "console/dist/.built"
    assert subprocess.run(["make", "-q", target], cwd=PROJECT_ROOT).returncode == 0
    for changed in ("console/src/main.ts", "console/package-lock.json", "console/vite.config.ts"):
        assert subprocess.run(["make", "-q", "-W", changed, target], cwd=PROJECT_ROOT).returncode == 1, changed
