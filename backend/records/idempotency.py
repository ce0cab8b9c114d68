"""``Idempotency-Key`` for create requests: a retry from a flaky phone network returns the first result.

The key is stored per user in the same transaction as what the request creates, so either both exist or
neither does. A concurrent duplicate waits on the unique index and then sees the first request's row.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from backend.db_util import insert_if_absent
from backend.errors import ApiError
from backend.extensions import db
from backend.records.models import IdempotencyKey
from backend.timeutil import utcnow

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")


def parse_key(raw: str | None) -> str:
    """Validate the header value; every create request must carry one."""
    if raw is None or not raw.strip():
        raise ApiError(400, "idempotency_key_required", "缺少 Idempotency-Key 请求头，请升级小程序后重试",
                       {"header": HEADER})
    key = raw.strip()
    if not KEY_PATTERN.match(key):
        raise ApiError(400, "idempotency_key_invalid", "Idempotency-Key 应为 8 到 128 位字母、数字或 -_:.",
                       {"header": HEADER})
    return key


def fingerprint(endpoint: str, payload: Any) -> str:
    """sha256 of the endpoint and the request payload (JSON, or bytes for uploads)."""
    digest = hashlib.sha256(endpoint.encode() + b"\n")
    if isinstance(payload, bytes):
        digest.update(payload)
    else:
        digest.update(json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                 default=str).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Replay:
    """A request seen before: what it created."""

    resource_type: str
    resource_id: int


def _existing(user_id: int, key: str, fingerprint_value: str) -> Replay | None:
    row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                         IdempotencyKey.key == key))
    if row is None:
        return None
    if row.fingerprint != fingerprint_value:
        raise ApiError(422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求，请使用新的 Key",
                       {"header": HEADER})
    return Replay(row.resource_type, row.resource_id or 0)


def lookup(user_id: int, key: str, fingerprint_value: str) -> Replay | None:
    """The earlier result of this request, without reserving anything (for work done outside a transaction)."""
    return _existing(user_id, key, fingerprint_value)


def reserve(user_id: int, key: str, fingerprint_value: str, resource_type: str) -> Replay | None:
    """Claim the key inside the caller's transaction; returns the earlier result if the key was used before."""
    found = _existing(user_id, key, fingerprint_value)
    if found is not None:
        return found
    row_id = insert_if_absent(IdempotencyKey, {
        "user_id": user_id, "key": key, "fingerprint": fingerprint_value, "resource_type": resource_type,
        "resource_id": None, "created_at": utcnow()}, ["user_id", "key"])
    if row_id is None:  # a concurrent duplicate committed first
        return _existing(user_id, key, fingerprint_value)
    db.session.info.setdefault("idempotency_rows", {})[(user_id, key)] = row_id
    return None


def complete(user_id: int, key: str, resource_id: int) -> None:
    """Remember what the reserved request created (same transaction)."""
    row_id = db.session.info.get("idempotency_rows", {}).pop((user_id, key))
    row = db.session.get(IdempotencyKey, row_id)
    row.resource_id = resource_id


def actor_id(principal: Any) -> int:
    """The acting user's id (the principal carries ``user_id``, or an ORM ``user`` in older snapshots)."""
    user_id = getattr(principal, "user_id", None)
    return user_id if user_id is not None else principal.user.id
