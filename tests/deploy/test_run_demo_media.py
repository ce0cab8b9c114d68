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
