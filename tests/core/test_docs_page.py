"""/docs renders in a real browser with nothing loaded from outside the app (no CDN: offline, and in
mainland China, the page must still work).

The app is served by a real WSGI server (werkzeug's) on loopback; Debian's Chromium, driven by Playwright,
opens /docs; every request the page makes is recorded.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    """The app on a loopback port, in a thread; yields its origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="docs-wsgi", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_docs_render_from_the_app_alone(served):
    assert shutil.which(CHROMIUM), "Debian's chromium is missing: scripts/system_packages.sh test installs it"
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{served}/docs", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=30_000)
            operations = page.locator(".opblock").count()
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in requested
               if not url.startswith(("data:", "blob:"))}
    assert origins == {served}, requested
    assert f"{served}/docs/assets/swagger-ui-bundle.js" in requested
    assert f"{served}/openapi.json" in requested
    assert operations > 50
    assert "明厨亮灶 API" in title


def test_docs_assets_come_from_the_app(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "cdn." not in page and "https://" not in page.split("<script>")[0]
    style = client.get("/docs/assets/swagger-ui.css")
    assert style.status_code == 200 and style.mimetype == "text/css" and b".swagger-ui" in style.data
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/swagger-ui.js.map").json["error"]["code"] == "not_found"


def test_openapi_documents_the_idempotency_key_of_uploads_and_creates(client):
    spec = client.get("/openapi.json").json
    for path in ("/api/v1/uploads", "/api/v1/canteens/{canteen_id}/samples",
                 "/api/v1/records/{record_id}/amendments"):
        headers = [p for p in spec["paths"][path]["post"]["parameters"] if p["in"] == "header"]
        assert [(p["name"], p["required"]) for p in headers] == [("Idempotency-Key", True)], path
        assert "重试只会创建一次" in headers[0]["description"]
