"""The output schema of ``GET /canteens/{id}/ledger`` (``backend/records/ledger.py``), so the OpenAPI document
describes the 台账 and the console's types are generated from it.

The shapes are the ones the record presenters (``backend/records/presenters.py``) and the day view
(``backend/records/day.py``) build; the schemas only describe them: every value is already JSON (times as
Asia/Shanghai ISO strings, days as YYYY-MM-DD). A record list holds several kinds, so a record
(:class:`LedgerRecordOut`) has the envelope every record has and, optional, the fields of each kind.
``tests/records/test_ledger_schema.py`` checks that dumping through these schemas keeps every key.
"""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, List, Nested

from backend.fields import Integer, String
from backend.parent_meals.schemas import DayOpinionOut
from backend.records.schemas import AdditiveStockOut, PresentedOut, RecordEnvelopeOut, RecordRefOut, SignedFileOut
from backend.records.seal_schemas import SealOut


def text_or_none() -> String:
    """A text field that may be null."""
    return String(allow_none=True)


class FileOut(SignedFileOut):
    """A stored photo or PDF of a record, with a short-lived signed URL."""

    upload_id = Integer()


def _files(description: str = "files by role (photo, scan, invoice, inspection_report)") -> Dict:
    return Dict(keys=String(), values=List(Nested(FileOut)), metadata={"description": description})


class RecordDraftOut(PresentedOut):
    """A record's current version in the shape ``POST /records/{record_id}/amendments`` takes (更正).

    Sent back unchanged as ``record`` (with a reason and ``expected_version_id`` = ``version_id``), it makes a
    version with the same content."""

    record_id = Integer()
    version_id = Integer(metadata={"description": "the version a correction amends: send it as expected_version_id"})
    canteen_id = Integer(metadata={"description": "the canteen whose record it is (new photos are uploaded for it)"})
    kind = String()
    kind_label = String()
    record_date = String()
    record = Dict(metadata={"description": "the fields of the kind's create request, upload ids included"})
    files = _files("the files of each upload field of ``record`` (e.g. photo_upload_ids), in order")


class AmendmentOut(PresentedOut):
    """What a correcting version amends, and why."""

    amends_version_id = Integer()
    reason = text_or_none()


class ItemOut(PresentedOut):
    """A received item line (ingredient and batch)."""

    item_id = Integer()
    line_no = Integer()
    ingredient = String()
    category = String()
    category_label = String()
    batch = String()
    quantity = Float()
    unit = String()
    production_date = text_or_none()
    shelf_life_days = Integer(allow_none=True)
    expiry_date = text_or_none()
    storage = String()
    storage_label = String()
    storage_temperature_c = Float(allow_none=True)


class MenuIngredientOut(PresentedOut):
    """A dish's ingredient as the menu names it (the batch it was cooked from)."""

    item_id = Integer()
    ingredient = text_or_none()
    batch = text_or_none()


class MenuDishOut(PresentedOut):
    """A dish of a menu record."""

    dish_id = Integer()
    name = String()
    category = text_or_none()
    ingredients = List(Nested(MenuIngredientOut))


class DisposalBriefOut(PresentedOut):
    """When and by whom a retained sample was disposed of (the disposal's record; corrected when ``version_id`` is
    not ``id``)."""

    id = Integer()
    version_id = Integer()
    disposed_at = String()
    disposer_name = String()
    remarks = String(allow_none=True)


class SampleFields(PresentedOut):
    """A retained sample (留样)."""

    service_date = text_or_none()
    meal = String()
    meal_label = String()
    menu_id = Integer(allow_none=True)
    dish_name = String()
    weight_g = Float()
    sampled_at = String()
    sealed = Boolean()
    fridge_temperature_c = Float()
    sampler_name = String()
    keep_until = String()
    disposal = Nested(DisposalBriefOut, allow_none=True)


class AccompaniedFields(PresentedOut):
    """An accompanied meal (陪餐)."""

    service_date = text_or_none()
    meal = String()
    meal_label = String()
    companion_name = String()
    companion_role = String()
    companion_role_label = String()
    rating = Integer()
    remarks = text_or_none()


class DisinfectionFields(PresentedOut):
    """A disinfection (消毒)."""

    target = String()
    target_label = String()
    target_name = text_or_none()
    method = String()
    method_label = String()
    temperature_c = Float(allow_none=True)
    minutes = Float(allow_none=True)
    concentration_mg_l = Float(allow_none=True)
    item_count = Integer(allow_none=True)
    performed_at = String()
    operator_name = String()


class CertificateFields(PresentedOut):
    """A supplier's certificate and its status on the ledger's day."""

    supplier_id = Integer()
    number = String()
    issuer = text_or_none()
    valid_from = text_or_none()
    valid_until = String()
    status = String(metadata={"description": "valid, expiring (within 30 days) or expired"})
    status_label = String()


class WasteFields(PresentedOut):
    """Waste handed over to a collector (餐厨废弃物)."""

    disposed_at = String()
    waste_kind = String(metadata={"description": "food_waste, waste_oil or other"})
    waste_kind_label = String()
    quantity_kg = Float()
    collector_company = String()
    collector_name = String()
    collector_licence = text_or_none()
    staff_id = Integer()
    handover_name = String()


class AdditiveFields(PresentedOut):
    """A food additive's purchase (a batch: 专人采购, 专人保管, 专柜存放) or use (专人领用)."""

    additive_name = text_or_none()
    manufacturer = String()
    batch = text_or_none()
    quantity = Float()
    unit = text_or_none()
    unit_label = text_or_none()
    purchase_date = String()
    expiry_date = text_or_none()
    supplier_name = text_or_none()
    buyer_name = String()
    keeper_name = String()
    cabinet = String()
    used = Float(metadata={"description": "a purchase: how much of the batch its current uses took"})
    remaining = Float()
    use_date = String()
    dish_id = Integer(allow_none=True)
    purchase_id = Integer()
    issuer_name = String()
    user_name = String()


class CheckedPersonOut(PresentedOut):
    """A person of a morning check (晨检): what was found, and whether they may handle food that day."""

    staff_id = Integer(required=True)
    name = text_or_none()
    post = text_or_none()
    temperature_c = Float(required=True)
    hands_ok = Boolean(required=True)
    symptoms = List(String(), required=True)
    symptom_labels = List(String(), required=True)
    result = String(required=True, metadata={"description": "pass or fail"})
    result_label = String(required=True)
    food_handling = Boolean(required=True)
    findings = List(String(), required=True, metadata={
        "description": "what keeps the person off food handling: a fever, symptoms, hands not fit (empty: none)"})
    remarks = text_or_none()
    certificate_status = String(required=True, metadata={"description": "valid, expiring, expired or missing"})


class MorningCheckFields(PresentedOut):
    """A morning check (晨检): who checked whom, and who may not handle food that day."""

    check_date = String()
    checked_at = String()
    checker_name = String()
    persons = List(Nested(CheckedPersonOut))
    summary = Dict(keys=String(), values=Integer(), metadata={"description": "checked, passed and failed"})
    off_food_handling = List(String(), metadata={"description": "who may not handle food today"})


class LedgerRecordOut(RecordEnvelopeOut, MorningCheckFields, SampleFields, AccompaniedFields, DisinfectionFields,
                      CertificateFields, WasteFields, AdditiveFields):
    """A record of the day: the envelope, then the fields of its ``kind`` (morning_check: persons, counts;
    receiving: supplier, items; menu: meal, dishes; sample; sample_disposal; disinfection; accompanied_meal; a
    certificate: number, validity; waste_disposal; additive_purchase; additive_use)."""

    amendment = Nested(AmendmentOut, allow_none=True, metadata={"description": "set when the record is a correction"})
    files = _files()
    received_at = String()
    receiver_name = String()
    accepted_expired_reason = String(allow_none=True, metadata={
        "description": "a delivery accepted although a licence of its supplier had expired: why"})
    items = List(Nested(ItemOut))
    dishes = List(Nested(MenuDishOut))
    sample_id = Integer()
    disposed_at = String()
    disposer_name = String()
    area_id = Integer(allow_none=True)


class TraceSampleOut(RecordRefOut, SampleFields):
    """A dish's retained sample in the trace."""

    files = _files()


class TraceIngredientOut(ItemOut):
    """A dish's ingredient batch: the receiving it came from and its supplier's certificate status, or
    ``missing`` when the batch is not among the canteen's current receivings."""

    missing = Boolean()
    receiving_id = Integer()
    supplier_id = Integer()
    certificate_status = String(metadata={"description": "valid, expiring, expired or missing"})


class TraceDishOut(MenuDishOut):
    """A dish of the menu with its ingredients traced: traceable when every ingredient has a supplier with valid
    certificates."""

    ingredients = List(Nested(TraceIngredientOut))
    traceable = Boolean()
    sample = Nested(TraceSampleOut, allow_none=True)


class TraceMenuOut(RecordRefOut):
    """A meal's menu version."""

    remarks = text_or_none()
    amendment = Nested(AmendmentOut, allow_none=True)
    dishes = List(Nested(TraceDishOut))


class MealWindowOut(PresentedOut):
    """A meal's window on the day."""

    start = String()
    end = String()
    scheduled = Boolean()


class DeadlineStatusOut(PresentedOut):
    """A record of the day against its deadline (``day.STATUS_LABELS``: done, pending, missing, not_applicable)."""

    status = String()
    status_label = String()
    deadline = String()


class SamplesStatusOut(DeadlineStatusOut):
    """Whether every dish of the meal was sampled by the deadline."""

    required = Integer()
    taken = Integer()
    missing_dishes = List(String())


class TraceDisinfectionRecordOut(RecordRefOut, DisinfectionFields):
    """A disinfection of the meal."""

    files = _files()


class DisinfectionStatusOut(DeadlineStatusOut):
    """Whether the tableware was disinfected by the deadline, with the meal's disinfections."""

    records = List(Nested(TraceDisinfectionRecordOut))


class TraceAccompaniedOut(RecordRefOut, AccompaniedFields):
    """An accompanied meal of the meal."""

    files = _files()


class TraceMealOut(PresentedOut):
    """One meal of the day with its menu's trace and the statuses of the day view."""

    meal = String()
    meal_label = String()
    window = Nested(MealWindowOut)
    menu_status = String()
    menu = Nested(TraceMenuOut, allow_none=True)
    samples = Nested(SamplesStatusOut)
    disinfection = Nested(DisinfectionStatusOut)
    accompanied_meals = List(Nested(TraceAccompaniedOut))
    complete = Boolean()


class CompletenessOut(PresentedOut):
    """How many of the day's meals have all their records."""

    meals = Integer()
    complete = Integer()
    percent = Integer(allow_none=True)


class MorningCheckStatusOut(DeadlineStatusOut):
    """The day's morning check (晨检): its status against the deadline (none without a meal that day) and its
    counts (no names, no health data)."""

    deadline = String(allow_none=True)
    checked_at = String(allow_none=True)
    checked = Integer()
    passed = Integer()
    failed = Integer()


class TraceOut(PresentedOut):
    """The canteen's day view: its meals with the trace."""

    id = Integer()
    name = String()
    meals = List(Nested(TraceMealOut))
    completeness = Nested(CompletenessOut)
    morning_check = Nested(MorningCheckStatusOut)
    parent_meals = List(Nested(DayOpinionOut))


class TraceReceivingOut(RecordRefOut):
    """A receiving an ingredient batch came from."""

    supplier_id = Integer()
    received_at = String()
    receiver_name = String()
    files = _files()


class TraceCertificateOut(RecordRefOut, CertificateFields):
    """A supplier's certificate with its scans."""

    kind = String()
    kind_label = String()
    files = _files()


class TraceSupplierOut(PresentedOut):
    """A supplier of the day's batches, with its certificates."""

    id = Integer()
    name = text_or_none()
    credit_code = text_or_none()
    certificate_status = String()
    certificates = List(Nested(TraceCertificateOut))


class LedgerSealsOut(PresentedOut):
    """The canteen's seals (封存) as the 台账 shows them."""

    in_force = List(Nested(SealOut), metadata={"description": "every seal in force now, newest first"})
    of_day = List(Nested(SealOut), metadata={"description": "seals made or released on the day, oldest first"})


class SchoolDayOut(PresentedOut):
    """A school's day as the day view (``records/day.py``) and the 台账 both give it: the deliveries and the
    suppliers its ingredients name, each listed once."""

    school_id = Integer()
    school_name = String()
    date = String()
    generated_at = String()
    receivings = Dict(keys=String(), values=Nested(TraceReceivingOut),
                      metadata={"description": "by receiving id (the trace's ingredients name them)"})
    suppliers = Dict(keys=String(), values=Nested(TraceSupplierOut), metadata={"description": "by supplier id"})


class DayViewOut(SchoolDayOut):
    """The day view (``GET /schools/{id}/today``, ``/schools/{id}/days/{day}``): each canteen's meals with
    dish → ingredient → batch → supplier → certificates, samples, disinfection, accompanied meals, the morning
    check's counts and the parents' opinions. Served as the rendered JSON (cached); this schema describes it."""

    canteens = List(Nested(TraceOut))


class LedgerOut(SchoolDayOut):
    """A canteen's 台账 for one day (``backend/records/ledger.py``)."""

    canteen_id = Integer()
    canteen_name = String()
    amendments = Integer(metadata={"description": "how many of the day's records are corrections"})
    records = Dict(keys=String(), values=List(Nested(LedgerRecordOut)), metadata={
        "description": "by kind: morning_check, receiving, menu, sample, sample_disposal, disinfection, "
                   "accompanied_meal, waste_disposal, additive_purchase, additive_use"})
    trace = Nested(TraceOut)
    certificates = Dict(keys=String(), values=List(Nested(LedgerRecordOut)),
                        metadata={"description": "by supplier id: the certificates of every supplier the day names"})
    additive_stock = Nested(AdditiveStockOut, metadata={
        "description": "食品添加剂 stock at the end of the day, per additive and batch, and the 五专 names"})
    seals = Nested(LedgerSealsOut)


def _always_present(*schemas: type[Schema], fields: tuple[str, ...] = ()) -> None:
    """Mark the fields every answer has as required, so the generated types need no ``undefined`` checks
    (an output schema's ``required`` only documents: dumping does not validate)."""
    for schema in schemas:
        for name, field in schema._declared_fields.items():
            if not fields or name in fields:
                field.required = True


_always_present(FileOut, AmendmentOut, MenuDishOut, TraceDishOut, TraceMenuOut, MealWindowOut, DeadlineStatusOut,
                SamplesStatusOut, DisinfectionStatusOut, MorningCheckStatusOut, TraceMealOut, CompletenessOut, TraceOut,
                TraceReceivingOut, TraceSupplierOut, LedgerSealsOut, SchoolDayOut, DayViewOut, LedgerOut)
_always_present(LedgerRecordOut, fields=("files", "amendment"))
_always_present(TraceIngredientOut, fields=("item_id", "missing"))
