"""The real video the demo's cameras loop: OpenCV's pedestrian clip ``vtest.avi`` (768x576, 10 fps, 80 s,
a fixed camera over a walkway), shipped by the Debian package ``opencv-doc``.

No PyPI or npm package ships a fixed-camera video of people that the platform can use offline (the
candidates are film clips with a moving camera or cartoons), so the demo depends on this Debian file.
``python -m workers.demo_media --ensure`` (run by ``make demo``) installs the package when it is missing
and the user may use apt-get, and otherwise says exactly what to install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

DEBIAN_PACKAGE = "opencv-doc"
CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
)


class DemoVideoMissing(RuntimeError):
    """The demo video is not installed."""


def find_demo_video() -> Path | None:
    """The installed demo video, or None."""
    return next((path for path in CANDIDATES if path.is_file()), None)


def demo_video() -> Path:
    """Path of the demo video; raises :class:`DemoVideoMissing` with the install command."""
    path = find_demo_video()
    if path is None:
        raise DemoVideoMissing(f"the demo video vtest.avi is missing: install the Debian package "
                               f"'{DEBIAN_PACKAGE}' (sudo apt-get install -y {DEBIAN_PACKAGE})")
    return path


def ensure_demo_video() -> Path:
    """Install ``opencv-doc`` with apt-get when the video is missing and we are root; the video's path."""
    path = find_demo_video()
    if path is not None:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", DEBIAN_PACKAGE],
                       check=False, env=env)
    return demo_video()


def main(argv: list[str] | None = None) -> int:
    """Print the demo video's path (``--ensure``: install it first if needed)."""
    parser = argparse.ArgumentParser(prog="python -m workers.demo_media")
    parser.add_argument("--ensure", action="store_true", help="install opencv-doc when the video is missing")
    args = parser.parse_args(argv)
    try:
        print(ensure_demo_video() if args.ensure else demo_video())
    except DemoVideoMissing as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
