"""How ffmpeg opens a camera's source (relay and snapshots alike) without the source URL or its credentials in
ffmpeg's command line, its environment or any file.

Why: a process's command line is world-readable (``ps``, ``/proc/<pid>/cmdline``), so a URL such as
``rtsp://admin:password@10.0.0.2/...`` given to ``-i`` would be there for every local user, for hours.

How: ffmpeg's concat demuxer reads a one-entry ffconcat script from ffmpeg's standard input (a pipe)::

    ffmpeg … -f concat -safe 0 -auto_convert 0 -protocol_whitelist pipe -i pipe:0 …

    ffconcat version 1.0
    file 'rtsp://admin:password@10.0.0.2/Streaming/Channels/101'
    option rtsp_transport tcp
    option timeout 10000000
    option protocol_whitelist tcp,udp,rtp,rtsp,…

The ``option`` lines are the options of the one inner ``avformat_open_input`` (FFmpeg ≥ 4.4; Debian bookworm
has 5.1), so ``rtsp_transport``, ``timeout``, ``rw_timeout`` and ``protocol_whitelist`` reach the RTSP, RTMP,
HTTP or HLS demuxer and its protocols exactly as on the command line; the concat demuxer then only hands the
packets on, live streams included, and ``-re -stream_loop -1`` still loop a file (concat seeks the inner file).
The URL exists only in the memory of this process and of ffmpeg (readable by the same user or root, as any
process's memory), and in the pipe until ffmpeg has read it; nothing is written to disk, so nothing is left
behind when a process is killed. The tests run real sources that demand credentials and read ``/proc``.

Details that matter:

- ``-safe 0`` lets the script name URLs and carry ``option`` lines (the script is ours, built here);
- ``-auto_convert 0``: the concat demuxer would otherwise insert h264_mp4toannexb for AVCC H.264 (RTMP, FLV);
  without it, packets go on exactly as the camera sent them, as they did with ``-i URL``;
- the outer whitelist is ``pipe`` (to read the script); the inner file gets its own list, so a network camera
  can never name a local file, and a file camera only files;
- a file path is written as ``file:PATH``: a bare path would be resolved against the script's own URL
  (``pipe:0``);
- ffmpeg keeps ``-nostdin``: its keyboard commands must never read the script;
- the concat demuxer quotes the URL in its errors ("Impossible to open '…'"): ffmpeg's messages go through
  :func:`scrub` with :func:`source_secrets` before they are logged.

Tried and not chosen: the same script in a private temporary file (0700 folder, 0600 file, ``-i PATH``) works
too, but puts the credentials on disk until deleted; deleting it as soon as ffmpeg has opened it means watching
``/proc/<pid>/fd``, and a killed server leaves it behind. Feeding ffmpeg through a pipe from a helper process
moves the problem: the only helper here that speaks RTSP and RTMP is ffmpeg, which would need the URL the same
way. ffmpeg 7's ``-/i FILE`` (an option's value read from a file) does not exist in 5.1, and a ``movie=`` source
in a filter script decodes (no stream copy) and takes no demuxer options such as ``rtsp_transport`` in 5.1.
"""

from __future__ import annotations

from urllib.parse import quote

from backend.schools.models import Camera, SourceKind
from backend.source_urls import with_credentials

NETWORK_PROTOCOLS = "tcp,udp,rtp,rtsp,rtmp,rtmps,tls,http,https,hls,crypto,httpproxy"
CONCAT_INPUT = ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-protocol_whitelist", "pipe", "-i", "pipe:0"]


class SourceError(ValueError):
    """The source URL cannot be handed to ffmpeg (a line break or NUL in it); the message names no source."""


def scrub(text: str, secrets_to_hide: list[str | None]) -> str:
    """Remove every secret (and its URL-encoded form) from a message."""
    for secret in sorted({s for s in secrets_to_hide if s}, key=len, reverse=True):
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def source_secrets(camera: Camera) -> list[str | None]:
    """What must never appear in a message about the camera: its source, with and without credentials."""
    return [with_credentials(camera.source_url, camera.source_username, camera.source_password),
            camera.source_url, camera.source_username, camera.source_password]


def _quoted(value: str) -> str:
    """A value as one ffconcat token: single-quoted, a quote inside written as '\\''."""
    if any(c in value for c in "\r\n\0"):
        raise SourceError("the source URL contains a line break")
    return "'" + value.replace("'", "'\\''") + "'"


def _inner_options(kind: str, timeout: float) -> dict[str, str]:
    microseconds = str(int(timeout * 1_000_000))
    if kind == SourceKind.FILE:
        return {"protocol_whitelist": "file"}
    if kind == SourceKind.RTSP:
        return {"rtsp_transport": "tcp", "timeout": microseconds, "protocol_whitelist": NETWORK_PROTOCOLS}
    return {"rw_timeout": microseconds, "protocol_whitelist": NETWORK_PROTOCOLS}


def concat_script(camera: Camera, timeout: float, pushed: str | None = None) -> bytes:
    """The ffconcat script that opens the camera's source (credentials included) with its input options; for a
    camera that pushes, ``pushed`` is the media server's stream it plays (``services.sample_source``)."""
    kind = SourceKind.RTMP if pushed else camera.source_kind
    url = pushed or with_credentials(camera.source_url, camera.source_username, camera.source_password)
    if kind == SourceKind.FILE and not url.startswith("file:"):
        url = "file:" + url
    lines = ["ffconcat version 1.0", f"file {_quoted(url)}"]
    lines += [f"option {key} {_quoted(value)}" for key, value in _inner_options(kind, timeout).items()]
    return ("\n".join(lines) + "\n").encode()


def ffmpeg_input(camera: Camera, timeout: float, *, realtime_loop: bool = False,
                 pushed: str | None = None) -> tuple[list[str], bytes]:
    """ffmpeg's input arguments for the camera's source and what to write to ffmpeg's standard input.

    The arguments name no source (``-i pipe:0``); the script written to stdin does. ``realtime_loop`` plays a file
    at its own frame rate, forever, like a camera would deliver it; ``pushed`` as for :func:`concat_script`. Raises
    :class:`SourceError` for a source URL that cannot be written into the script.
    """
    loop = ["-re", "-stream_loop", "-1"] if realtime_loop and camera.source_kind == SourceKind.FILE else []
    return [*loop, *CONCAT_INPUT], concat_script(camera, timeout, pushed)
