"""Records as the API shows them: the record's stable id, its version, amendment, typed fields and files.

Everything is loaded in batch (a constant number of queries per page), and files carry short-lived signed
URLs so the mini-program can show them directly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records import waste_additives
from backend.records.bundle import Bundle, load_bundle
from backend.records.models import (
    CATEGORY_LABELS,
    CERTIFICATE_LABELS,
    CHECK_RESULT_LABELS,
    COMPANION_LABELS,
    KIND_LABELS,
    MEAL_LABELS,
    METHOD_LABELS,
    PERSONAL_KINDS,
    SEAL_KINDS,
    STORAGE_LABELS,
    SYMPTOM_LABELS,
    TARGET_LABELS,
    CheckResult,
    RecordAttachment,
    RecordEntry,
    RecordKind,
    SampleDisposal,
    Supplier,
    SupplierCertificate,
)
from backend.records.sealing import seal_presenter
from backend.records.services import current_items
from backend.records.staff import current_staff, findings, staff_certificates, summary_counts
from backend.records.uploads import signed_file
from backend.records.versions import is_current, logical_id
from backend.timeutil import shanghai_iso

EXPIRING_WITHIN = timedelta(days=30)


def show_date(value: date | None) -> str | None:
    """A calendar day as YYYY-MM-DD."""
    return None if value is None else value.isoformat()


def certificate_status(valid_until: date, on: date) -> str:
    """expired (before ``on``), expiring (within 30 days of ``on``) or valid."""
    if valid_until < on:
        return "expired"
    if valid_until <= on + EXPIRING_WITHIN:
        return "expiring"
    return "valid"


CERT_STATUS_LABELS = {"expired": "已过期", "expiring": "30天内到期", "valid": "有效"}


def present_files(attachments: list[RecordAttachment]) -> dict[str, list[dict[str, Any]]]:
    """Attached files grouped by role, each with a signed URL."""
    files: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for attachment in attachments:
        files[attachment.role].append({"upload_id": attachment.upload.id, **signed_file(attachment.upload)})
    return dict(files)


def envelope(entry: RecordEntry, bundle: Bundle) -> dict[str, Any]:
    """The fields every record has."""
    return {
        "id": entry.record_id, "version_id": entry.id, "kind": entry.kind, "kind_label": KIND_LABELS[entry.kind],
        "canteen_id": entry.canteen_id, "record_date": show_date(entry.record_date),
        "created_at": shanghai_iso(entry.created_at), "created_by_id": entry.created_by_id, "seq": entry.seq,
        "hash": entry.hash,
        "amendment": None if entry.amends_id is None else {"amends_version_id": entry.amends_id,
                                                            "reason": entry.reason},
        "files": present_files(bundle.attachments.get(entry.id, [])),
    }


def suppliers_by_id(canteen_ids: set[int], record_ids: set[int]) -> dict[int, Supplier]:
    """Current supplier rows by supplier record id."""
    if not record_ids:
        return {}
    rows = db.session.execute(select(logical_id(), Supplier).join(Supplier, Supplier.entry_id == RecordEntry.id)
                              .where(RecordEntry.canteen_id.in_(canteen_ids), is_current(),
                                     logical_id().in_(record_ids))).all()
    return dict(rows)


def certificates_of(record_ids: set[int]) -> dict[int, list[tuple[RecordEntry, SupplierCertificate]]]:
    """Current certificates per supplier record id."""
    found: dict[int, list[tuple[RecordEntry, SupplierCertificate]]] = defaultdict(list)
    if not record_ids:
        return found
    rows = db.session.execute(
        select(RecordEntry, SupplierCertificate).join(SupplierCertificate,
                                                      SupplierCertificate.entry_id == RecordEntry.id)
        .where(is_current(), SupplierCertificate.supplier_id.in_(record_ids))
        .order_by(SupplierCertificate.kind, SupplierCertificate.valid_until.desc())).all()
    for entry, certificate in rows:
        found[certificate.supplier_id].append((entry, certificate))
    return found


def present_certificate(entry: RecordEntry, certificate: SupplierCertificate, on: date,
                        files: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """A certificate with its status on a day."""
    status = certificate_status(certificate.valid_until, on)
    return {"id": entry.record_id, "version_id": entry.id, "supplier_id": certificate.supplier_id,
            "kind": certificate.kind, "kind_label": CERTIFICATE_LABELS.get(certificate.kind, certificate.kind),
            "number": certificate.number, "issuer": certificate.issuer,
            "valid_from": show_date(certificate.valid_from), "valid_until": show_date(certificate.valid_until),
            "status": status, "status_label": CERT_STATUS_LABELS[status],
            **({"files": files} if files is not None else {})}


def present_item(item: Any) -> dict[str, Any]:
    """A received item line."""
    return {"item_id": item.logical_id, "line_no": item.line_no, "ingredient": item.ingredient,
            "category": item.category, "category_label": CATEGORY_LABELS.get(item.category, item.category),
            "batch": item.batch, "quantity": item.quantity, "unit": item.unit,
            "production_date": show_date(item.production_date), "shelf_life_days": item.shelf_life_days,
            "expiry_date": show_date(item.expiry_date), "storage": item.storage,
            "storage_label": STORAGE_LABELS.get(item.storage, item.storage),
            "storage_temperature_c": item.storage_temperature_c}


def present_records(entries: list[RecordEntry], on: date) -> list[dict[str, Any]]:
    """Records of any kinds, in the given order, with what each kind needs to be understood."""
    bundle = load_bundle(entries)
    canteen_ids = {e.canteen_id for e in entries}
    supplier_ids = {getattr(bundle.typed[e.id], "supplier_id", None) for e in entries
                    if e.kind in (RecordKind.CERTIFICATE, RecordKind.RECEIVING)} - {None}
    supplier_ids |= {e.record_id for e in entries if e.kind == RecordKind.SUPPLIER}
    suppliers = suppliers_by_id(canteen_ids, supplier_ids)
    certificates = certificates_of({e.record_id for e in entries if e.kind == RecordKind.SUPPLIER})
    linked = [link.item_id for links in bundle.links.values() for link in links]
    items = {}
    for canteen_id in canteen_ids:
        items.update(current_items(canteen_id, linked))
    sample_ids = [e.record_id for e in entries if e.kind == RecordKind.SAMPLE]
    disposals = _disposals(sample_ids)
    grouped = _grouped_presenters(entries, bundle, on)
    out = []
    for entry in entries:
        row = bundle.typed[entry.id]
        data = envelope(entry, bundle)
        kind = entry.kind
        if kind == RecordKind.SUPPLIER:
            data.update(name=row.name, credit_code=row.credit_code, contact_name=row.contact_name, phone=row.phone,
                        address=row.address, remarks=row.remarks,
                        certificates=[present_certificate(e, c, on) for e, c in certificates.get(entry.record_id, [])])
        elif kind == RecordKind.CERTIFICATE:
            data.update(present_certificate(entry, row, on, data["files"]))
            data["supplier_name"] = getattr(suppliers.get(row.supplier_id), "name", None)
        elif kind == RecordKind.RECEIVING:
            supplier_name = getattr(suppliers.get(row.supplier_id), "name", None)
            data.update(supplier_id=row.supplier_id, supplier_name=supplier_name,
                        received_at=shanghai_iso(row.received_at), receiver_name=row.receiver_name, remarks=row.remarks,
                        accepted_expired_reason=row.accepted_expired_reason,
                        items=[present_item(i) for i in bundle.items.get(entry.id, [])])
        elif kind == RecordKind.MENU:
            data.update(service_date=show_date(row.service_date), meal=row.meal, meal_label=MEAL_LABELS[row.meal],
                        remarks=row.remarks, dishes=[
                            {"dish_id": dish.id, "name": dish.name, "category": dish.category, "ingredients": [
                                {"item_id": link.item_id,
                                 "ingredient": items[link.item_id][0].ingredient if link.item_id in items else None,
                                 "batch": items[link.item_id][0].batch if link.item_id in items else None}
                                for link in bundle.links.get(dish.id, [])]}
                            for dish in bundle.dishes.get(entry.id, [])])
        elif kind == RecordKind.DISINFECTION:
            data.update(service_date=show_date(row.service_date), meal=row.meal, meal_label=MEAL_LABELS[row.meal],
                        target=row.target, target_label=TARGET_LABELS[row.target], area_id=row.area_id,
                        target_name=row.target_name, method=row.method, method_label=METHOD_LABELS[row.method],
                        temperature_c=row.temperature_c, minutes=row.minutes,
                        concentration_mg_l=row.concentration_mg_l, item_count=row.item_count,
                        performed_at=shanghai_iso(row.performed_at), operator_name=row.operator_name)
        elif kind == RecordKind.SAMPLE:
            disposal = disposals.get(entry.record_id)
            data.update(present_sample(row), disposal=disposal)
        elif kind == RecordKind.SAMPLE_DISPOSAL:
            data.update(sample_id=row.sample_id, disposed_at=shanghai_iso(row.disposed_at),
                        disposer_name=row.disposer_name, remarks=row.remarks)
        elif kind == RecordKind.ACCOMPANIED_MEAL:
            data.update(present_accompanied(row))
        elif kind in grouped:
            data.update(grouped[kind](entry, row))
        out.append(data)
    return out


def _grouped_presenters(entries: list[RecordEntry], bundle: Bundle, on: date) -> dict[str, Any]:
    """Kind → presenter for the kinds whose module presents them (staff and health, waste and additives, seals),
    each having loaded what its rows refer to at once."""
    groups = [(PERSONAL_KINDS, _personal_presenter(entries, bundle, on)),
              (waste_additives.WASTE_ADDITIVE_KINDS, waste_additives.presenter(entries, bundle)),
              (SEAL_KINDS, seal_presenter(entries))]
    return {kind: present for kinds, present in groups for kind in kinds}


def _personal_presenter(entries: list[RecordEntry], bundle: Bundle, on: date) -> Any:
    """The presenter of staff, health-certificate and morning-check rows, with the names and certificates they
    refer to loaded at once."""
    staff_ids: set[int] = set()
    for entry in entries:
        row = bundle.typed[entry.id]
        if entry.kind == RecordKind.STAFF:
            staff_ids.add(entry.record_id)
        elif entry.kind == RecordKind.HEALTH_CERTIFICATE:
            staff_ids.add(row.staff_id)
        elif entry.kind == RecordKind.MORNING_CHECK:
            staff_ids |= {p.staff_id for p in bundle.persons.get(entry.id, [])}
    members: dict[int, Any] = {}
    for canteen_id in {e.canteen_id for e in entries if e.kind in PERSONAL_KINDS}:
        members.update(current_staff(canteen_id, staff_ids))
    certificates = staff_certificates(staff_ids)

    def newest(staff_id: int, day: date) -> dict[str, Any] | None:
        rows = certificates.get(staff_id)
        if not rows:
            return None
        entry, certificate = rows[0]
        status = certificate_status(certificate.valid_until, day)
        return {"id": entry.record_id, "number": certificate.number, "valid_until": show_date(certificate.valid_until),
                "status": status, "status_label": CERT_STATUS_LABELS[status]}

    def present(entry: RecordEntry, row: Any) -> dict[str, Any]:
        if entry.kind == RecordKind.STAFF:
            held = newest(entry.record_id, on)
            return {"name": row.name, "post": row.post, "phone": row.phone, "active": row.active,
                    "health_certificate": held, "certificate_status": held["status"] if held else "missing"}
        if entry.kind == RecordKind.HEALTH_CERTIFICATE:
            status = certificate_status(row.valid_until, on)
            return {"staff_id": row.staff_id, "staff_name": getattr(members.get(row.staff_id), "name", None),
                    "number": row.number, "issuer": row.issuer, "valid_from": show_date(row.valid_from),
                    "valid_until": show_date(row.valid_until), "status": status,
                    "status_label": CERT_STATUS_LABELS[status]}
        persons = bundle.persons.get(entry.id, [])
        views = []
        for person in persons:
            member, held = members.get(person.staff_id), newest(person.staff_id, row.check_date)
            views.append({"staff_id": person.staff_id, "name": getattr(member, "name", None),
                          "post": getattr(member, "post", None), "temperature_c": person.temperature_c,
                          "hands_ok": person.hands_ok, "symptoms": person.symptom_list,
                          "symptom_labels": [SYMPTOM_LABELS[s] for s in person.symptom_list],
                          "result": person.result, "result_label": CHECK_RESULT_LABELS[person.result],
                          "food_handling": person.result == CheckResult.PASS, "remarks": person.remarks,
                          "certificate_status": held["status"] if held else "missing"})
            views[-1]["findings"] = findings(views[-1])
        return {"check_date": show_date(row.check_date), "checked_at": shanghai_iso(row.checked_at),
                "checker_name": row.checker_name, "remarks": row.remarks, "persons": views,
                "summary": summary_counts(persons),
                "off_food_handling": [v["name"] for v in views if not v["food_handling"]]}

    return present


def present_sample(row: Any) -> dict[str, Any]:
    """A retained sample's fields."""
    return {"service_date": show_date(row.service_date), "meal": row.meal, "meal_label": MEAL_LABELS[row.meal],
            "menu_id": row.menu_id, "dish_name": row.dish_name, "weight_g": row.weight_g,
            "sampled_at": shanghai_iso(row.sampled_at), "sealed": row.sealed,
            "fridge_temperature_c": row.fridge_temperature_c, "sampler_name": row.sampler_name,
            "keep_until": shanghai_iso(row.keep_until)}


def present_accompanied(row: Any) -> dict[str, Any]:
    """An accompanied meal's fields."""
    return {"service_date": show_date(row.service_date), "meal": row.meal, "meal_label": MEAL_LABELS[row.meal],
            "companion_name": row.companion_name, "companion_role": row.companion_role,
            "companion_role_label": COMPANION_LABELS.get(row.companion_role, row.companion_role),
            "rating": row.rating, "remarks": row.remarks}


def _disposals(sample_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not sample_ids:
        return {}
    rows = db.session.execute(
        select(RecordEntry, SampleDisposal).join(SampleDisposal, SampleDisposal.entry_id == RecordEntry.id)
        .where(is_current(), SampleDisposal.sample_id.in_(sample_ids))).all()
    return {d.sample_id: present_disposal(e, d) for e, d in rows}


def present_disposal(entry: RecordEntry, row: SampleDisposal) -> dict[str, Any]:
    """A retained sample's disposal as its sample shows it (``version_id`` differs from ``id`` once corrected)."""
    return {"id": entry.record_id, "version_id": entry.id, "disposed_at": shanghai_iso(row.disposed_at),
            "disposer_name": row.disposer_name, "remarks": row.remarks}
