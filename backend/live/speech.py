"""Audio for talking to a kitchen: canned prompts spoken offline, browser recordings checked and transcoded, all
to what cameras' speakers take over the ONVIF back-channel: G.711 µ-law (PCMU), 8 kHz, mono, as raw samples.

Canned prompts are synthesised by Debian's ``espeak-ng`` (Mandarin voice ``cmn``; no network, no model to
download) to WAV, converted by ffmpeg, and cached in the object store under the hash of (voice, text): the same
prompt is synthesised once per installation. A browser recording (WebM/Opus from Chrome, Ogg/Opus from Firefox,
or WAV) is judged by its content with ffprobe, never by its name or declared type, and must be short.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backend.child_processes import run_tool
from backend.errors import ApiError
from backend.files import object_store
from backend.live.recordings import MediaToolError

PCMU_RATE = 8000
VOICE = "cmn"
TOOL_TIMEOUT = 60
MAX_PROMPT_CHARS = 100
MAX_CLIP_BYTES = 2 * 1024 * 1024
MAX_CLIP_SECONDS = 60.0
# ffprobe's format names of what browsers record (MediaRecorder) and of plain WAV.
CLIP_FORMATS = frozenset({"matroska,webm", "ogg", "wav"})
PROMPT_PREFIX = "talk-prompts"


@dataclass(frozen=True)
class Clip:
    """Audio ready for a camera: raw µ-law samples at 8 kHz, mono."""

    pcmu: bytes

    @property
    def seconds(self) -> float:
        """How long it plays (one byte per sample)."""
        return len(self.pcmu) / PCMU_RATE


def _ffmpeg_to_pcmu(source: Path) -> bytes:
    result = run_tool(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(source), "-map", "0:a:0",
                       "-ac", "1", "-ar", str(PCMU_RATE), "-c:a", "pcm_mulaw", "-f", "mulaw", "pipe:1"],
                      timeout=TOOL_TIMEOUT, text=False)
    if result.returncode != 0 or not result.stdout:
        raise MediaToolError(f"ffmpeg failed: {result.stderr.decode(errors='replace').strip()[:300]}")
    return result.stdout


def prompt_key(text: str, voice: str = VOICE) -> str:
    """The object-store key of a synthesised prompt: the hash of voice and text."""
    digest = hashlib.sha256((voice + "\n" + text).encode()).hexdigest()
    return f"{PROMPT_PREFIX}/{digest}.ul"


def synthesise(text: str, voice: str = VOICE) -> Clip:
    """A prompt spoken by espeak-ng, as PCMU; cached in the object store by (voice, text)."""
    text = text.strip()
    if not text or len(text) > MAX_PROMPT_CHARS:
        raise ApiError(422, "talk_text_invalid", f"喊话内容须为 1 到 {MAX_PROMPT_CHARS} 个字")
    store, key = object_store(), prompt_key(text, voice)
    if store.exists(key):
        return Clip(store.get(key))
    with tempfile.TemporaryDirectory(prefix="speech-") as folder:
        wav = Path(folder) / "prompt.wav"
        try:
            # The text goes through stdin: it never lands in a command line (and a leading "-" is no option).
            result = run_tool(["espeak-ng", "-v", voice, "-w", str(wav), "--stdin"], input=text.encode(),
                              timeout=TOOL_TIMEOUT, text=False)
            if result.returncode != 0 or not wav.exists():
                raise MediaToolError(f"espeak-ng failed: {result.stderr.decode(errors='replace').strip()[:300]}")
            pcmu = _ffmpeg_to_pcmu(wav)
        except (MediaToolError, subprocess.TimeoutExpired, OSError) as exc:
            raise ApiError(503, "speech_failed", "语音合成失败，请稍后重试") from exc
    store.put(key, pcmu, "audio/basic")
    return Clip(pcmu)


def _probe(path: Path) -> tuple[str, list[str], float]:
    result = run_tool(["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration:stream=codec_type",
                       "-of", "json", str(path)], timeout=TOOL_TIMEOUT)
    if result.returncode != 0:
        return "", [], 0.0
    data = json.loads(result.stdout or "{}")
    fmt = data.get("format") or {}
    duration = fmt.get("duration")
    return (fmt.get("format_name") or "", [s.get("codec_type") for s in data.get("streams") or []],
            float(duration) if duration not in (None, "N/A") else 0.0)


def recorded_clip(data: bytes) -> Clip:
    """A browser recording (WebM, Ogg or WAV with one audio track, at most a minute) as PCMU.

    Judged by content: ffprobe must recognise one of the formats with audio only in it; the duration is
    measured on the decoded samples (MediaRecorder's WebM carries no duration in its header).
    """
    if len(data) > MAX_CLIP_BYTES:
        raise ApiError(413, "talk_clip_too_large", "录音文件不能超过 2 MB", {"max_bytes": MAX_CLIP_BYTES})
    invalid = ApiError(422, "talk_clip_invalid", "无法识别的录音，请上传 WebM、Ogg 或 WAV 格式的音频")
    with tempfile.TemporaryDirectory(prefix="talk-") as folder:
        source = Path(folder) / "clip"
        source.write_bytes(data)
        try:
            name, kinds, _ = _probe(source)
            if name not in CLIP_FORMATS or kinds.count("audio") != 1 or len(kinds) != 1:
                raise invalid
            pcmu = _ffmpeg_to_pcmu(source)
        except (MediaToolError, subprocess.TimeoutExpired) as exc:
            raise invalid from exc
    clip = Clip(pcmu)
    if clip.seconds > MAX_CLIP_SECONDS:
        raise ApiError(422, "talk_clip_too_long", "录音不能超过 60 秒", {"max_seconds": MAX_CLIP_SECONDS})
    return clip


def pcmu_to_wav(pcmu: bytes, target: Path) -> None:
    """Decode raw PCMU into a 16-bit WAV (the kept copy of a talk, playable in any browser)."""
    result = run_tool(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "mulaw", "-ar",
                       str(PCMU_RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "pcm_s16le", str(target)],
                      input=pcmu, timeout=TOOL_TIMEOUT, text=False)
    if result.returncode != 0:
        raise MediaToolError(f"ffmpeg failed: {result.stderr.decode(errors='replace').strip()[:300]}")
