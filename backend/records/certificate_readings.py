"""Certificate photos read by OCR: a writer of a canteen's records uploads the photo, asks for a reading,
checks and corrects the suggested number, holder and validity, and saves the record naming the reading.
The suggestion is stored when it is made and what was confirmed when the record is saved, so the two can be
compared (per field: how often the person had to correct the reading).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from backend.errors import ApiError
from backend.extensions import db
from backend.files import object_store
from backend.permissions import Action, Principal, require
from backend.records.certificate_fields import READABLE_KINDS
from backend.records.certificate_reader import read_certificate
from backend.records.idempotency import actor_id
from backend.records.models import CertificateReading, RecordEntry, Upload
from backend.schools.models import Canteen

log = logging.getLogger(__name__)

READABLE_TYPES = ("image/jpeg", "image/png", "image/webp")


def read_upload(principal: Principal, upload: Upload, kind: str) -> CertificateReading:
    """Read a ``kind`` certificate from an uploaded photo and keep the suggestion.

    Refused with 422 ``certificate_not_image`` for a PDF and ``certificate_unreadable`` when the photo shows no
    number, holder or validity of that kind (nothing is stored then).
    """
    canteen = db.session.get(Canteen, upload.canteen_id)
    require(principal, Action.RECORDS_WRITE, canteen.school)
    if kind not in READABLE_KINDS:
        raise ApiError(422, "certificate_kind_unreadable", "该证照类型暂不支持识别", {"fields": {"kind": ["不支持"]}})
    if upload.content_type not in READABLE_TYPES:
        raise ApiError(422, "certificate_not_image", "请上传证照照片（JPG、PNG 或 WebP），PDF 暂不支持识别")
    reading = read_certificate(object_store().get(upload.key), kind)
    if not reading.fields.found():
        log.info("certificate unreadable upload=%s kind=%s rows=%d", upload.id, kind, len(reading.rows))
        raise ApiError(422, "certificate_unreadable",
                       "未能从照片中识别出证照信息，请确认照片清晰、完整、无反光后重试，或直接手动填写",
                       {"rows": len(reading.rows)})
    row = CertificateReading(upload_id=upload.id, kind=kind, suggested=reading.fields.as_json(),
                             seconds=round(reading.seconds, 3), read_by_id=actor_id(principal))
    db.session.add(row)
    db.session.commit()
    log.info("certificate read upload=%s kind=%s in %.2fs", upload.id, kind, reading.seconds)
    return row


def reading_for_record(reading_id: int, canteen: Canteen, kind: str, upload_ids: list[int]) -> CertificateReading:
    """The reading a record is being saved from: of this canteen and kind, of one of the record's photos, and
    not yet confirmed by another record. Raises a field error on ``reading_id`` otherwise."""
    reading = db.session.get(CertificateReading, reading_id)
    upload = db.session.get(Upload, reading.upload_id) if reading is not None else None
    if reading is None or upload is None or upload.canteen_id != canteen.id:
        raise _reading_error("certificate_reading_not_found", "识别结果不存在或不属于该食堂")
    if reading.kind != kind:
        raise _reading_error("certificate_reading_kind", "识别结果的证照类型与所填类型不一致")
    if reading.upload_id not in upload_ids:
        raise _reading_error("certificate_reading_photo", "识别所用的照片须作为该证照的扫描件一并提交")
    if reading.entry_id is not None:
        raise _reading_error("certificate_reading_used", "该识别结果已用于另一条记录")
    return reading


def confirm(reading: CertificateReading, entry: RecordEntry, confirmed: dict[str, Any], now: datetime) -> None:
    """Keep what the person saved beside what was suggested (in the record's own transaction)."""
    reading.confirmed = {name: value.isoformat() if hasattr(value, "isoformat") else value
                         for name, value in confirmed.items()}
    reading.entry_id = entry.id
    reading.confirmed_at = now


def _reading_error(code: str, message: str) -> ApiError:
    return ApiError(422, code, message, {"field": "reading_id"})
