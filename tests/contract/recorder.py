"""Record real API answers as the mini-program's test fixtures, normalised, and compare them.

The mini-program's jest tests answer every ``wx.request`` with a fixture from
``miniprogram/test/fixtures/<name>.json``. Those files are not written by hand: the contract test calls the
real API on the demo seed at a frozen instant and compares each normalised answer with its file. Set
``UPDATE_CONTRACT=1`` to rewrite the files after an intended API change, then re-run jest.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = ROOT / "miniprogram" / "test" / "fixtures"
UPDATE = os.environ.get("UPDATE_CONTRACT") == "1"

# Values that differ on every run whatever the clock: they are replaced by stable stand-ins.
TOKEN_KEYS = {"token"}
# Measured durations (how long a certificate photo took to read) and model confidences (their last digits
# differ between CPUs' instruction sets): stand-in numbers.
DURATION_KEYS = {"seconds"}
SCORE_KEYS = {"scores"}
TOTAL = "X-Total-Count"
VOLATILE_PATTERNS = [
    (re.compile(r"Bearer [\w-]+"), "Bearer test-session-token"),
    # Signed file URLs (local signature, S3 presigned) and live play tokens carry a nonce.
    (re.compile(r"(sig=)[0-9a-fA-F]{16,}"), r"\1test-signature"),
    (re.compile(r"(X-Amz-Signature=)[0-9a-fA-F]+"), r"\1test-signature"),
    (re.compile(r"(token=)[A-Za-z0-9._~-]{16,}"), r"\1test-play-token"),
    (re.compile(r"(/hls/)[A-Za-z0-9._~-]{16,}(?=/)"), r"\1test-play-token"),
]


@dataclass
class Recorder:
    """Calls the API through the Flask test client and keeps normalised request/answer pairs."""

    client: Any
    headers_for: Callable[[str], dict[str, str]]
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def alias(self, actual: str, stand_in: str) -> None:
        """Write ``stand_in`` wherever the random value ``actual`` appears (invite codes, object keys)."""
        if actual:
            self.aliases[actual] = stand_in

    def login_as(self, who: str, token: str) -> None:
        """Use a token obtained through a login call for ``who`` (users created by a login)."""
        self.tokens[who] = {"Authorization": f"Bearer {token}"}

    def headers(self, who: str | None) -> dict[str, str]:
        """Authorization headers of a user: a login token if we have one, else a fresh session."""
        if who is None:
            return {}
        if who not in self.tokens:
            self.tokens[who] = self.headers_for(who)
        return self.tokens[who]

    def call(self, name: str, method: str, path: str, *, who: str | None, body: Any = None,
             description: str, data: dict[str, Any] | None = None, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, expect: int | None = None) -> Any:
        """Make one request and keep it as fixture ``name``; returns the raw JSON answer.

        ``body`` is sent as JSON, ``data`` as multipart (files, as ``wx.uploadFile`` sends them), ``form`` as
        an urlencoded form (as the media server sends its hooks).
        """
        all_headers = {**self.headers(who), **(headers or {})}
        kwargs: dict[str, Any] = {"headers": all_headers}
        if form is not None:
            kwargs["data"] = urlencode(form)
            kwargs["content_type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            kwargs["data"] = data
            kwargs["content_type"] = "multipart/form-data"
        elif body is not None:
            kwargs["json"] = body
        response = self.client.open(path, method=method, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (name, response.status_code, response.get_data(as_text=True)[:500])
        if response.mimetype == "application/json":
            answer = response.get_json()
        elif response.status_code == 204:
            answer = None
        else:
            # Binary answers (the invite's PNG code, which encodes a random scene): what it is, not its bytes.
            answer = {"content_type": response.mimetype, "png": response.data.startswith(b"\x89PNG\r\n\x1a\n"),
                      "pdf": response.data.startswith(b"%PDF-"), "empty": not response.data}
        request_body = body if form is None else form
        if data is not None:
            request_body = {k: (v if isinstance(v, str | int | float) else "<file>") for k, v in data.items()}
        if name in self.recorded:
            raise AssertionError(f"fixture {name} recorded twice")
        self.recorded[name] = {
            "description": description,
            "request": {"method": method, "path": path, "as": who, "body": request_body,
                        **({"headers": sorted(headers)} if headers else {})},
            "status": response.status_code,
            # The list routes' total (X-Total-Count): the only response header the mini-program reads.
            **({"headers": {TOTAL: response.headers[TOTAL]}} if TOTAL in response.headers else {}),
            "body": answer,
        }
        return answer

    def normalised(self, name: str) -> dict[str, Any]:
        """The fixture as it is written: random values replaced by their stand-ins."""
        return _normalise(self.recorded[name], self.aliases)


def _signed_file_url(owner: dict[str, Any]) -> str:
    """A stable stand-in for a signed download URL (its object key is random): named by the upload's id,
    or by its (already normalised) object key."""
    upload_id = owner.get("upload_id", owner.get("id"))
    name = f"upload-{upload_id}" if upload_id is not None else owner.get("key", "file")
    return f"http://127.0.0.1:5000/api/v1/files/test/{name}?signed=1"


def _normalise(value: Any, aliases: dict[str, str], key: str | None = None) -> Any:
    if isinstance(value, dict) and key in SCORE_KEYS:
        return {k: 0.99 for k in value}
    if isinstance(value, dict):
        out = {k: _normalise(v, aliases, k) for k, v in value.items()}
        if isinstance(value.get("url"), str) and ("sig=" in value["url"] or "Signature" in value["url"]):
            out["url"] = _signed_file_url(out)
        return out
    if isinstance(value, list):
        return [_normalise(v, aliases) for v in value]
    if key in DURATION_KEYS and isinstance(value, float):
        return 1.0
    if isinstance(value, str):
        if key in TOKEN_KEYS:
            return "test-session-token"
        for actual in sorted(aliases, key=len, reverse=True):
            value = value.replace(actual, aliases[actual])
        for pattern, stand_in in VOLATILE_PATTERNS:
            value = pattern.sub(stand_in, value)
        return value
    return value


def dump(fixture: dict[str, Any]) -> str:
    """The file form: stable key order, readable Chinese."""
    return json.dumps(fixture, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def compare(recorder: Recorder) -> list[str]:
    """Differences between the recorded answers and the fixture files (or rewrite them with UPDATE)."""
    problems: list[str] = []
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    produced = set()
    # Names starting with "_" are steps that build the state the fixtures show, not fixtures themselves.
    for name in sorted(n for n in recorder.recorded if not n.startswith("_")):
        path = FIXTURE_DIR / f"{name}.json"
        produced.add(path.name)
        expected = dump(recorder.normalised(name))
        if UPDATE:
            if not path.exists() or path.read_text(encoding="utf-8") != expected:
                path.write_text(expected, encoding="utf-8")
            continue
        if not path.exists():
            problems.append(f"{path.name}: missing (run UPDATE_CONTRACT=1)")
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(difflib.unified_diff(actual.splitlines(True), expected.splitlines(True),
                                                f"fixture {path.name}", "API answer now", n=2))
            problems.append(diff)
    for stale in sorted(p.name for p in FIXTURE_DIR.glob("*.json")):
        if stale not in produced:
            if UPDATE:
                (FIXTURE_DIR / stale).unlink()
            else:
                problems.append(f"{stale}: no scenario produces it any more (run UPDATE_CONTRACT=1 to remove)")
    return problems
