"""The media server's image, template and compose service agree, and nginx accepts the rendered template."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

from backend.integrations.media import render_media_config
from backend.live.hooks import POLICY_RECHECK_SECONDS
from backend.live.mediaconf import DEFAULT_TEMPLATE, default_variables
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "media" / "Dockerfile"


def _placeholders() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", DEFAULT_TEMPLATE.read_text()))


def _dockerfile_cmd() -> str:
    return json.loads(DOCKERFILE.read_text().split("\nCMD ", 1)[1])[2]


def test_the_image_substitutes_exactly_the_templates_placeholders():
    listed = re.search(r"envsubst '([^']*)'", _dockerfile_cmd()).group(1)
    assert {name.lstrip("$") for name in listed.split()} == _placeholders()


def test_every_placeholder_has_a_value_in_the_image_or_the_compose_service():
    env_block = re.search(r"^ENV (.*?)(?=^\S)", DOCKERFILE.read_text(), flags=re.M | re.S).group(1)
    image = set(re.findall(r"([A-Z_]+)=", env_block))
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]["media"]["environment"]
    assert _placeholders() <= image | set(compose)


def test_the_image_command_renders_a_config_nginx_accepts(tmp_path):
    """Run the Dockerfile's own command line (envsubst, then nginx) with nginx switched to a config test."""
    command = _dockerfile_cmd().replace("/var/lib/media", str(tmp_path / "media")).replace(
        "/etc/nginx/media.conf.template", str(DEFAULT_TEMPLATE)).replace("-g 'daemon off;'", "-t")
    command = command.replace("exec nginx", "nginx")
    env = {"PATH": "/usr/sbin:/usr/bin:/bin", "MEDIA_USER": subprocess.check_output(["id", "-un"], text=True).strip(),
           "RTMP_LISTEN": f"127.0.0.1:{free_port()}", "HTTP_LISTEN": f"127.0.0.1:{free_port()}",
           "API_HOOK_BASE": "http://127.0.0.1:8000",
           "MEDIA_HOOK_SECRET": "s" * 32, "HLS_DIR": str(tmp_path / "hls"), "RECORD_DIR": str(tmp_path / "rec"),
           "RECORD_INTERVAL": "5m"}
    result = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    rendered = (tmp_path / "media" / "nginx.conf").read_text()
    assert "${" not in rendered
    assert "on_play http://127.0.0.1:8000/internal/media/on_play?secret=" + "s" * 32 + ";" in rendered
    assert "alias " + str(tmp_path / "hls") + "/$hls_file;" in rendered
    # nginx re-asks about every player as often as the api's revocation bound needs (backend/live/hooks.py).
    assert f"notify_update_timeout {POLICY_RECHECK_SECONDS}s;" in rendered
    assert 'proxy_cache_key "$hls_token $hls_stream $remote_addr";' in rendered


def test_the_cli_renders_the_same_template(app):
    variables = default_variables(app.config)
    rendered = render_media_config(DEFAULT_TEMPLATE.read_text(), variables)
    assert f"record_path {variables['RECORD_DIR']};" in rendered
    assert variables["MEDIA_HOOK_SECRET"] == app.config["MEDIA_HOOK_SECRET"]
    result = app.test_cli_runner().invoke(args=["live", "media-config", "--set", "RTMP_LISTEN=127.0.0.1:19350"])
    assert result.exit_code == 0, result.output
    assert "listen 127.0.0.1:19350;" in result.output


def test_the_media_service_starts_after_the_api_its_hooks_name():
    media = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]["media"]
    assert media["depends_on"]["api"]["condition"] in ("service_started", "service_healthy")
    assert media["environment"]["RECORD_DIR"] in " ".join(media["volumes"])
