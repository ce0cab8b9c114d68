"""Real media files for the tests, cut from Debian opencv-doc's vtest.avi (768×576 pedestrians) with ffmpeg."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def make_flv(path: Path, seconds: float = 2.0) -> Path:
    """An H.264 FLV like the ones nginx-rtmp records."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(VTEST), "-t", str(seconds),
                    "-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-f", "flv", str(path)],
                   check=True, timeout=60)
    return path


def make_audio_only_flv(path: Path) -> Path:
    """An FLV without video (what a publisher that sent nothing useful leaves behind)."""
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "anullsrc=r=8000:cl=mono", "-t", "0.5", "-c:a", "aac", "-f", "flv", str(path)],
                   check=True, timeout=60)
    return path


def probe(data_or_path: bytes | Path, tmp_dir: Path | None = None) -> dict:
    """ffprobe's view of a file (or bytes written to tmp_dir): codec, size, duration."""
    path = data_or_path
    if isinstance(data_or_path, bytes):
        path = (tmp_dir or Path("/tmp")) / "probe.bin"
        path.write_bytes(data_or_path)
    result = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                             "stream=codec_name,width,height:format=duration,format_name", "-of", "json", str(path)],
                            capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(result.stdout)
    stream = data["streams"][0]
    return {"codec": stream["codec_name"], "width": stream["width"], "height": stream["height"],
            "duration": float(data["format"]["duration"]), "format": data["format"]["format_name"]}
