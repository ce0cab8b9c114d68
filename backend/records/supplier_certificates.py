"""Which of a supplier's licences count: the newest of each kind (a renewed licence replaces the old one).

Read by the receiving rule at the door (:mod:`backend.records.services`) and the nightly record rules
(:mod:`backend.records.compliance_rules`); it imports only models, so both can.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from backend.extensions import db
from backend.records.models import RecordEntry, SupplierCertificate
from backend.records.versions import is_current


def newest_certificates(supplier_ids: set[int]) -> dict[tuple[int, str], date]:
    """The end of validity of each supplier's newest certificate of each kind: (supplier, kind) → valid until
    (current versions only)."""
    rows = db.session.execute(
        select(SupplierCertificate.supplier_id, SupplierCertificate.kind, func.max(SupplierCertificate.valid_until))
        .join(RecordEntry, RecordEntry.id == SupplierCertificate.entry_id)
        .where(is_current(), SupplierCertificate.supplier_id.in_(supplier_ids))
        .group_by(SupplierCertificate.supplier_id, SupplierCertificate.kind))
    return {(supplier_id, kind): valid_until for supplier_id, kind, valid_until in rows}
