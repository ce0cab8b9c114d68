"""A record's current version as the form that corrects it starts from (更正).

``POST /records/<id>/amendments`` takes the whole corrected record in the shape that creates one of its kind.
This module answers that shape for the current version, so a client edits what is stored rather than
rebuilding it from the presented record: sent back unchanged, a draft makes a version whose content is the
same as the one it corrects (tested for every kind).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.records.bundle import Bundle, load_bundle
from backend.records.models import (
    KIND_LABELS,
    AttachmentRole,
    MenuDish,
    RecordEntry,
    RecordKind,
)
from backend.records.presenters import present_files
from backend.records.versions import is_current, of_record
from backend.timeutil import to_shanghai

# Which input field carries the uploads of each attachment role.
UPLOAD_FIELDS = {
    AttachmentRole.SCAN: "scan_upload_ids",
    AttachmentRole.INSPECTION_REPORT: "inspection_report_upload_ids",
    AttachmentRole.INVOICE: "invoice_upload_ids",
    AttachmentRole.PHOTO: "photo_upload_ids",
}
# The upload fields each kind's input takes (a kind whose record holds no file yet still answers an empty list).
KIND_UPLOADS: dict[str, tuple[AttachmentRole, ...]] = {
    RecordKind.CERTIFICATE: (AttachmentRole.SCAN,),
    RecordKind.HEALTH_CERTIFICATE: (AttachmentRole.SCAN,),
    RecordKind.RECEIVING: (AttachmentRole.INSPECTION_REPORT, AttachmentRole.INVOICE),
    RecordKind.DISINFECTION: (AttachmentRole.PHOTO,),
    RecordKind.SAMPLE: (AttachmentRole.PHOTO,),
    RecordKind.ACCOMPANIED_MEAL: (AttachmentRole.PHOTO,),
    RecordKind.WASTE_DISPOSAL: (AttachmentRole.PHOTO,),
}


def _plain(value: Any) -> Any:
    """A stored value as JSON carries it: times in Shanghai with their offset (to the microsecond, so an unchanged
    time is sent back unchanged), days as ISO dates."""
    if isinstance(value, datetime):
        return to_shanghai(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(row: Any, *names: str) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in names}


def _receiving(entry: RecordEntry, row: Any, bundle: Bundle) -> dict[str, Any]:
    items = [{"item_id": item.logical_id, **_columns(
        item, "ingredient", "category", "batch", "quantity", "unit", "production_date", "shelf_life_days",
        "expiry_date", "storage", "storage_temperature_c")} for item in bundle.items.get(entry.id, [])]
    return {**_columns(row, "supplier_id", "received_at", "receiver_name", "remarks", "accepted_expired_reason"),
            "items": items}


def _menu(entry: RecordEntry, row: Any, bundle: Bundle) -> dict[str, Any]:
    dishes = [{"name": dish.name, "category": dish.category,
               "ingredient_item_ids": [link.item_id for link in bundle.links.get(dish.id, [])]}
              for dish in bundle.dishes.get(entry.id, [])]
    return {**_columns(row, "service_date", "meal", "remarks"), "dishes": dishes}


def _current_dish(menu_id: int, name: str) -> int | None:
    """The dish of that name on the menu's current version (None once a correction of the menu dropped it): a
    dish's id changes with each version of its menu, and a new record names one of the current version."""
    return db.session.scalars(
        select(MenuDish.id).join(RecordEntry, RecordEntry.id == MenuDish.entry_id)
        .where(of_record(menu_id), is_current(), MenuDish.name == name).limit(1)).first()


def _sample(entry: RecordEntry, row: Any, bundle: Bundle) -> dict[str, Any]:
    return {"dish_id": _current_dish(row.menu_id, row.dish_name),
            **_columns(row, "weight_g", "sampled_at", "sealed", "fridge_temperature_c", "sampler_name")}


def _additive_use(entry: RecordEntry, row: Any, bundle: Bundle) -> dict[str, Any]:
    dish_id = None
    if row.dish_id is not None:
        dish = db.session.get(MenuDish, row.dish_id)
        dish_id = _current_dish(db.session.get(RecordEntry, dish.entry_id).record_id, dish.name)
    return {"dish_id": dish_id, **_columns(row, "use_date", "meal", "dish_name", "purchase_id", "quantity",
                                           "issuer_name", "user_name", "remarks")}


def _morning_check(entry: RecordEntry, row: Any, bundle: Bundle) -> dict[str, Any]:
    persons = [{**_columns(person, "staff_id", "temperature_c", "hands_ok", "result", "remarks"),
                "symptoms": [s for s in (person.symptoms or "").split(",") if s]}
               for person in bundle.persons.get(entry.id, [])]
    return {**_columns(row, "check_date", "checked_at", "checker_name", "remarks"), "persons": persons}


def _fields(*names: str) -> Callable[[RecordEntry, Any, Bundle], dict[str, Any]]:
    """A kind whose input is columns of its typed row of the same names."""
    return lambda entry, row, bundle: _columns(row, *names)


# Kind → the input fields that are not uploads. The reading of a certificate's photo is not carried: a
# correction is typed by a person, not suggested.
DRAFTERS: dict[str, Callable[[RecordEntry, Any, Bundle], dict[str, Any]]] = {
    RecordKind.SUPPLIER: _fields("name", "credit_code", "contact_name", "phone", "address", "remarks"),
    RecordKind.CERTIFICATE: _fields("supplier_id", "kind", "number", "issuer", "valid_from", "valid_until"),
    RecordKind.RECEIVING: _receiving,
    RecordKind.MENU: _menu,
    RecordKind.DISINFECTION: _fields("service_date", "meal", "target", "area_id", "target_name", "method",
                                     "temperature_c", "minutes", "concentration_mg_l", "item_count", "performed_at",
                                     "operator_name"),
    RecordKind.SAMPLE: _sample,
    RecordKind.SAMPLE_DISPOSAL: _fields("sample_id", "disposed_at", "disposer_name", "remarks"),
    RecordKind.ACCOMPANIED_MEAL: _fields("service_date", "meal", "companion_name", "companion_role", "rating",
                                         "remarks"),
    RecordKind.STAFF: _fields("name", "post", "phone", "active"),
    RecordKind.HEALTH_CERTIFICATE: _fields("staff_id", "number", "issuer", "valid_from", "valid_until"),
    RecordKind.MORNING_CHECK: _morning_check,
    RecordKind.WASTE_DISPOSAL: _fields("disposed_at", "waste_kind", "quantity_kg", "collector_company",
                                       "collector_name", "collector_licence", "staff_id", "remarks"),
    RecordKind.ADDITIVE_PURCHASE: _fields("additive_name", "manufacturer", "batch", "quantity", "unit",
                                          "purchase_date", "expiry_date", "supplier_name", "buyer_name",
                                          "keeper_name", "cabinet", "remarks"),
    RecordKind.ADDITIVE_USE: _additive_use,
}


def record_draft(entry: RecordEntry) -> dict[str, Any]:
    """A record's current version (``entry``) in the shape its amendment takes, with the files it holds.

    ``files`` gives, for each upload field of the kind, the attached files (signed URLs) in order, so a form can
    show them; ``record`` carries their ids in the same fields. Seals and their releases are never corrected
    (409 from ``check_amendable``, which the caller runs first).
    """
    bundle = load_bundle([entry])
    record = DRAFTERS[entry.kind](entry, bundle.typed[entry.id], bundle)
    by_role = present_files(bundle.attachments.get(entry.id, []))
    files = {UPLOAD_FIELDS[role]: by_role.get(role, []) for role in KIND_UPLOADS.get(entry.kind, ())}
    record.update({field: [f["upload_id"] for f in found] for field, found in files.items()})
    return {"record_id": entry.record_id, "version_id": entry.id, "canteen_id": entry.canteen_id, "kind": entry.kind,
            "kind_label": KIND_LABELS[entry.kind], "record_date": entry.record_date.isoformat(),
            "record": record, "files": files}
