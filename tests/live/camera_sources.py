"""Cameras on loopback with secrets in their source, for the relay and snapshot tests, and what a local user
sees of our processes in /proc.

``HttpCamera`` serves the demo video (vtest.avi) live as an MPEG-TS stream over HTTP behind basic auth, like an
IP camera's HTTP stream; ``RtspCamera`` streams it over RTSP (interleaved TCP) behind basic auth; ``RtmpCamera``
serves it over RTMP on a secret stream name. Each encodes in real time with its own ffmpeg; every process a
camera starts is stopped by its own pid when the connection ends or the camera stops.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.live.media_files import VTEST
from tests.support.net import kill_process


def live_encoder(output_format: str, output: str = "pipe:1", extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """ffmpeg encoding vtest.avi in real time (H.264, a key frame every second) to ``output``."""
    return subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-stream_loop", "-1",
                             "-i", str(VTEST), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune",
                             "zerolatency", "-g", "10", *extra, "-f", output_format, output],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


@dataclass
class HttpCamera:
    """An HTTP camera on loopback: ``GET path`` with the right basic-auth credentials streams MPEG-TS."""

    username: str
    password: str
    path: str
    server: ThreadingHTTPServer | None = None
    authorised: int = 0
    refused: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The source URL without credentials (what is stored as the camera's source_url)."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def start(self) -> HttpCamera:
        """Listen on an ephemeral loopback port, serving in a thread."""
        camera = self
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                if self.headers.get("Authorization") != expected:
                    with camera.lock:
                        camera.refused += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != camera.path:
                    self.send_error(404)
                    return
                with camera.lock:
                    camera.authorised += 1
                    if camera.stopping.is_set():
                        return
                    encoder = live_encoder("mpegts")
                    camera.processes.append(encoder)
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                try:
                    assert encoder.stdout is not None
                    while not camera.stopping.is_set() and (chunk := encoder.stdout.read1(65536)):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader went away
                finally:
                    kill_process(encoder)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and stop every encoder this camera started."""
        self.stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        with self.lock:
            for process in self.processes:
                kill_process(process)



@dataclass
class RtspCamera:
    """An RTSP camera on loopback that streams the demo video after basic auth, RTP interleaved in the RTSP
    connection (TCP only, like a camera reached through a firewall).

    For each DESCRIBE, ffmpeg encodes vtest.avi in real time to RTP on loopback UDP ports of ours; the SDP it
    writes is the answer, and after PLAY every RTP packet is forwarded as ``$ channel length packet``. Each SETUP's
    Transport header is recorded, to check that the client's options reached its RTSP demuxer.
    """

    username: str
    password: str
    path: str
    workdir: Path
    transports: list[str] = field(default_factory=list)
    authorised: int = 0
    refused: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)
    listener: socket.socket | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The source URL without credentials."""
        assert self.listener is not None
        return f"rtsp://127.0.0.1:{self.listener.getsockname()[1]}{self.path}"

    def start(self) -> RtspCamera:
        """Listen on an ephemeral loopback port, a thread per connection."""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop accepting and forwarding, stop every encoder."""
        self.stopping.set()
        if self.listener is not None:
            self.listener.close()
        with self.lock:
            for process in self.processes:
                kill_process(process)

    def _accept(self) -> None:
        assert self.listener is not None
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        rtp, rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        rtcp.bind(("127.0.0.1", 0))
        rtp.settimeout(0.2)
        encoder: subprocess.Popen | None = None
        reader = connection.makefile("rb")
        try:
            while not self.stopping.is_set():
                request = _read_rtsp_request(reader)
                if request is None:
                    return
                method, url, headers = request
                cseq = [f"CSeq: {headers.get('cseq', '0')}"]
                if method == "OPTIONS":
                    _reply(connection, "200 OK", [*cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"])
                elif headers.get("authorization") != expected:
                    with self.lock:
                        self.refused += 1
                    _reply(connection, "401 Unauthorized", [*cseq, 'WWW-Authenticate: Basic realm="camera"'])
                elif method == "DESCRIBE" and urlsplit(url).path != urlsplit(self.path).path:
                    _reply(connection, "404 Not Found", cseq)
                elif method == "DESCRIBE":
                    sdp_file = self.workdir / f"rtsp-{rtp.getsockname()[1]}.sdp"
                    with self.lock:
                        if self.stopping.is_set():
                            return
                        self.authorised += 1
                        encoder = live_encoder("rtp", f"rtp://127.0.0.1:{rtp.getsockname()[1]}"
                                               f"?rtcpport={rtcp.getsockname()[1]}", ("-sdp_file", str(sdp_file)))
                        self.processes.append(encoder)
                    body = _session_description(encoder, sdp_file).encode()
                    _reply(connection, "200 OK", [*cseq, f"Content-Base: {url}/", "Content-Type: application/sdp",
                                                  f"Content-Length: {len(body)}"], body)
                elif method == "SETUP":
                    self.transports.append(headers.get("transport", ""))
                    if "/TCP" not in headers.get("transport", ""):
                        _reply(connection, "461 Unsupported Transport", cseq)
                    else:
                        _reply(connection, "200 OK", [*cseq, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1",
                                                      "Session: 12345678;timeout=60"])
                elif method == "PLAY":
                    _reply(connection, "200 OK", [*cseq, "Session: 12345678"])
                    self._forward(rtp, connection)
                    return
                else:
                    _reply(connection, "200 OK", cseq)
                    return
        except OSError:
            pass  # the client went away
        finally:
            reader.close()
            connection.close()
            rtp.close()
            rtcp.close()
            if encoder is not None:
                kill_process(encoder)

    def _forward(self, rtp: socket.socket, connection: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                packet = rtp.recv(65536)
            except TimeoutError:
                continue
            connection.sendall(b"$\x00" + len(packet).to_bytes(2, "big") + packet)


def _read_rtsp_request(reader) -> tuple[str, str, dict[str, str]] | None:
    line = reader.readline()
    while line in (b"\r\n", b"\n"):
        line = reader.readline()
    if not line:
        return None
    method, url, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if int(headers.get("content-length", "0")):
        reader.read(int(headers["content-length"]))
    return method, url, headers


def _reply(connection: socket.socket, status: str, headers: list[str], body: bytes = b"") -> None:
    connection.sendall(("\r\n".join([f"RTSP/1.0 {status}", *headers]) + "\r\n\r\n").encode() + body)


def _session_description(encoder: subprocess.Popen, sdp_file: Path) -> str:
    """The SDP ffmpeg wrote for its RTP output, as an RTSP server describes it (no address, one control)."""
    deadline = time.monotonic() + 30
    while not (sdp_file.exists() and "a=rtpmap" in sdp_file.read_text()):
        if encoder.poll() is not None or time.monotonic() > deadline:
            raise OSError("the RTP encoder wrote no SDP")
        time.sleep(0.05)
    lines = []
    for line in sdp_file.read_text().splitlines():
        if line.startswith("SDP:"):
            continue
        if line.startswith("c="):
            line = "c=IN IP4 0.0.0.0"
        if line.startswith("m=video"):
            line = "m=video 0 RTP/AVP 96"
        lines.append(line)
        if line.startswith("m=video"):
            lines.append("a=control:streamid=0")
    return "\r\n".join(lines) + "\r\n"


@dataclass
class RtmpCamera:
    """An RTMP source on loopback: ffmpeg itself listening (``-listen 1``) on a secret stream name; it serves one
    player. Its own command line holds the secret, so tests leave its pid out of their /proc checks."""

    path: str
    port: int
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The source URL."""
        return f"rtmp://127.0.0.1:{self.port}{self.path}"

    def start(self) -> RtmpCamera:
        """Start the listening encoder and wait until it listens (read from /proc, since a test connection would
        be the one player it serves)."""
        encoder = live_encoder("flv", self.url, ("-listen", "1"))
        self.processes.append(encoder)
        deadline = time.monotonic() + 30
        while not listening(self.port):
            if encoder.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the RTMP source did not listen")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the encoder."""
        for process in self.processes:
            kill_process(process)


def listening(port: int) -> bool:
    """Whether something listens on the loopback TCP port (from /proc/net/tcp, without connecting)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
            return True
    return False


def descendants(root: int) -> list[int]:
    """Every living process below ``root`` (children, their children…), from the parent pids in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def visible_to_local_users(pid: int) -> tuple[str, str]:
    """A process's command line and environment as /proc shows them (empty when it has gone)."""
    texts = []
    for name in ("cmdline", "environ"):
        try:
            texts.append(Path(f"/proc/{pid}/{name}").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            texts.append("")
    return texts[0], texts[1]
