"""The ONVIF RTSP audio back-channel: send a clip to a camera's speaker over the camera's own RTSP connection.

The handshake (ONVIF Streaming Specification, "Audio backchannel"), all over one TCP connection::

    OPTIONS  rtsp://cam/path                      (learn the methods; answers 401 first when protected)
    DESCRIBE rtsp://cam/path  Require: www.onvif.org/ver20/backchannel
             → SDP with an audio media marked a=sendonly (the camera receives it): PCMU/8000 or PCMA/8000
               (a camera without a back-channel answers 551 Option not supported, or offers no such media)
    SETUP    <control of that media>  Transport: RTP/AVP/TCP;unicast;interleaved=0-1   (+ Require)
    PLAY     rtsp://cam/path  Session: <id>                                              (+ Require)
    $<channel><length><RTP packet> …              (interleaved frames: 160 bytes of G.711 = 20 ms each)
    TEARDOWN rtsp://cam/path  Session: <id>

RTP: version 2, the payload type the SDP gave, one SSRC per talk, sequence numbers counting up by one from a
random start, the timestamp counting samples (8000 per second) from a random start, the marker bit on the
first packet (the start of a talk spurt, RFC 3551). The packets are paced in real time: a camera's jitter
buffer is a fraction of a second, and what arrives faster than it plays is dropped by most firmware.

Authentication: the camera's ``WWW-Authenticate`` challenge decides Basic or Digest (RFC 2617, MD5, with or
without ``qop=auth``); the request line never carries the credentials. Every read and connect has a timeout and
the whole talk a deadline, so a camera that stops answering cannot hold a worker.

Only the standard library: a worker may send without an application. Errors are :class:`BackchannelError`
with a machine-readable code and a Chinese message.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

REQUIRE = "www.onvif.org/ver20/backchannel"
USER_AGENT = "kitchen-talk/1.0"
SAMPLE_RATE = 8000
PACKET_SAMPLES = 160          # 20 ms of G.711 at 8 kHz, one byte per sample
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
MAX_REPLY_BYTES = 256 * 1024
PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8}


class BackchannelError(Exception):
    """The talk did not reach the camera; ``code`` for machines, ``message`` in Chinese for people."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.message = message


def unsupported(detail: str) -> BackchannelError:
    """The camera has no audio back-channel (551, or no send-only audio media in its SDP)."""
    return BackchannelError("backchannel_unsupported", "该摄像头不支持语音对讲（ONVIF 音频回传）", detail)


def unreachable(detail: str) -> BackchannelError:
    """The camera could not be reached, or stopped answering."""
    return BackchannelError("camera_unreachable", "无法连接摄像头，请检查摄像头是否在线", detail)


@dataclass
class Reply:
    """One RTSP response."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class AudioTrack:
    """The send-only audio media of a back-channel SDP."""

    control: str
    encoding: str        # PCMU or PCMA
    payload_type: int


# -- G.711 -----------------------------------------------------------------------------------------------------

def _ulaw_to_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def _linear_to_alaw(sample: int) -> int:
    sign = 0xD5 if sample >= 0 else 0x55
    sample = min(abs(sample) >> 3, 0x0FFF)
    if sample < 32:
        value = sample >> 1
    else:
        exponent = sample.bit_length() - 5
        value = (exponent << 4) | ((sample >> exponent) & 0x0F)
    return value ^ sign


ULAW_TO_ALAW = bytes(_linear_to_alaw(_ulaw_to_linear(b)) for b in range(256))


# -- SDP and headers -------------------------------------------------------------------------------------------

def _media_sections(sdp: str) -> list[list[str]]:
    sections: list[list[str]] = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            sections.append([line])
        elif sections and line:
            sections[-1].append(line)
    return sections


def _encoding(lines: list[str], payload_type: int) -> str:
    for line in lines:
        if line.startswith(f"a=rtpmap:{payload_type} "):
            return line.split(" ", 1)[1].split("/")[0].upper()
    return {0: "PCMU", 8: "PCMA"}.get(payload_type, "")


def backchannel_track(sdp: str) -> AudioTrack:
    """The first send-only audio media whose formats include G.711 (µ-law preferred), or ``unsupported``."""
    for lines in _media_sections(sdp):
        words = lines[0][2:].split()
        if words[0] != "audio" or "a=sendonly" not in lines:
            continue
        control = next((line[len("a=control:"):] for line in lines if line.startswith("a=control:")), "")
        formats = [(int(pt), _encoding(lines, int(pt))) for pt in words[3:] if pt.isdigit()]
        for wanted in ("PCMU", "PCMA"):
            for payload_type, encoding in formats:
                if encoding == wanted:
                    return AudioTrack(control, encoding, payload_type)
    raise unsupported("no send-only G.711 audio media in the SDP")


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for part in _split_params(rest):
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return scheme.lower(), params


def _split_params(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current.strip() else parts


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class _Credentials:
    username: str
    password: str
    scheme: str = ""
    params: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def header(self, method: str, uri: str) -> str | None:
        if self.scheme == "basic":
            return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if self.scheme != "digest":
            return None
        realm, nonce = self.params.get("realm", ""), self.params.get("nonce", "")
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        fields = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
        if "auth" in self.params.get("qop", "").split(","):
            self.count += 1
            nc, cnonce = f"{self.count:08x}", os.urandom(8).hex()
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        fields.append(f'response="{response}"')
        if "opaque" in self.params:
            fields.append(f'opaque="{self.params["opaque"]}"')
        return "Digest " + ", ".join(fields)


# -- the connection --------------------------------------------------------------------------------------------

class RtspClient:
    """One RTSP connection: requests with CSeq, authentication on challenge, interleaved frames out."""

    def __init__(self, url: str, username: str | None, password: str | None, deadline: float) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise unsupported("not an rtsp:// source")
        user = username or (unquote(parts.username) if parts.username else "")
        secret = password or (unquote(parts.password) if parts.password else "")
        netloc = parts.netloc.rsplit("@", 1)[-1]
        self.url = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
        self.credentials = _Credentials(user, secret) if user else None
        self.deadline = deadline
        self.cseq = 0
        self.session = ""
        self.buffer = b""
        try:
            self.sock = socket.create_connection((parts.hostname, parts.port or 554), timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise unreachable(f"connect: {exc}") from exc
        self.sock.settimeout(READ_TIMEOUT)

    def close(self) -> None:
        """Close the connection (the camera ends the session with it)."""
        self.sock.close()

    def _send(self, data: bytes) -> None:
        if time.monotonic() > self.deadline:
            raise unreachable("deadline passed")
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise unreachable(f"send: {exc}") from exc

    def _fill(self) -> None:
        if time.monotonic() > self.deadline:
            raise unreachable("deadline passed")
        try:
            chunk = self.sock.recv(65536)
        except OSError as exc:
            raise unreachable(f"recv: {exc}") from exc
        if not chunk:
            raise unreachable("connection closed by the camera")
        self.buffer += chunk
        if len(self.buffer) > MAX_REPLY_BYTES:
            raise unreachable("reply too long")

    def _read_reply(self) -> Reply:
        while True:
            # Interleaved frames the camera sends (RTCP receiver reports) come before or between replies.
            while self.buffer[:1] == b"$":
                if len(self.buffer) < 4:
                    self._fill()
                    continue
                size = struct.unpack(">H", self.buffer[2:4])[0]
                if len(self.buffer) < 4 + size:
                    self._fill()
                    continue
                self.buffer = self.buffer[4 + size:]
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        head, self.buffer = self.buffer[:end].decode("utf-8", "replace"), self.buffer[end + 4:]
        lines = head.split("\r\n")
        words = lines[0].split(" ", 2)
        if len(words) < 2 or not words[0].startswith("RTSP/") or not words[1].isdigit():
            raise unreachable(f"not an RTSP reply: {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Reply(int(words[1]), words[2] if len(words) > 2 else "", headers, body)

    def request(self, method: str, uri: str, headers: dict[str, str] | None = None) -> Reply:
        """Send one request (answering one authentication challenge) and return the camera's reply."""
        for attempt in range(2):
            self.cseq += 1
            lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}", f"User-Agent: {USER_AGENT}"]
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if self.session:
                lines.append(f"Session: {self.session}")
            authorization = self.credentials.header(method, uri) if self.credentials else None
            if authorization:
                lines.append(f"Authorization: {authorization}")
            self._send(("\r\n".join(lines) + "\r\n\r\n").encode())
            reply = self._read_reply()
            if reply.status != 401 or attempt or not self.credentials:
                break
            self.credentials.scheme, self.credentials.params = _challenge(_pick_challenge(reply))
        if reply.status == 401:
            raise BackchannelError("camera_auth_failed", "摄像头拒绝了账号或密码，请检查摄像头的用户名和密码",
                                   f"{method} 401")
        return reply

    def send_frame(self, channel: int, packet: bytes) -> None:
        """One interleaved frame: ``$``, the channel, the length, the RTP packet."""
        self._send(struct.pack(">cBH", b"$", channel, len(packet)) + packet)


def _pick_challenge(reply: Reply) -> str:
    header = reply.headers.get("www-authenticate", "")
    return header or "Basic realm=\"camera\""


# -- the talk --------------------------------------------------------------------------------------------------

def rtp_packets(samples: bytes, payload_type: int, *, ssrc: int, sequence: int, timestamp: int) -> list[bytes]:
    """The clip cut into 20 ms RTP packets (the last one shorter), marker on the first."""
    packets = []
    for index, offset in enumerate(range(0, len(samples), PACKET_SAMPLES)):
        header = struct.pack(">BBHII", 0x80, (0x80 if index == 0 else 0) | payload_type,
                             (sequence + index) & 0xFFFF, (timestamp + offset) & 0xFFFFFFFF, ssrc)
        packets.append(header + samples[offset:offset + PACKET_SAMPLES])
    return packets


def _control_url(base: str, control: str) -> str:
    if not control or control == "*":
        return base
    if control.lower().startswith("rtsp://"):
        return control
    return urljoin(base if base.endswith("/") else base + "/", control)


def _interleaved_channel(transport: str, default: int) -> int:
    for part in transport.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "interleaved" and value.split("-")[0].isdigit():
            return int(value.split("-")[0])
    return default


def _expect(reply: Reply, method: str) -> Reply:
    if reply.status == 551 or (reply.status == 461 and method == "SETUP"):
        raise unsupported(f"{method} {reply.status} {reply.reason}")
    if reply.status != 200:
        raise BackchannelError("backchannel_failed", "摄像头拒绝了语音对讲请求", f"{method} {reply.status}")
    return reply


@dataclass(frozen=True)
class TalkReport:
    """What was sent: the codec, how many packets and samples."""

    encoding: str
    packets: int
    samples: int


def _setup(client: RtspClient) -> tuple[AudioTrack, int]:
    _expect(client.request("OPTIONS", client.url), "OPTIONS")
    described = _expect(client.request("DESCRIBE", client.url, {"Accept": "application/sdp", "Require": REQUIRE}),
                        "DESCRIBE")
    track = backchannel_track(described.body.decode("utf-8", "replace"))
    base = described.headers.get("content-base") or client.url
    reply = _expect(client.request("SETUP", _control_url(base, track.control),
                                   {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", "Require": REQUIRE}),
                    "SETUP")
    client.session = reply.headers.get("session", "").split(";")[0].strip()
    if not client.session:
        raise BackchannelError("backchannel_failed", "摄像头拒绝了语音对讲请求", "SETUP without a session")
    channel = _interleaved_channel(reply.headers.get("transport", ""), 0)
    _expect(client.request("PLAY", client.url, {"Range": "npt=0.000-", "Require": REQUIRE}), "PLAY")
    return track, channel


def send_clip(url: str, username: str | None, password: str | None, pcmu: bytes, *,
              sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> TalkReport:
    """Play raw PCMU samples on the camera at ``url`` through its ONVIF back-channel, paced in real time.

    Raises :class:`BackchannelError`: ``backchannel_unsupported``, ``camera_unreachable``,
    ``camera_auth_failed`` or ``backchannel_failed``.
    """
    deadline = clock() + len(pcmu) / SAMPLE_RATE + 30
    client = RtspClient(url, username, password, deadline)
    try:
        track, channel = _setup(client)
        samples = pcmu if track.encoding == "PCMU" else pcmu.translate(ULAW_TO_ALAW)
        seed = struct.unpack(">HII", os.urandom(10))
        packets = rtp_packets(samples, track.payload_type, sequence=seed[0], timestamp=seed[1], ssrc=seed[2])
        started = clock()
        for index, packet in enumerate(packets):
            ahead = started + index * PACKET_SAMPLES / SAMPLE_RATE - clock()
            if ahead > 0:
                sleep(ahead)
            client.send_frame(channel, packet)
        # Let the last packet play out before the session ends.
        sleep(max(0.0, started + len(packets) * PACKET_SAMPLES / SAMPLE_RATE - clock()))
        # The clip went out; a camera that drops the connection at once has ended the session too.
        with contextlib.suppress(BackchannelError):
            client.request("TEARDOWN", client.url, {"Require": REQUIRE})
        return TalkReport(track.encoding, len(packets), len(samples))
    finally:
        client.close()
