"""scripts/run_demo.py's choice of the media server's ports: the api and nginx must agree on them."""

from __future__ import annotations

import dataclasses
import importlib.util
import socket
from pathlib import Path

from backend.live.media_stack import port_is_free

ROOT = Path(__file__).resolve().parents[2]


def _run_demo():
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "scripts" / "run_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_configured_media_ports_are_kept():
    env = {"MEDIA_RTMP_BASE": "rtmp://192.0.2.7:19350/live", "MEDIA_HLS_BASE": "http://192.0.2.7:18080/hls"}
    assert _run_demo().choose_media_ports(env) == (19350, 18080)
    assert env == {"MEDIA_RTMP_BASE": "rtmp://192.0.2.7:19350/live", "MEDIA_HLS_BASE": "http://192.0.2.7:18080/hls"}


def test_a_taken_default_port_is_replaced_by_a_free_one_the_api_is_told_about(monkeypatch):
    from backend import config

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # The settings' defaults, with the RTMP one pointing at a port something already listens on.
        monkeypatch.setattr(config, "SETTINGS", [
            dataclasses.replace(s, default=f"rtmp://127.0.0.1:{port}/live") if s.name == "MEDIA_RTMP_BASE" else s
            for s in config.SETTINGS])
        env: dict[str, str] = {}
        rtmp, http = _run_demo().choose_media_ports(env)
    assert rtmp != port and env["MEDIA_RTMP_BASE"] == f"rtmp://127.0.0.1:{rtmp}/live"
    assert env["MEDIA_HLS_BASE"] == f"http://127.0.0.1:{http}/hls"
    assert http == 8080 or not port_is_free(8080)


def test_the_demo_api_listens_for_the_hooks_where_the_media_server_sends_them():
    """The api's workers get MEDIA_HOOK_LISTEN from the environment; the media stack gets the same address."""
    env: dict[str, str] = {}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        api_port = taken.getsockname()[1] - 1
        base = _run_demo().choose_hook_listen(env, api_port)  # the api's port + 1 is taken: a free one instead
    port = int(env["MEDIA_HOOK_LISTEN"].rpartition(":")[2])
    assert env["MEDIA_HOOK_LISTEN"].startswith("127.0.0.1:") and port != api_port + 1
    assert base == f"http://127.0.0.1:{port}"
    kept = {"MEDIA_HOOK_LISTEN": "0.0.0.0:18001"}
    assert _run_demo().choose_hook_listen(kept, 5000) == "http://127.0.0.1:18001"
    assert kept == {"MEDIA_HOOK_LISTEN": "0.0.0.0:18001"}
