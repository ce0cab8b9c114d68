"""The fake WeChat server run as a separate process and driven through FakeWeChatControl."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.fakes.wechat_server import FakeWeChatControl, derived_openid, make_wechatpy_client

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"^LISTENING (http://127\.0\.0\.1:(\d+)/)$")


def start_fake_process(appid: str, secret: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m tests.fakes.wechat_server`` and return it with the URL it printed."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.wechat_server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--appid",
            appid,
            "--secret",
            secret,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=20):
            process.kill()
            raise AssertionError("the fake printed nothing within 20 s")
    line = process.stdout.readline().rstrip("\n")
    match = LISTENING.match(line)
    if match is None:
        process.kill()
        raise AssertionError(
            f"unexpected first line {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        )
    return process, match.group(1)


@pytest.fixture
def fake_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process, url = start_fake_process("wx_proc_appid", "proc_secret")
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def test_process_prints_listening_and_is_driven_over_http(
    fake_process: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = fake_process
    control = FakeWeChatControl(url)
    assert control.health() == {"appid": "wx_proc_appid", "base_url": url}

    control.register_code("proc_code", openid="oPROC_USER_000000000000000001")
    control.set_templates({"TPL_proc_000001": {"thing1": "thing"}})
    control.inject("subscribe_send", 45011, times=1)

    client = make_wechatpy_client(url, "wx_proc_appid", "proc_secret", timeout=2)
    assert client.wxa.code_to_session("proc_code")["openid"] == "oPROC_USER_000000000000000001"
    from wechatpy.exceptions import WeChatClientException

    with pytest.raises(WeChatClientException) as caught:
        client.wxa.send_subscribe_message(
            "oPROC_USER_000000000000000001", "TPL_proc_000001", {"thing1": {"value": "开餐"}}
        )
    assert caught.value.errcode == 45011
    result = client.wxa.send_subscribe_message(
        "oPROC_USER_000000000000000001", "TPL_proc_000001", {"thing1": {"value": "开餐"}}
    )
    assert result["errcode"] == 0

    assert control.token_fetch_count() == 1
    assert [c["errcode"] for c in control.calls("subscribe_send")] == [45011, 0]
    [message] = control.messages()
    assert message["data"] == {"thing1": {"value": "开餐"}}

    # Plain requests reach the same process and state.
    login = requests.get(
        url + "sns/jscode2session",
        params={
            "appid": "wx_proc_appid",
            "secret": "proc_secret",
            "js_code": "dev_code",
            "grant_type": "authorization_code",
        },
        timeout=5,
    ).json()
    assert login["openid"] == derived_openid("dev_code")

    control.reset()
    assert control.calls() == []
    control.close()

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "__fake__/health", timeout=2)


def test_process_state_survives_a_client_process_being_killed(
    fake_process: tuple[subprocess.Popen[str], str],
) -> None:
    # A client that dies mid-call (a killed dispatcher) leaves the fake serving, with the call recorded.
    _, url = fake_process
    control = FakeWeChatControl(url)
    control.register_openid("oKILLED_CLIENT_0000000000001")
    control.set_templates({"TPL_kill_000001": {"thing1": "thing"}})
    control.inject_delay("subscribe_send", 5.0, times=1)
    script = (
        "import sys\n"
        "from tests.fakes.wechat_server import make_wechatpy_client\n"
        "c = make_wechatpy_client(sys.argv[1], 'wx_proc_appid', 'proc_secret', timeout=30)\n"
        "c.fetch_access_token()\n"
        "print('READY', flush=True)\n"
        "c.wxa.send_subscribe_message(\n"
        "    'oKILLED_CLIENT_0000000000001', 'TPL_kill_000001', {'thing1': {'value': 'x'}}\n"
        ")\n"
    )
    client_process = subprocess.Popen(
        [sys.executable, "-c", script, url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client_process.stdout is not None
        assert client_process.stdout.readline().strip() == "READY"
        deadline = time.monotonic() + 10
        while control.call_count("subscribe_send") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        client_process.kill()
        client_process.wait(timeout=10)
    finally:
        if client_process.poll() is None:
            client_process.kill()
        for stream in (client_process.stdout, client_process.stderr):
            if stream is not None:
                stream.close()
    [call] = control.calls("subscribe_send")
    assert call["answered"] is False
    assert call["json"]["touser"] == "oKILLED_CLIENT_0000000000001"
    assert control.health()["appid"] == "wx_proc_appid"
    control.close()
