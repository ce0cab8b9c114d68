"""External tools are bound to the process that starts them (backend/child_processes.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.child_processes import bound_to_parent, run_tool

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_tool_dies_with_the_process_that_started_it() -> None:
    # A job worker killed with SIGKILL while ffmpeg remuxes: here a Python process running a long tool.
    script = "from backend.child_processes import run_tool; run_tool(['sleep', '300'], timeout=600)"
    starter = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 30
        while not (tools := _children(starter.pid)):
            assert time.monotonic() < deadline, "the tool never started"
            time.sleep(0.05)
        tool = tools[0]
        # The tool starts as setpriv (--pdeathsig), which then becomes it: wait for that exec, not just the fork.
        while Path(f"/proc/{tool}/cmdline").read_bytes().split(b"\0")[:2] != [b"sleep", b"300"]:
            assert time.monotonic() < deadline, "the tool never became `sleep 300`"
            time.sleep(0.02)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(tool):
            assert time.monotonic() < deadline, "the tool outlived the process that started it"
            time.sleep(0.05)
    finally:
        if starter.poll() is None:
            starter.kill()


def test_run_tool_returns_the_exit_status_and_output() -> None:
    result = run_tool([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
                      timeout=30)
    assert (result.returncode, result.stdout.strip(), result.stderr.strip()) == (3, "out", "err")
    assert run_tool(["cat"], input=b"\x00\xff", timeout=30, text=False).stdout == b"\x00\xff"
    with pytest.raises(subprocess.TimeoutExpired):
        run_tool(["sleep", "5"], timeout=0.2)


def test_the_bound_command_keeps_the_tool_s_own_arguments() -> None:
    command = bound_to_parent(["ffmpeg", "-i", Path("/tmp/a b.mp4")], "KILL")
    assert command[-3:] == ["ffmpeg", "-i", "/tmp/a b.mp4"]
    assert command[:3] == [command[0], "--pdeathsig", "KILL"] and command[0].endswith("setpriv")
