"""A camera with an ONVIF audio back-channel, on loopback, for the talk tests: an asyncio RTSP server in a
thread of the test process that plays the camera's side of the handshake and records what it hears.

What it checks, as a camera's firmware would (every violation is kept in ``problems`` and answered with an
RTSP error, so a client that gets the handshake wrong fails the test):

- DESCRIBE offers the send-only audio media (``a=sendonly``, G.711 at 8 kHz) only when the request carries
  ``Require: www.onvif.org/ver20/backchannel``; without it the answer is ``551 Option not supported``;
- with a user set, every request but OPTIONS must answer a Digest challenge (MD5, ``qop=auth``) correctly;
- SETUP must name the audio track's control URL, carry the Require header and ask for
  ``RTP/AVP/TCP;unicast;interleaved=…``; the reply gives the session id, which PLAY and TEARDOWN must carry;
- after PLAY, interleaved frames on the SETUP's channel are parsed as RTP (version 2, the SDP's payload type)
  and kept with their sequence number, timestamp, SSRC and marker.

``mode="refuse"`` is a camera without a back-channel: it answers every Require with 551.
``mode="no_track"`` accepts the header but its SDP has video only. ``codec="PCMA"`` offers A-law.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

REQUIRE = "www.onvif.org/ver20/backchannel"
PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8}


@dataclass
class RtpPacket:
    """One RTP packet as received."""

    sequence: int
    timestamp: int
    ssrc: int
    payload_type: int
    marker: bool
    payload: bytes


@dataclass
class Talk:
    """One back-channel session: its RTP packets and whether it ended with TEARDOWN."""

    session: str
    channel: int
    packets: list[RtpPacket] = field(default_factory=list)
    torn_down: bool = False

    @property
    def payload(self) -> bytes:
        """The G.711 samples, in arrival order."""
        return b"".join(p.payload for p in self.packets)

    def write_wav(self, target: Path, codec: str = "PCMU") -> Path:
        """The received samples as raw G.711 (``.ul``/``.al`` beside it) and decoded by ffmpeg into a WAV."""
        raw = target.with_suffix(".ul" if codec == "PCMU" else ".al")
        raw.write_bytes(self.payload)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f",
                        "mulaw" if codec == "PCMU" else "alaw", "-ar", "8000", "-ac", "1", "-i", str(raw),
                        str(target)], check=True, timeout=60)
        return target


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _auth_fields(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "digest":
        return {}
    fields = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key.lower()] = value.strip('"')
    return fields


class BackchannelCamera:
    """The server; ``start()`` listens on 127.0.0.1 (a free port), ``stop()`` ends it."""

    realm = "IP Camera"
    nonce = "b6a1c0ffee"

    def __init__(self, mode: str = "backchannel", codec: str = "PCMU", user: str | None = None,
                 password: str | None = None, path: str = "/Streaming/Channels/101") -> None:
        self.mode, self.codec, self.user, self.password, self.path = mode, codec, user, password, path
        self.talks: list[Talk] = []
        self.problems: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._sessions = 0

    @property
    def url(self) -> str:
        """The camera's RTSP URL (no credentials)."""
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    def start(self) -> BackchannelCamera:
        """Listen and serve in a background thread."""
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        """Close the listening socket and the loop."""
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- protocol --------------------------------------------------------------------------------------------

    def _sdp(self, backchannel: bool) -> str:
        lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=Kitchen camera", "t=0 0", "a=control:*",
                 "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000", "a=control:track1", "a=recvonly"]
        if backchannel:
            payload_type = PAYLOAD_TYPES[self.codec]
            lines += [f"m=audio 0 RTP/AVP {payload_type}", f"a=rtpmap:{payload_type} {self.codec}/8000",
                      "a=control:track3", "a=sendonly"]
        return "\r\n".join(lines) + "\r\n"

    def _authorised(self, method: str, uri: str, headers: dict[str, str]) -> bool:
        if not self.user or method == "OPTIONS":
            return True
        fields = _auth_fields(headers.get("authorization", ""))
        if not fields or fields.get("username") != self.user or fields.get("uri") != uri:
            return False
        ha1 = _md5(f"{self.user}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        expected = _md5(f"{ha1}:{self.nonce}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
        return fields.get("response") == expected and fields.get("qop") == "auth"

    def _answer(self, method: str, uri: str, headers: dict[str, str], state: dict) -> tuple[int, dict[str, str], str]:
        if not self._authorised(method, uri, headers):
            challenge = f'Digest realm="{self.realm}", nonce="{self.nonce}", qop="auth", algorithm=MD5'
            return 401, {"WWW-Authenticate": challenge}, ""
        require = headers.get("require", "")
        if method == "OPTIONS":
            return 200, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"}, ""
        if method == "DESCRIBE":
            if require != REQUIRE or self.mode == "refuse":
                return 551, {"Unsupported": require}, ""
            return 200, {"Content-Type": "application/sdp", "Content-Base": self.url + "/"}, \
                self._sdp(self.mode != "no_track")
        if method == "SETUP":
            return self._setup(uri, headers, state)
        if headers.get("session", "").split(";")[0] != state.get("session"):
            self.problems.append(f"{method} without the session id")
            return 454, {}, ""
        if method == "PLAY":
            if require != REQUIRE:
                self.problems.append("PLAY without the Require header")
            state["playing"] = True
            return 200, {"Session": state["session"]}, ""
        if method == "TEARDOWN":
            state["talk"].torn_down = True
            return 200, {}, ""
        return 405, {}, ""

    def _setup(self, uri: str, headers: dict[str, str], state: dict) -> tuple[int, dict[str, str], str]:
        transport = headers.get("transport", "")
        if uri != self.url + "/track3":
            self.problems.append(f"SETUP of {uri}")
            return 404, {}, ""
        if headers.get("require") != REQUIRE:
            self.problems.append("SETUP without the Require header")
            return 551, {}, ""
        parts = transport.split(";")
        interleaved = next((p.split("=")[1] for p in parts if p.startswith("interleaved=")), "")
        if parts[0] != "RTP/AVP/TCP" or "unicast" not in parts or not interleaved:
            self.problems.append(f"SETUP transport {transport}")
            return 461, {}, ""
        self._sessions += 1
        state["session"] = f"{0x5EED0000 + self._sessions:X}"
        state["talk"] = Talk(state["session"], int(interleaved.split("-")[0]))
        self.talks.append(state["talk"])
        return 200, {"Session": f"{state['session']};timeout=60", "Transport": transport}, ""

    def _frame(self, channel: int, data: bytes, state: dict) -> None:
        talk: Talk | None = state.get("talk")
        if talk is None or not state.get("playing") or channel != talk.channel:
            self.problems.append(f"interleaved frame on channel {channel} outside a playing session")
            return
        first, second, sequence, timestamp, ssrc = struct.unpack(">BBHII", data[:12])
        if first >> 6 != 2 or (second & 0x7F) != PAYLOAD_TYPES[self.codec]:
            self.problems.append(f"RTP header {first:#x} {second:#x}")
        talk.packets.append(RtpPacket(sequence, timestamp, ssrc, second & 0x7F, bool(second & 0x80), data[12:]))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state: dict = {}
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":
                    channel, length = struct.unpack(">BH", await reader.readexactly(3))
                    self._frame(channel, await reader.readexactly(length), state)
                    continue
                head = (first + await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.strip().split("\r\n")
                method, uri, _ = lines[0].split(" ")
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
                self.requests.append((method, headers))
                status, extra, body = self._answer(method, uri, headers, state)
                reply = [f"RTSP/1.0 {status} {'OK' if status == 200 else 'Error'}", f"CSeq: {headers.get('cseq')}"]
                reply += [f"{k}: {v}" for k, v in extra.items()]
                reply.append(f"Content-Length: {len(body.encode())}")
                writer.write(("\r\n".join(reply) + "\r\n\r\n" + body).encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
