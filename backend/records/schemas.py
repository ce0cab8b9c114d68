"""Request schemas of the records API. Times without an offset are read as Asia/Shanghai wall-clock time."""

from __future__ import annotations

import re
from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Float, List, Nested
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, pre_load, validates_schema

from backend.fields import Date, DateTime, Id, Integer, String
from backend.records.certificate_fields import READABLE_KINDS
from backend.records.idempotency import HEADER, parse_key
from backend.records.models import (
    AdditiveUnit,
    CertificateKind,
    CheckResult,
    CompanionRole,
    DisinfectionMethod,
    DisinfectionTarget,
    IngredientCategory,
    Meal,
    StorageCondition,
    Symptom,
    WasteKind,
)

# 统一社会信用代码: 18 characters of digits and capitals without I, O, S, V, Z.
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
MEALS = [m.value for m in Meal]
DISH_CATEGORIES = ["staple", "meat", "vegetable", "mixed", "soup", "dessert", "fruit", "drink", "other"]


def _pattern(regex: re.Pattern[str], message: str) -> Any:
    def check(value: str) -> None:
        if not regex.match(value):
            raise ValidationError(message)
    return check


def _name(required: bool = True, max_length: int = 50) -> String:
    return String(required=required, validate=Length(1, max_length), **({} if required else {"load_default": None}))


def _remarks() -> String:
    return String(load_default=None, allow_none=True, validate=Length(max=500), multiline=True)


def _uploads(minimum: int = 0, maximum: int = 5) -> List:
    presence: dict[str, Any] = {"required": True} if minimum else {"load_default": list}
    return List(Id(), validate=Length(minimum, maximum), **presence)


class SupplierIn(Schema):
    """A supplier of the canteen."""

    name = _name(max_length=100)
    credit_code = String(load_default=None, allow_none=True,
                         validate=_pattern(CREDIT_CODE, "统一社会信用代码应为 18 位数字或大写字母"))
    contact_name = _name(required=False)
    phone = String(load_default=None, allow_none=True, validate=_pattern(PHONE, "电话号码格式不正确"))
    address = String(load_default=None, allow_none=True, validate=Length(max=200))
    remarks = _remarks()


def _reading_id() -> Id:
    return Id(load_default=None, allow_none=True, metadata={
        "description": "由照片识别（POST /uploads/{upload_id}/certificate-reading）预填时，识别结果的 id："
                       "识别建议与最终确认的内容都会保存"})


class CertificateIn(Schema):
    """A supplier's licence or certificate with its scan."""

    supplier_id = Id(required=True)
    kind = String(required=True, validate=OneOf([k.value for k in CertificateKind]))
    number = String(required=True, validate=Length(1, 64))
    issuer = String(load_default=None, allow_none=True, validate=Length(max=100))
    valid_from = Date(load_default=None, allow_none=True)
    valid_until = Date(required=True)
    scan_upload_ids = _uploads(1, 5)
    reading_id = _reading_id()


class ReceivingItemIn(Schema):
    """One line of a delivery."""

    item_id = Id(load_default=None, allow_none=True)  # only in corrections
    ingredient = String(required=True, validate=Length(1, 100))
    category = String(required=True, validate=OneOf([c.value for c in IngredientCategory]))
    batch = String(required=True, validate=Length(1, 64))
    quantity = Float(required=True, validate=Range(min=0, max=1_000_000, min_inclusive=False))
    unit = String(required=True, validate=Length(1, 16))
    production_date = Date(load_default=None, allow_none=True)
    shelf_life_days = Integer(load_default=None, allow_none=True, validate=Range(1, 3650))
    expiry_date = Date(load_default=None, allow_none=True)
    storage = String(load_default=StorageCondition.AMBIENT.value,
                     validate=OneOf([s.value for s in StorageCondition]))
    storage_temperature_c = Float(load_default=None, allow_none=True, validate=Range(-40, 60))


class ReceivingIn(Schema):
    """A delivery checked at the door, with its inspection report and invoice."""

    supplier_id = Id(required=True)
    received_at = DateTime(required=True)
    receiver_name = _name()
    remarks = _remarks()
    items = List(Nested(ReceivingItemIn), required=True, validate=Length(1, 100))
    inspection_report_upload_ids = _uploads(0, 10)
    invoice_upload_ids = _uploads(0, 10)
    accepted_expired_reason = String(load_default=None, allow_none=True, validate=Length(4, 200), metadata={
        "description": "供应商的证照在到货当天已过期时必填：为何仍接收（否则以 supplier_certificate_expired 拒绝）"})


class DishIn(Schema):
    """A dish and the received items it is made of."""

    name = String(required=True, validate=Length(1, 50))
    category = String(load_default=None, allow_none=True, validate=OneOf(DISH_CATEGORIES))
    ingredient_item_ids = List(Id(), required=True, validate=Length(1, 30))


class MenuIn(Schema):
    """The menu of one meal."""

    service_date = Date(required=True)
    meal = String(required=True, validate=OneOf(MEALS))
    remarks = _remarks()
    dishes = List(Nested(DishIn), required=True, validate=Length(1, 30))


class DisinfectionIn(Schema):
    """A disinfection of tableware or an area for a meal."""

    service_date = Date(required=True)
    meal = String(required=True, validate=OneOf(MEALS))
    target = String(required=True, validate=OneOf([t.value for t in DisinfectionTarget]))
    area_id = Id(load_default=None, allow_none=True)
    target_name = String(load_default=None, allow_none=True, validate=Length(1, 100))
    method = String(required=True, validate=OneOf([m.value for m in DisinfectionMethod]))
    temperature_c = Float(load_default=None, allow_none=True, validate=Range(-20, 300))
    minutes = Float(load_default=None, allow_none=True, validate=Range(0, 600))
    concentration_mg_l = Float(load_default=None, allow_none=True, validate=Range(0, 10000))
    item_count = Integer(load_default=None, allow_none=True, validate=Range(1, 100000))
    performed_at = DateTime(load_default=None, allow_none=True)
    operator_name = _name()
    photo_upload_ids = _uploads(1, 5)


class SampleIn(Schema):
    """A retained sample of a dish of a current menu."""

    dish_id = Id(required=True)
    weight_g = Float(required=True, validate=Range(0, 5000))
    sampled_at = DateTime(required=True)
    sealed = Boolean(required=True)
    fridge_temperature_c = Float(required=True, validate=Range(-30, 40))
    sampler_name = _name()
    photo_upload_ids = _uploads(1, 5)


class SampleDisposalIn(Schema):
    """The disposal of a retained sample."""

    sample_id = Id(required=True)
    disposed_at = DateTime(load_default=None, allow_none=True)
    disposer_name = _name()
    remarks = _remarks()


class AccompaniedMealIn(Schema):
    """Someone ate with the students."""

    service_date = Date(required=True)
    meal = String(required=True, validate=OneOf(MEALS))
    companion_name = _name()
    companion_role = String(required=True, validate=OneOf([r.value for r in CompanionRole]))
    rating = Integer(required=True, validate=Range(1, 5))
    remarks = _remarks()
    photo_upload_ids = _uploads(0, 5)


class StaffIn(Schema):
    """A person of the canteen's staff register."""

    name = _name()
    post = String(required=True, validate=Length(1, 50))
    phone = String(load_default=None, allow_none=True, validate=_pattern(PHONE, "电话号码格式不正确"))
    active = Boolean(load_default=True)


class HealthCertificateIn(Schema):
    """A staff member's health certificate with its photo."""

    staff_id = Id(required=True)
    number = String(required=True, validate=Length(1, 64))
    issuer = String(required=True, validate=Length(1, 100))
    valid_from = Date(load_default=None, allow_none=True)
    valid_until = Date(required=True)
    scan_upload_ids = _uploads(1, 5)
    reading_id = _reading_id()


class MorningCheckPersonIn(Schema):
    """One person at the morning check."""

    staff_id = Id(required=True)
    temperature_c = Float(required=True, validate=Range(34, 43, error="体温应在 34–43°C 之间"))
    hands_ok = Boolean(required=True)
    symptoms = List(String(validate=OneOf([s.value for s in Symptom], error="未知的症状")), load_default=list,
                    validate=Length(max=len(Symptom)))
    result = String(load_default=None, allow_none=True, validate=OneOf([r.value for r in CheckResult]))
    remarks = String(load_default=None, allow_none=True, validate=Length(max=200))


class MorningCheckIn(Schema):
    """The day's morning check (晨检): every person present."""

    check_date = Date(required=True)
    checked_at = DateTime(load_default=None, allow_none=True)
    checker_name = _name()
    remarks = _remarks()
    persons = List(Nested(MorningCheckPersonIn), required=True, validate=Length(1, 200))


class WasteDisposalIn(Schema):
    """Food waste, waste oil or other waste handed over to a collector (餐厨废弃物台账)."""

    disposed_at = DateTime(required=True)
    waste_kind = String(required=True, validate=OneOf([k.value for k in WasteKind], error="未知的废弃物种类"),
                        metadata={"description": "food_waste 餐厨垃圾, waste_oil 废弃油脂, other 其他"})
    quantity_kg = Float(required=True, validate=Range(0, 10000, min_inclusive=False,
                                                      error="数量应大于 0 且不超过 10000 千克"))
    collector_company = _name(max_length=100)
    collector_name = _name()
    collector_licence = String(load_default=None, allow_none=True, validate=Length(1, 64),
                               metadata={"description": "收运单位的许可证号或收运协议编号"})
    staff_id = Id(required=True, metadata={"description": "交接人：本食堂从业人员记录的编号"})
    remarks = _remarks()
    photo_upload_ids = _uploads(0, 5)


class AdditivePurchaseIn(Schema):
    """A batch of a food additive bought and put in the additive cabinet (专人采购, 专人保管, 专柜存放)."""

    additive_name = _name(max_length=100)
    manufacturer = _name(max_length=100)
    batch = String(required=True, validate=Length(1, 64))
    quantity = Float(required=True, validate=Range(0, 100000, min_inclusive=False,
                                                   error="数量应大于 0 且不超过 100000"))
    unit = String(required=True, validate=OneOf([u.value for u in AdditiveUnit], error="未知的单位"),
                  metadata={"description": "g 克, kg 千克, ml 毫升, l 升"})
    purchase_date = Date(required=True)
    expiry_date = Date(load_default=None, allow_none=True)
    supplier_name = _name(max_length=100)
    buyer_name = _name()
    keeper_name = _name()
    cabinet = _name(max_length=100)
    remarks = _remarks()


class AdditiveUseIn(Schema):
    """An amount of one additive batch used for a dish (专人领用): the dish from the menu or by name."""

    use_date = Date(required=True)
    meal = String(required=True, validate=OneOf(MEALS))
    dish_id = Id(load_default=None, allow_none=True, metadata={"description": "该日该餐次菜单中的菜品"})
    dish_name = String(load_default=None, allow_none=True, validate=Length(1, 100))
    purchase_id = Id(required=True, metadata={"description": "所用批次：食品添加剂采购记录的编号"})
    quantity = Float(required=True, validate=Range(0, 100000, min_inclusive=False,
                                                   error="用量应大于 0 且不超过 100000"))
    issuer_name = _name()
    user_name = _name()
    remarks = _remarks()


class AmendmentIn(Schema):
    """A correction: the whole corrected record, and why."""

    reason = String(required=True, validate=Length(2, 500), multiline=True)
    expected_version_id = Id(load_default=None, allow_none=True)
    record = Dict(required=True)  # validated against the record kind's own schema by the route


class UploadIn(Schema):
    """A file sent by ``wx.uploadFile`` (field ``file``) for a canteen's records."""

    file = File(required=True)
    canteen_id = Id(required=True)


class CertificateReadingIn(Schema):
    """Which kind of certificate the photo shows."""

    kind = String(required=True, validate=OneOf(list(READABLE_KINDS)), metadata={
        "description": "business_licence 营业执照, food_business_licence 食品经营许可证, "
                       "food_production_licence 食品生产许可证, health_certificate 健康证明"})


class CertificateFieldsOut(Schema):
    """The fields read from the photo (null where nothing was found), for the person to check."""

    number = String(allow_none=True)
    holder = String(allow_none=True)
    valid_from = String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    valid_until = String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    issuer = String(allow_none=True)
    long_term = Boolean(metadata={"description": "有效期为“长期”"})
    scores = Dict(keys=String(), values=Float(), metadata={"description": "每个字段的识别置信度（0–1）"})


class CertificateReadingOut(Schema):
    """A reading: save the record with ``reading_id`` so what was confirmed is kept beside the suggestion."""

    id = Integer(required=True)
    upload_id = Integer(required=True)
    kind = String(required=True)
    suggested = Nested(CertificateFieldsOut, required=True)
    seconds = Float(required=True, metadata={"description": "识别耗时（秒）"})


class IdempotencyHeader(Schema):
    """The ``Idempotency-Key`` header of every create: a retry with the same key creates nothing twice."""

    key = String(required=True, data_key=HEADER, metadata={
        "description": "8 到 128 位字母、数字或 -_:.；同一个 Key 重试只会创建一次，并返回第一次的结果"})

    @pre_load
    def _parse(self, data: Any, **kwargs: Any) -> dict[str, str]:
        # The header's own 400 (idempotency_key_required / _invalid), not a generic 422: clients branch on it.
        value = data.get(HEADER)  # webargs answers ``missing`` (not None) for an absent header
        return {HEADER: parse_key(value if isinstance(value, str) else None)}


class PageQuery(Schema):
    """Cursor paging and the day range shared by every list."""

    cursor = String(load_default=None, validate=Length(1, 100))
    limit = Integer(load_default=20, validate=Range(1, 100))
    date_from = Date(load_default=None, data_key="from")
    date_to = Date(load_default=None, data_key="to")

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("开始日期不能晚于结束日期", "from")


class SupplierQuery(PageQuery):
    """Filters of the supplier list."""

    q = String(load_default=None, validate=Length(1, 50))


class CertificateQuery(PageQuery):
    """Filters of the certificate list."""

    supplier_id = Id(load_default=None)
    status = String(load_default=None, validate=OneOf(["valid", "expiring", "expired"]))


class ReceivingQuery(PageQuery):
    """Filters of the receiving list."""

    supplier_id = Id(load_default=None)
    ingredient = String(load_default=None, validate=Length(1, 50))
    batch = String(load_default=None, validate=Length(1, 64))


class MealQuery(PageQuery):
    """Filter by meal."""

    meal = String(load_default=None, validate=OneOf(MEALS))


class DisinfectionQuery(MealQuery):
    """Filters of the disinfection list."""

    target = String(load_default=None, validate=OneOf([t.value for t in DisinfectionTarget]))


class SampleQuery(MealQuery):
    """Filters of the sample list."""

    disposed = Boolean(load_default=None)


class DisposalQuery(PageQuery):
    """Filters of the sample-disposal list."""

    sample_id = Id(load_default=None)


class AccompaniedQuery(MealQuery):
    """Filters of the accompanied-meal list."""

    companion_role = String(load_default=None, validate=OneOf([r.value for r in CompanionRole]))


class StaffQuery(PageQuery):
    """Filters of the staff register."""

    q = String(load_default=None, validate=Length(1, 50))
    active = Boolean(load_default=None)


class HealthCertificateQuery(PageQuery):
    """Filters of the health-certificate list (``expiring``: within 30 days)."""

    staff_id = Id(load_default=None)
    status = String(load_default=None, validate=OneOf(["valid", "expiring", "expired"]))


class WasteQuery(PageQuery):
    """Filters of the waste ledger."""

    waste_kind = String(load_default=None, validate=OneOf([k.value for k in WasteKind]))


class AdditivePurchaseQuery(PageQuery):
    """Filters of the additive purchases."""

    q = String(load_default=None, validate=Length(1, 100))


class AdditiveUseQuery(MealQuery):
    """Filters of the additive uses."""

    purchase_id = Id(load_default=None)


class StockQuery(Schema):
    """The day whose closing stock to show (default: today in Asia/Shanghai)."""

    day = Date(load_default=None)


class PresentedOut(Schema):
    """An output schema of the presenters' dicts, read by key only: a key the dict does not have is left out,
    where marshmallow would fall back to the dict's attribute of that name (``items`` is ``dict.items``)."""

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """The value under ``attr``, or ``default`` (left out of the dump) when the dict has no such key."""
        if isinstance(obj, dict):
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)

    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        """A dict is dumped by its own keys: a record's schema declares the fields of every kind and a record holds
        one kind's, so walking the dict's keys rather than the schema's fields does a fraction of the work
        (``bench/record_schemas.py``: about 0.4 of the time)."""
        if many or not isinstance(obj, dict):
            return super()._serialize(obj, many=many)
        fields = self.dump_fields
        dumped = self.dict_class()
        for key in obj:
            field = fields.get(key)
            if field is not None:
                dumped[field.data_key or key] = field.serialize(key, obj, accessor=self.get_attribute)
        return dumped


class SignedFileOut(PresentedOut):
    """A stored photo or PDF and a short-lived signed URL to read it (``uploads.signed_file``)."""

    content_type = String(required=True, metadata={
        "description": "image/jpeg, image/png, image/webp or application/pdf, judged by content"})
    size = Integer(required=True)
    sha256 = String(required=True)
    width = Integer(required=True, allow_none=True)
    height = Integer(required=True, allow_none=True)
    pages = Integer(required=True, allow_none=True, metadata={"description": "a PDF's page count"})
    url = String(required=True)
    url_expires_at = String(required=True)


class RecordRefOut(PresentedOut):
    """A record's stable id and the version shown."""

    id = Integer(required=True)
    version_id = Integer(required=True)


class RecordEnvelopeOut(RecordRefOut):
    """The chain fields every record has (``presenters.envelope``; its amendment and files are the ledger's)."""

    kind = String(required=True)
    kind_label = String(required=True)
    canteen_id = Integer(required=True)
    record_date = String(required=True, allow_none=True)
    created_at = String(required=True)
    created_by_id = Integer(required=True, allow_none=True)
    seq = Integer(required=True)
    hash = String(required=True)


class UploadUrlOut(SignedFileOut):
    """An upload and a short-lived signed URL to read it."""

    id = Integer(required=True)


class UploadOut(UploadUrlOut):
    """A stored upload (images re-encoded without EXIF/GPS) and the canteen whose records it may join."""

    canteen_id = Integer(required=True)
    created_at = String(required=True)


class ChainHeadOut(Schema):
    """The newest link of a canteen's chain."""

    seq = Integer(required=True)
    hash = String(required=True)


class BrokenLinkOut(Schema):
    """Where a canteen's chain first breaks, and how (``chain.PROBLEM_MESSAGES``)."""

    seq = Integer(required=True)
    entry_id = Integer(required=True, allow_none=True)
    kind = String(required=True, allow_none=True)
    problem = String(required=True, metadata={
        "description": "seq_gap, prev_hash_mismatch, hash_mismatch, record_missing or head_mismatch"})
    message = String(required=True)


class ChainVerifyOut(Schema):
    """A canteen's record chain recomputed (``chain.VerifyResult``): intact, or its first broken link."""

    canteen_id = Integer(required=True)
    ok = Boolean(required=True)
    checked = Integer(required=True, metadata={"description": "how many records were checked"})
    head = Nested(ChainHeadOut, required=True)
    first_broken = Nested(BrokenLinkOut, required=True, allow_none=True)


class AdditiveBatchOut(Schema):
    """A batch of an additive and what is left of it."""

    purchase_id = Integer(required=True)
    batch = String(required=True)
    manufacturer = String(required=True)
    purchase_date = String(required=True)
    expiry_date = String(allow_none=True, required=True)
    quantity = Float(required=True)
    used = Float(required=True)
    remaining = Float(required=True)
    keeper_name = String(required=True)
    cabinet = String(required=True)


class AdditiveStockItemOut(Schema):
    """One additive (name and unit): bought, used and left, per batch."""

    additive_name = String(required=True)
    unit = String(required=True)
    unit_label = String(required=True)
    purchased = Float(required=True)
    used = Float(required=True)
    remaining = Float(required=True)
    batches = List(Nested(AdditiveBatchOut), required=True)


class DedicatedOut(Schema):
    """The people and cabinets of the "five dedicated" rule (五专) named on the records: one of each is expected."""

    buyers = List(String(), required=True)
    keepers = List(String(), required=True)
    issuers = List(String(), required=True)
    cabinets = List(String(), required=True)


class AdditiveStockOut(Schema):
    """The canteen's food-additive stock at the end of a day."""

    date = String(required=True)
    additives = List(Nested(AdditiveStockItemOut), required=True)
    dedicated = Nested(DedicatedOut, required=True)


class DayQuery(Schema):
    """Which day to show (default: today in Asia/Shanghai)."""

    date = Date(load_default=None)


class UnreportedQuery(Schema):
    """The day of the 未报送 list (default: today in Asia/Shanghai)."""

    day = Date(load_default=None)


class MissingRecordOut(Schema):
    """One record a canteen owes and has not made after its deadline."""

    record = String(required=True, metadata={"description": "morning_check, menu, samples or disinfection"})
    record_label = String(required=True)
    meal = String(allow_none=True)
    meal_label = String(allow_none=True)
    deadline = String(required=True, metadata={"description": "ISO 8601, +08:00"})


class UnreportedCanteenOut(Schema):
    """A canteen of the region with what it has not reported."""

    school_id = Integer(required=True)
    school_name = String(allow_none=True)
    canteen_id = Integer(required=True)
    canteen_name = String(required=True)
    missing = List(Nested(MissingRecordOut), required=True)


class UnreportedOut(Schema):
    """未报送: the region's canteens missing a required record of the day after its deadline."""

    region_id = Integer(required=True)
    date = String(required=True)
    generated_at = String(required=True)
    total = Integer(required=True, metadata={"description": "the region's canteens"})
    reported = Integer(required=True, metadata={"description": "those missing nothing"})
    canteens = List(Nested(UnreportedCanteenOut), required=True)


class ExportQuery(Schema):
    """The day range of an export (inclusive)."""

    date_from = Date(required=True, data_key="from")
    date_to = Date(required=True, data_key="to")


class LedgerQuery(Schema):
    """The day of a canteen's ledger."""

    day = Date(required=True)


CREATE_SCHEMAS: dict[str, type[Schema]] = {
    "supplier": SupplierIn,
    "certificate": CertificateIn,
    "receiving": ReceivingIn,
    "menu": MenuIn,
    "disinfection": DisinfectionIn,
    "sample": SampleIn,
    "sample_disposal": SampleDisposalIn,
    "accompanied_meal": AccompaniedMealIn,
    "staff": StaffIn,
    "health_certificate": HealthCertificateIn,
    "morning_check": MorningCheckIn,
    "waste_disposal": WasteDisposalIn,
    "additive_purchase": AdditivePurchaseIn,
    "additive_use": AdditiveUseIn,
}
