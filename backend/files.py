"""The app's object store, the steps every upload route shares, and downloads of local-store objects.

Two routes take uploads, for two kinds of owner: ``POST /uploads`` (a canteen's record files: an ``Upload`` row
with hashes for the record chain, an idempotency key, readers of the record may download it) and ``POST
/schools/<id>/violation-photos`` (photos referenced by key from reports and rectifications: no row, the key
names the school and the author, which is what a later reference is checked against, and parents' photos go
to WeChat's content check). What happens to the bytes is the same for both and lives here and in
:mod:`backend.content`: a bounded read, the size limit, the content check and re-encoding, the write to the
object store, and the short-lived signed URL.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request
from werkzeug.datastructures import FileStorage

from backend.content import ALL_KINDS, CheckedFile, check_file
from backend.errors import ApiError, not_found
from backend.integrations.storage import (
    LocalStore,
    ObjectStore,
    StorageError,
    attachment_disposition,
    build_store,
    verify_local,
)
from backend.permissions import Action, rule
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

# Signed download URLs of uploads live this long: enough to open a photo, too short to pass around.
URL_TTL_SECONDS = 600

bp = APIBlueprint("files", __name__, tag="文件")


def object_store() -> ObjectStore:
    """The current app's object store (created on first use)."""
    store = current_app.extensions.get("object_store")
    if store is None:
        store = build_store(current_app.config)
        current_app.extensions["object_store"] = store
    return store


def max_upload_bytes() -> int:
    """The largest accepted upload (``MAX_UPLOAD_MB``), in bytes."""
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def read_upload(file: FileStorage) -> bytes:
    """The uploaded file's bytes, reading at most one byte past the limit (enough to refuse it as too large)."""
    return file.stream.read(max_upload_bytes() + 1)


def check_upload(data: bytes, kinds: Collection[str] = ALL_KINDS, max_bytes: int | None = None) -> CheckedFile:
    """Size limit (default ``MAX_UPLOAD_MB``) and content check of an upload (:func:`backend.content.check_file`)."""
    return check_file(data, max_upload_bytes() if max_bytes is None else max_bytes, kinds)


def store_object(key: str, checked: CheckedFile) -> None:
    """Write checked bytes to the object store; a store that refuses is a 503 the client may retry."""
    try:
        object_store().put(key, checked.data, checked.content_type)
    except StorageError as exc:
        log.exception("object store refused upload %s", key)
        raise ApiError(503, "storage_unavailable", "文件存储暂时不可用，请稍后重试") from exc


@dataclass(frozen=True)
class SignedUrl:
    """A short-lived download URL."""

    url: str
    expires_at: datetime


def signed_url(key: str, *, filename: str | None = None, expires_in: int = URL_TTL_SECONDS) -> SignedUrl:
    """A signed GET of a stored object (S3 presigned, or the api's signed local route) and its expiry."""
    url = object_store().signed_url(key, expires_in=expires_in, filename=filename)
    return SignedUrl(url, utcnow() + timedelta(seconds=expires_in))


@bp.get("/files/<path:key>")
@rule(Action.SIGNED)  # the signature is the authorisation: it was issued to a reader of the record
def download(key: str) -> Any:
    """Serve a local-store object to the holder of a valid, unexpired signed URL."""
    store = object_store()
    if not isinstance(store, LocalStore):
        raise not_found("文件")
    # Every parameter that shapes the answer is signed: the key (hence the Content-Type, from the extension
    # the content check chose), the expiry and the download name. Anything else in the query is ignored.
    filename = request.args.get("filename")
    if not verify_local(current_app.config["SECRET_KEY"], key, request.args.get("expires"), request.args.get("sig"),
                        filename=filename):
        raise ApiError(403, "signature_invalid", "文件链接无效或已过期")
    try:
        data = store.get(key)
    except StorageError as exc:
        raise not_found("文件") from exc
    mimetype = mimetypes.guess_type(key)[0] or "application/octet-stream"
    headers = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}
    if filename:
        headers["Content-Disposition"] = attachment_disposition(filename)
    # Range requests let a <video> seek in a recording without fetching it all first.
    return Response(data, mimetype=mimetype, headers=headers).make_conditional(
        request, accept_ranges=True, complete_length=len(data))
