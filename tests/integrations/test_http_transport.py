"""The urllib3 transport under wechatpy: what it sends, how it fails, and where a proxy setting goes."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import urllib3

from backend.integrations.http_transport import LeanSession
from tests.support.net import SilentServer


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path,
                           "body": self.rfile.read(length).decode() if length else None}).encode()
        status = 502 if self.path.startswith("/bad") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_query_and_body_go_out_as_wechatpy_gives_them_and_none_values_are_left_out(echo):
    session = LeanSession(echo)
    response = session.request("post", f"{echo}cgi-bin/message/subscribe/send",
                               params={"access_token": "T0K", "skipped": None}, data="{\"touser\":\"o1\"}", timeout=5)
    assert isinstance(response, requests.Response) and response.status_code == 200
    assert response.json() == {"method": "POST", "path": "/cgi-bin/message/subscribe/send?access_token=T0K",
                               "body": "{\"touser\":\"o1\"}"}
    assert session.get(f"{echo}sns/jscode2session?x=1", params={"y": "2"}, timeout=5).json()["path"] == \
        "/sns/jscode2session?x=1&y=2"


def test_an_http_error_status_is_raised_by_raise_for_status_as_requests_does(echo):
    response = LeanSession(echo).get(f"{echo}bad", timeout=5)
    assert response.status_code == 502
    with pytest.raises(requests.HTTPError):
        response.raise_for_status()


def test_a_server_that_never_answers_is_a_requests_timeout():
    with SilentServer() as silent:
        base = f"http://127.0.0.1:{silent.port}/"
        with pytest.raises(requests.Timeout):
            LeanSession(base).get(f"{base}cgi-bin/token", timeout=0.3)


def test_nobody_listening_is_a_requests_connection_error(echo):
    with SilentServer() as silent:
        port = silent.port
    with pytest.raises(requests.ConnectionError):
        LeanSession(f"http://127.0.0.1:{port}/").get(f"http://127.0.0.1:{port}/", timeout=2)


def test_a_proxy_from_the_environment_is_used(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = LeanSession("https://api.weixin.qq.com/")
    assert isinstance(session._pool, urllib3.ProxyManager)
    assert session._pool.proxy.host == "proxy.example"
    assert not isinstance(LeanSession("http://127.0.0.1:1/")._pool, urllib3.ProxyManager)
