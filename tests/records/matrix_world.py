"""Records for the permission matrix's ``world``: a supplier record with an attached certificate scan in each
school, so record- and upload-scoped routes have an object to ask about."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from backend.accounts.models import User
from backend.extensions import db
from backend.permissions import load_principal
from backend.records import idempotency
from backend.records.models import RecordKind
from backend.records.services import create_record
from backend.records.uploads import store_upload
from backend.schools.models import Canteen
from tests.records.helpers import jpeg

MATRIX_DAY = "2026-01-05"


def add_records_world(ids: dict[str, dict[str, Any]]) -> None:
    """Add ``record_id``, ``upload_id`` and ``day`` to each school's ids."""
    admin = load_principal(db.session.scalar(select(User).where(User.openid == "demo-admin")))
    for key, values in ids.items():
        canteen = db.session.get(Canteen, values["canteen_id"])
        data = jpeg(color=(len(key) * 20, 10, 10))
        upload = store_upload(admin, canteen, data, "scan.jpg", max_bytes=10 * 1024 * 1024,
                              idempotency_key=f"matrix-upload-{key}",
                              fingerprint=idempotency.fingerprint("u", data)).upload
        supplier = create_record(admin, canteen, RecordKind.SUPPLIER, {"name": f"矩阵供应商{key}"},
                                 idempotency_key=f"matrix-supplier-{key}", fingerprint="s" * 64)
        create_record(admin, canteen, RecordKind.CERTIFICATE, {
            "supplier_id": supplier.record_id, "kind": "business_licence", "number": "M-1", "issuer": None,
            "valid_from": None, "valid_until": date(2030, 1, 1),
            "scan_upload_ids": [upload.id]}, idempotency_key=f"matrix-certificate-{key}", fingerprint="c" * 64)
        values.update(record_id=supplier.record_id, upload_id=upload.id, day=MATRIX_DAY)
