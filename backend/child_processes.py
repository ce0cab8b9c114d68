"""External tools the api and the workers start (ffmpeg, ffprobe, espeak-ng, sox, nginx, the relay), bound to
the process that starts them.

A SIGKILL of a gunicorn worker, a job worker, the demo runner or the relay runs no cleanup of ours, and their
children would live on as orphans: an ffmpeg cutting a clip or remuxing a recording for minutes, a relay's
ffmpeg still publishing, nginx holding its ports. The kernel's parent-death signal (util-linux's ``setpriv``,
which then execs the command, so its command line stays the command's own) stops them anyway.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


def bound_to_parent(command: Sequence[str | Path], signal_name: str = "TERM") -> list[str]:
    """``command`` made to receive ``signal_name`` when the process (thread) that started it dies, however it dies.

    Where ``setpriv`` is missing (not Linux) the command is returned unchanged.
    """
    setpriv = shutil.which("setpriv")
    parts = [str(part) for part in command]
    return [setpriv, "--pdeathsig", signal_name, "--", *parts] if setpriv else parts


def run_tool(command: Sequence[str | Path], *, timeout: float, input: bytes | str | None = None,
             text: bool = True) -> subprocess.CompletedProcess:
    """Run a tool to its end with its output captured, killed if its starter dies first; never raises for the
    tool's exit status (the caller reads ``returncode`` and ``stderr``), raises ``TimeoutExpired`` past
    ``timeout`` seconds and ``OSError`` when the tool is missing."""
    return subprocess.run(bound_to_parent(command, "KILL"), input=input, capture_output=True, text=text,
                          timeout=timeout, check=False)
