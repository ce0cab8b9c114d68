"""Output schemas of the record kinds' own routes: each kind's list (``GET /canteens/{id}/<kind>``), a record
written (the kinds' ``POST`` and ``POST /records/{id}/amendments``) and a record with its versions
(``GET /records/{id}``, 更正记录), so the OpenAPI document describes them and the clients' types are generated.

A record is the 台账's (:class:`ledger_schemas.LedgerRecordOut`: the envelope, then the optional fields of each
kind) with the fields of the kinds the 台账 does not list: suppliers, the staff register, health certificates,
morning checks and seals. The presenters (``presenters.py``) build the values; these schemas only describe them.
``tests/records/test_kind_schemas.py`` checks that dumping through them keeps every key of every kind.
"""

from __future__ import annotations

from apiflask.fields import Boolean, List, Nested

from backend.fields import Integer, String
from backend.records.ledger_schemas import LedgerRecordOut, TraceCertificateOut, text_or_none
from backend.records.schemas import PresentedOut
from backend.records.seal_schemas import SealReleaseOut


class HeldCertificateOut(PresentedOut):
    """The newest health certificate a person holds, and its state on the day."""

    id = Integer(required=True)
    number = String(required=True)
    valid_until = String(required=True)
    status = String(required=True, metadata={"description": "valid, expiring (within 30 days) or expired"})
    status_label = String(required=True)


class RecordOut(LedgerRecordOut):
    """A record of any kind: the envelope, then the fields of its ``kind`` (the 台账's kinds, and supplier: name,
    licences; staff: post, phone, active, health certificate; health_certificate: holder, validity;
    seal and seal_release: target, reason, authority, release)."""

    name = text_or_none()
    credit_code = text_or_none()
    contact_name = text_or_none()
    phone = text_or_none()
    address = text_or_none()
    certificates = List(Nested(TraceCertificateOut), metadata={"description": "a supplier's licences"})
    post = text_or_none()
    active = Boolean()
    health_certificate = Nested(HeldCertificateOut, allow_none=True)
    certificate_status = String(metadata={"description": "a person's: valid, expiring, expired or missing"})
    staff_name = text_or_none()
    item_id = Integer(allow_none=True)
    seal_id = Integer()
    reason = String()
    authority = String()
    authority_label = String()
    sealed_at = String()
    in_force = Boolean()
    release = Nested(SealReleaseOut, allow_none=True)


class RecordListOut(PresentedOut):
    """A page of a kind's current records, newest first; ``next_cursor`` asks for the next page."""

    items = List(Nested(RecordOut), required=True)
    next_cursor = String(required=True, allow_none=True)


class RecordChangeOut(PresentedOut):
    """A field a correction changed, in the words of the export's tables (``history.Change``)."""

    field = String(required=True, metadata={"description": "the column; 新增 or 删除 for a line added or removed"})
    before = String(required=True)
    after = String(required=True)
    line = String(required=True, allow_none=True,
                  metadata={"description": "the delivery's item, the menu's dish or the checked person"})
    role = String(metadata={"description": "a change of files: their role in both versions' record.files"})


class RecordVersionOut(PresentedOut):
    """One version of a record: who wrote it, why it corrected the one before, what it changed, and the record as
    it was."""

    version_id = Integer(required=True)
    seq = Integer(required=True)
    created_at = String(required=True)
    created_by_id = Integer(required=True, allow_none=True)
    created_by_name = String(required=True, allow_none=True)
    created_by_role_label = String(required=True, allow_none=True)
    amends_version_id = Integer(required=True, allow_none=True)
    reason = String(required=True, allow_none=True)
    hash = String(required=True)
    current = Boolean(required=True)
    changes = List(Nested(RecordChangeOut), required=True)
    record = Nested(RecordOut, required=True)


class RecordDetailOut(RecordOut):
    """A record's current version with every version, oldest first (更正记录)."""

    versions = List(Nested(RecordVersionOut), required=True)
