"""Uploads for canteen records: the Upload row, its idempotency and who may download it.

The bytes go through the steps every upload shares (:mod:`backend.files`: size limit, content check,
object store, signed URL).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select

from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.files import URL_TTL_SECONDS, SignedUrl, check_upload, object_store, store_object
from backend.files import signed_url as signed_object_url
from backend.integrations.storage import StorageError
from backend.permissions import Action, Principal, allowed, record_read_action, require
from backend.records import idempotency
from backend.records.idempotency import actor_id
from backend.records.models import RecordAttachment, RecordEntry, Upload
from backend.schools.models import Canteen
from backend.timeutil import shanghai_iso, utcnow

log = logging.getLogger(__name__)

RESOURCE_TYPE = "upload"


@dataclass(frozen=True)
class UploadResult:
    """The stored upload and whether it was stored by an earlier request with the same Idempotency-Key."""

    upload: Upload
    replayed: bool


def _safe_filename(name: str | None, extension: str) -> str | None:
    """The uploader's file name without folders or control characters, ending in ``extension``.

    The extension is the one of the checked content, whatever the uploader called the file: a PDF named
    ``report.html`` is kept (and downloads) as ``report.pdf``.
    """
    if not name:
        return None
    cleaned = "".join(ch for ch in name.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable())
    stem = cleaned.rsplit(".", 1)[0] if "." in cleaned.lstrip(".") else cleaned
    stem = stem.strip(" .")[:200]
    return f"{stem}.{extension}" if stem else None


def _replay(found: idempotency.Replay) -> UploadResult:
    upload = db.session.get(Upload, found.resource_id)
    if found.resource_type != RESOURCE_TYPE or upload is None:
        raise ApiError(422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求，请使用新的 Key")
    return UploadResult(upload, True)


def store_upload(principal: Principal, canteen: Canteen, data: bytes, filename: str | None, *,
                 idempotency_key: str, fingerprint: str, max_bytes: int | None = None) -> UploadResult:
    """Check a file by content, store it and record who uploaded what (once per Idempotency-Key).

    The object is written before the database row, outside any transaction: a crash in between leaves an
    unreferenced object, never a row without its file.
    """
    require(principal, Action.RECORDS_WRITE, canteen.school)
    found = idempotency.lookup(actor_id(principal), idempotency_key, fingerprint)
    if found is not None:
        return _replay(found)
    checked = check_upload(data, max_bytes=max_bytes)
    now = utcnow()
    key = f"uploads/{canteen.id}/{now:%Y%m}/{uuid.uuid4().hex}.{checked.extension}"
    store_object(key, checked)
    store = object_store()
    try:
        found = idempotency.reserve(actor_id(principal), idempotency_key, fingerprint, RESOURCE_TYPE)
        if found is not None:  # a concurrent retry stored it first: keep that one
            db.session.rollback()
            store.delete(key)
            return _replay(found)
        upload = Upload(canteen_id=canteen.id, uploader_id=actor_id(principal), key=key,
                        content_type=checked.content_type, size=len(checked.data),
                        sha256=hashlib.sha256(checked.data).hexdigest(),
                        original_sha256=hashlib.sha256(data).hexdigest(), original_size=len(data),
                        original_filename=_safe_filename(filename, checked.extension), width=checked.width,
                        height=checked.height, pages=checked.pages, created_at=now)
        db.session.add(upload)
        db.session.flush()
        idempotency.complete(actor_id(principal), idempotency_key, upload.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        try:
            store.delete(key)
        except StorageError:
            log.warning("could not remove orphaned object %s", key)
        raise
    return UploadResult(upload, False)


def is_attached(upload_id: int) -> bool:
    """Whether any record version refers to the upload."""
    return bool(db.session.scalar(select(exists().where(RecordAttachment.upload_id == upload_id))))


def attached_kinds(upload_id: int) -> set[str]:
    """The kinds of the records whose versions the upload is attached to."""
    return set(db.session.scalars(
        select(RecordEntry.kind).join(RecordAttachment, RecordAttachment.entry_id == RecordEntry.id)
        .where(RecordAttachment.upload_id == upload_id).distinct()))


def may_download(principal: Principal, upload: Upload) -> bool:
    """Readers of the records may fetch attached files (of people's records: those who may read health data);
    unattached ones only their uploader and the writers."""
    school = db.session.get(Canteen, upload.canteen_id).school
    kinds = attached_kinds(upload.id)
    if kinds:
        return all(allowed(principal, record_read_action(kind), school) for kind in kinds)
    return upload.uploader_id == actor_id(principal) or allowed(principal, Action.RECORDS_WRITE, school)


def signed_url(upload: Upload, expires_in: int = URL_TTL_SECONDS) -> SignedUrl:
    """A signed GET of the upload's object; PDFs download under their original name, with the extension of
    the stored object (rows stored before names were normalised included)."""
    extension = upload.key.rsplit(".", 1)[-1]
    filename = _safe_filename(upload.original_filename, extension) if upload.content_type == "application/pdf" else None
    return signed_object_url(upload.key, filename=filename, expires_in=expires_in)


def signed_file(upload: Upload, signed: SignedUrl | None = None) -> dict[str, Any]:
    """An upload as every answer shows it (``schemas.SignedFileOut``): what it is and a signed URL to read it
    (``signed``, or a fresh one)."""
    signed = signed or signed_url(upload)
    return {"content_type": upload.content_type, "size": upload.size, "sha256": upload.sha256,
            "width": upload.width, "height": upload.height, "pages": upload.pages,
            "url": signed.url, "url_expires_at": shanghai_iso(signed.expires_at)}


def download_url(principal: Principal, upload: Upload) -> SignedUrl:
    """A signed URL for a caller allowed to read the record the upload belongs to; 404 for anyone else."""
    if not may_download(principal, upload):
        raise not_found("文件")
    return signed_url(upload)
