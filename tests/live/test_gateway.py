"""The media-hook gateway in front of Flask: what it answers itself, and what it leaves to the API."""

from __future__ import annotations

import io
import logging

import pytest

from backend.integrations import media
from backend.live import gateway
from tests.live.conftest import HOOK_SECRET


def test_hooks_skip_the_api_request_machinery_and_everything_else_goes_through_it(app, client, demo):
    """The API's before-request work (the rate limiter among it) runs for API paths, never for a hook."""
    seen: list[str] = []
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append("api"))
    response = client.post(f"/internal/media/on_done?secret={HOOK_SECRET}",
                           data={"call": "done", "app": "live", "name": "cam-1", "clientid": "5"})
    assert (response.status_code, response.json, seen) == (200, {"allowed": True}, [])
    assert client.get("/healthz").status_code == 200
    assert seen == ["api"]


def test_a_hook_called_with_another_method_is_405_in_the_api_error_shape(client, demo):
    response = client.post(f"/internal/media/hls_auth?secret={HOOK_SECRET}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.json == {"error": {"code": "method_not_allowed", "message": "不支持该请求方法", "details": {}}}
    assert client.get(f"/internal/media/zlm/on_play?secret={HOOK_SECRET}").status_code == 405


def test_an_unknown_hook_path_is_the_api_404(client, demo):
    response = client.post(f"/internal/media/on_connect?secret={HOOK_SECRET}", data={"call": "connect"})
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")


def test_an_oversized_hook_body_is_refused_before_it_is_read(client, demo):
    response = client.post(f"/internal/media/on_play?secret={HOOK_SECRET}",
                           data={"call": "play", "name": "cam-1", "pad": "x" * media.MAX_HOOK_BODY})
    assert (response.status_code, response.json["error"]["code"]) == (413, "payload_too_large")


def _environ(body: bytes, **extra: object) -> dict[str, object]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/internal/media/on_done", "QUERY_STRING": "",
            "wsgi.input": io.BytesIO(body), **extra}


def test_a_body_without_a_length_is_read_only_when_the_server_marks_its_end():
    """gunicorn sets wsgi.input_terminated for chunked bodies; without it WSGI allows no read past the length."""
    assert gateway.HookRequest(_environ(b"call=done", **{"wsgi.input_terminated": True})).body() == b"call=done"
    assert gateway.HookRequest(_environ(b"call=done")).body() == b""
    assert gateway.HookRequest(_environ(b"call=done&x=1", CONTENT_LENGTH="9")).body() == b"call=done"
    oversized = gateway.HookRequest(_environ(b"x" * (media.MAX_HOOK_BODY + 1), **{"wsgi.input_terminated": True}))
    with pytest.raises(gateway.ApiError) as refused:
        oversized.body()
    assert refused.value.status_code == 413


def test_query_values_are_utf8_whether_escaped_or_raw():
    """WSGI passes the raw query as latin-1 text; the hook reads the UTF-8 it stands for."""
    raw = "secret=密钥&name=cam-1".encode().decode("latin-1")
    assert gateway.HookRequest(_environ(b"", QUERY_STRING=raw)).query == {"secret": "密钥", "name": "cam-1"}
    escaped = "secret=%E5%AF%86%E9%92%A5&name=cam-1"
    assert gateway.HookRequest(_environ(b"", QUERY_STRING=escaped)).query["secret"] == "密钥"


def test_an_unexpected_error_is_logged_whole_and_answered_without_it(client, demo, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(gateway.hooks, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="backend.live.gateway"):
        response = client.post(f"/internal/media/on_done?secret={HOOK_SECRET}",
                               data={"call": "done", "app": "live", "name": "cam-1", "clientid": "5"})
    assert response.status_code == 500
    assert response.json["error"] == {"code": "internal_error", "message": "服务器内部错误，请稍后再试", "details": {}}
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


def test_head_is_get_without_a_body(client, demo):
    """nginx's auth_request copies the player's method, and some players ask with HEAD first."""
    response = client.head("/internal/media/hls_auth?secret=wrong")
    assert (response.status_code, response.get_data()) == (403, b"")
    assert int(response.headers["Content-Length"]) > 0
    refused = client.head(f"/internal/media/zlm/on_play?secret={HOOK_SECRET}")
    assert (refused.status_code, refused.headers["Allow"], refused.get_data()) == (405, "POST", b"")
