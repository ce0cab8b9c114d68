"""Canteen records: an append-only, hash-chained ledger per canteen, the typed rows behind each entry,
uploads and the idempotency keys of create requests.

Every record is a :class:`RecordEntry` (its place in the canteen's chain) plus one typed row that shares
its primary key. Rows are never updated or deleted by the application: a correction is a new entry of the
same kind whose ``amends_id`` points at the version it corrects and whose ``reason`` says why. The record's
stable public id (its "logical id") is the id of its first version: ``coalesce(root_id, id)``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backend.db_types import DefaultNow, IntPK, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db
from backend.schools.models import Meal


class RecordKind(LabelledStrEnum):
    """The kinds of record kept for a canteen."""

    SUPPLIER = "supplier", "供应商"
    CERTIFICATE = "certificate", "供应商证照"
    RECEIVING = "receiving", "进货查验记录"
    MENU = "menu", "菜单"
    DISINFECTION = "disinfection", "消毒记录"
    SAMPLE = "sample", "留样记录"
    SAMPLE_DISPOSAL = "sample_disposal", "留样处置记录"
    ACCOMPANIED_MEAL = "accompanied_meal", "陪餐记录"
    STAFF = "staff", "从业人员"
    HEALTH_CERTIFICATE = "health_certificate", "健康证"
    MORNING_CHECK = "morning_check", "晨检记录"
    WASTE_DISPOSAL = "waste_disposal", "餐厨废弃物处置记录"
    ADDITIVE_PURCHASE = "additive_purchase", "食品添加剂采购记录"
    ADDITIVE_USE = "additive_use", "食品添加剂使用记录"
    SEAL = "seal", "封存记录"
    SEAL_RELEASE = "seal_release", "解除封存记录"


# Kinds that carry people's personal and health data: only the school's staff and regulators read them
# (``permissions.record_read_action``); parents see the day's morning-check counts, never these rows.
PERSONAL_KINDS = frozenset({RecordKind.STAFF, RecordKind.HEALTH_CERTIFICATE, RecordKind.MORNING_CHECK})


KIND_LABELS: dict[str, str] = RecordKind.labels()
# Seals (封存) and their releases: written by the region's regulators and the school's principal
# (``records/sealing.py``), read by the school's staff and regulators; never corrected, only released.
SEAL_KINDS = frozenset({RecordKind.SEAL, RecordKind.SEAL_RELEASE})


class SealTarget(LabelledStrEnum):
    """What a seal (封存) holds: a received batch, a retained sample or a kitchen area."""

    ITEM = "item", "食品批次"
    SAMPLE = "sample", "留样"
    AREA = "area", "场所区域"


class SealAuthority(LabelledStrEnum):
    """In which capacity someone sealed or released."""

    REGULATOR = "regulator", "监管部门"
    PRINCIPAL = "principal", "校长"
    ADMIN = "admin", "平台管理员"




MEAL_LABELS = Meal.labels()
MEAL_ORDER = {Meal.BREAKFAST: 0, Meal.LUNCH: 1, Meal.SNACK: 2, Meal.DINNER: 3}


class CertificateKind(LabelledStrEnum):
    """Licences and certificates a supplier shows (索证)."""

    BUSINESS_LICENCE = "business_licence", "营业执照"
    FOOD_BUSINESS_LICENCE = "food_business_licence", "食品经营许可证"
    FOOD_PRODUCTION_LICENCE = "food_production_licence", "食品生产许可证"
    ANIMAL_QUARANTINE = "animal_quarantine", "动物检疫合格证明"
    OTHER = "other", "其他证明"


CERTIFICATE_LABELS = CertificateKind.labels()


class IngredientCategory(LabelledStrEnum):
    """Categories of received food."""

    GRAIN = "grain", "粮食"
    OIL = "oil", "食用油"
    MEAT = "meat", "畜肉"
    POULTRY = "poultry", "禽肉"
    AQUATIC = "aquatic", "水产品"
    EGG = "egg", "蛋类"
    DAIRY = "dairy", "乳制品"
    VEGETABLE = "vegetable", "蔬菜"
    FRUIT = "fruit", "水果"
    SOY = "soy", "豆制品"
    SEASONING = "seasoning", "调味品"
    FROZEN = "frozen", "速冻食品"
    OTHER = "other", "其他"


CATEGORY_LABELS = IngredientCategory.labels()
# Fresh produce has no production date or printed shelf life; everything else must say when it expires.
FRESH_PRODUCE = frozenset({IngredientCategory.VEGETABLE, IngredientCategory.FRUIT})


class StorageCondition(LabelledStrEnum):
    """How a received item is kept."""

    AMBIENT = "ambient", "常温"
    CHILLED = "chilled", "冷藏"
    FROZEN = "frozen", "冷冻"


STORAGE_LABELS = StorageCondition.labels()


class DisinfectionTarget(LabelledStrEnum):
    """What was disinfected."""

    TABLEWARE = "tableware", "餐饮具"
    AREA = "area", "场所"


TARGET_LABELS = DisinfectionTarget.labels()


class DisinfectionMethod(LabelledStrEnum):
    """Disinfection methods of the 餐饮服务食品安全操作规范."""

    STEAM = "steam", "蒸汽消毒"
    BOILING = "boiling", "煮沸消毒"
    INFRARED = "infrared", "红外线消毒柜"
    DISHWASHER = "dishwasher", "洗碗机消毒"
    CHEMICAL = "chemical", "含氯消毒剂浸泡"
    ULTRAVIOLET = "ultraviolet", "紫外线消毒"


METHOD_LABELS = DisinfectionMethod.labels()


class CompanionRole(LabelledStrEnum):
    """Who ate with the students (陪餐)."""

    SCHOOL_LEADER = "school_leader", "学校负责人"
    PARENT = "parent", "家长代表"


COMPANION_LABELS = CompanionRole.labels()


class Symptom(LabelledStrEnum):
    """What a morning check (晨检) looks for: any of them keeps the person off food handling that day."""

    FEVER = "fever", "发热"
    DIARRHOEA = "diarrhoea", "腹泻"
    VOMITING = "vomiting", "呕吐"
    JAUNDICE = "jaundice", "黄疸"
    SORE_THROAT = "sore_throat", "咽痛"
    COUGH = "cough", "咳嗽"
    SKIN_WOUND = "skin_wound", "皮肤伤口或感染"
    SKIN_DISEASE = "skin_disease", "手部皮肤病"


SYMPTOM_LABELS = Symptom.labels()


class CheckResult(LabelledStrEnum):
    """The outcome of one person's morning check."""

    PASS = "pass", "合格"
    FAIL = "fail", "不合格（当日不得从事接触食品工作）"


CHECK_RESULT_LABELS = CheckResult.labels()


class WasteKind(LabelledStrEnum):
    """What a canteen hands over to a licensed collector (餐厨废弃物)."""

    FOOD_WASTE = "food_waste", "餐厨垃圾"
    WASTE_OIL = "waste_oil", "废弃油脂"
    OTHER = "other", "其他"


WASTE_KIND_LABELS = WasteKind.labels()


class AdditiveUnit(LabelledStrEnum):
    """The unit a food additive is bought, kept and weighed out in."""

    GRAM = "g", "克"
    KILOGRAM = "kg", "千克"
    MILLILITRE = "ml", "毫升"
    LITRE = "l", "升"


ADDITIVE_UNIT_LABELS = AdditiveUnit.labels()


class AttachmentRole(LabelledStrEnum):
    """What an attached upload is to its record."""

    SCAN = "scan", "扫描件"
    INSPECTION_REPORT = "inspection_report", "检验报告"
    INVOICE = "invoice", "票据"
    PHOTO = "photo", "照片"


# A reference to a record entry, indexed: a child row's version (items, dishes, persons, attachments), or another
# record by its logical id (the id of its first version: a certificate's supplier, a sample's menu …).
EntryRef = Annotated[int, mapped_column(ForeignKey("record_entry.id"), index=True)]


class RecordEntry(db.Model):
    """One link of a canteen's record chain.

    ``hash`` is sha256 over the previous entry's hash and the canonical serialisation of this entry and its
    typed row, children and attachments (see ``backend.records.chain``).
    """

    __tablename__ = "record_entry"
    __table_args__ = (
        UniqueConstraint("canteen_id", "seq"),
        Index("ix_record_entry_canteen_kind_date", "canteen_id", "kind", "record_date"),
    )

    id: Mapped[IntPK]
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    # The Asia/Shanghai day the record is about: filters, exports and the day view use it.
    record_date: Mapped[date] = mapped_column(Date)
    # First version of the record (NULL on the first version itself): the record's stable public id.
    root_id: Mapped[EntryRef | None]
    # The version this entry corrects. Unique: a version is corrected at most once, so versions never fork.
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("record_entry.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[DefaultNow]
    created_by_id: Mapped[UserRef | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def record_id(self) -> int:
        """The record's stable public id (the id of its first version)."""
        return self.root_id or self.id


class RecordChainHead(db.Model):
    """The last link of a canteen's chain; locked while appending so the chain never forks.

    It also lets verification notice entries deleted from the end of the chain.
    """

    __tablename__ = "record_chain_head"

    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[DefaultNow]


class Upload(db.Model):
    """A file uploaded for a canteen's records, checked by content and stored in the object store."""

    __tablename__ = "upload"

    id: Mapped[IntPK]
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"), index=True)
    uploader_id: Mapped[UserRef] = mapped_column(index=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # What the phone sent, before images were re-encoded without their metadata.
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_size: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[DefaultNow]


class RecordAttachment(db.Model):
    """An upload attached to one version of a record (certificate scan, invoice, photo …)."""

    __tablename__ = "record_attachment"
    __table_args__ = (UniqueConstraint("entry_id", "role", "position"),)

    id: Mapped[IntPK]
    entry_id: Mapped[EntryRef]
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)

    upload: Mapped[Upload] = relationship()


class IdempotencyKey(db.Model):
    """The first result of a create request, per user and ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[IntPK]
    user_id: Mapped[UserRef]
    key: Mapped[str] = mapped_column(String(128))
    # sha256 of the endpoint and the request body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[DefaultNow] = mapped_column(index=True)


class TypedRow:
    """The typed row of one record version: it shares its primary key with its :class:`RecordEntry`."""

    # First in the table, as every typed table was created (mixin columns otherwise follow the class's own).
    entry_id: Mapped[int] = mapped_column(ForeignKey("record_entry.id"), primary_key=True, sort_order=-1)


class Supplier(TypedRow, db.Model):
    """A supplier of the canteen."""

    __tablename__ = "record_supplier"

    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    remarks: Mapped[str | None] = mapped_column(Text)


class SupplierCertificate(TypedRow, db.Model):
    """A supplier's licence or certificate with its validity."""

    __tablename__ = "record_certificate"

    # Logical id of the supplier record.
    supplier_id: Mapped[EntryRef]
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class ReceivingRecord(TypedRow, db.Model):
    """A delivery checked at the door (索证索票)."""

    __tablename__ = "record_receiving"

    supplier_id: Mapped[EntryRef]
    received_at: Mapped[datetime]
    receiver_name: Mapped[str] = mapped_column(String(50))
    remarks: Mapped[str | None] = mapped_column(Text)
    # Why the goods were accepted although a licence of the supplier had expired on the day (none otherwise).
    accepted_expired_reason: Mapped[str | None] = mapped_column(Text)

    CHAIN_ADDED_COLUMNS = frozenset({"accepted_expired_reason"})


class ReceivingItem(db.Model):
    """One line of a delivery. ``origin_item_id`` ties corrected versions of a line to its first version."""

    __tablename__ = "record_receiving_item"
    __table_args__ = (UniqueConstraint("entry_id", "line_no"),)

    id: Mapped[IntPK]
    entry_id: Mapped[EntryRef]
    line_no: Mapped[int] = mapped_column(Integer)
    origin_item_id: Mapped[int | None] = mapped_column(ForeignKey("record_receiving_item.id"), index=True)
    ingredient: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    batch: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    production_date: Mapped[date | None] = mapped_column(Date)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    storage: Mapped[str] = mapped_column(String(16))
    storage_temperature_c: Mapped[float | None] = mapped_column(Float)

    @property
    def logical_id(self) -> int:
        """The id of the line's first version, which dishes link to."""
        return self.origin_item_id or self.id


class Menu(TypedRow, db.Model):
    """The menu of one meal of one day."""

    __tablename__ = "record_menu"

    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    remarks: Mapped[str | None] = mapped_column(Text)


class MenuDish(db.Model):
    """A dish of a menu version."""

    __tablename__ = "record_menu_dish"
    __table_args__ = (UniqueConstraint("entry_id", "position"),)

    id: Mapped[IntPK]
    entry_id: Mapped[EntryRef]
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    category: Mapped[str | None] = mapped_column(String(16))


class DishIngredient(db.Model):
    """A dish uses a received item (by the item's logical id): dish → ingredient → batch → supplier."""

    __tablename__ = "record_dish_ingredient"
    __table_args__ = (UniqueConstraint("dish_id", "item_id"),)

    id: Mapped[IntPK]
    dish_id: Mapped[int] = mapped_column(ForeignKey("record_menu_dish.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("record_receiving_item.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class DisinfectionLog(TypedRow, db.Model):
    """Disinfection of tableware or an area for a meal."""

    __tablename__ = "record_disinfection"

    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("kitchen_area.id"))
    target_name: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(16))
    temperature_c: Mapped[float | None] = mapped_column(Float)
    minutes: Mapped[float | None] = mapped_column(Float)
    concentration_mg_l: Mapped[float | None] = mapped_column(Float)
    item_count: Mapped[int | None] = mapped_column(Integer)
    performed_at: Mapped[datetime]
    operator_name: Mapped[str] = mapped_column(String(50))


class SampleLog(TypedRow, db.Model):
    """A retained food sample (留样, GB 31654-2021): ≥125 g, sealed, 0–8 °C, kept ≥48 h."""

    __tablename__ = "record_sample"

    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    # Logical id of the menu record and the dish's name: a corrected menu keeps its samples.
    menu_id: Mapped[EntryRef]
    dish_name: Mapped[str] = mapped_column(String(50))
    weight_g: Mapped[float] = mapped_column(Float)
    sampled_at: Mapped[datetime]
    sealed: Mapped[bool] = mapped_column(Boolean)
    fridge_temperature_c: Mapped[float] = mapped_column(Float)
    sampler_name: Mapped[str] = mapped_column(String(50))
    keep_until: Mapped[datetime]


class SampleDisposal(TypedRow, db.Model):
    """The disposal of a retained sample, no earlier than its ``keep_until``."""

    __tablename__ = "record_sample_disposal"

    sample_id: Mapped[EntryRef]
    disposed_at: Mapped[datetime]
    disposer_name: Mapped[str] = mapped_column(String(50))
    remarks: Mapped[str | None] = mapped_column(Text)


class AccompaniedMeal(TypedRow, db.Model):
    """Someone ate with the students (陪餐) and said how it was."""

    __tablename__ = "record_accompanied_meal"

    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    companion_name: Mapped[str] = mapped_column(String(50))
    companion_role: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int] = mapped_column(Integer)
    remarks: Mapped[str | None] = mapped_column(Text)


class StaffMember(TypedRow, db.Model):
    """A person on the canteen's staff register (从业人员): name, post and phone.

    Someone who leaves is amended to ``active = False``: the register keeps them for the records they appear in.
    """

    __tablename__ = "record_staff"

    name: Mapped[str] = mapped_column(String(50))
    post: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean)


class HealthCertificate(TypedRow, db.Model):
    """A staff member's health certificate (健康证) with its validity; its photo is an attachment."""

    __tablename__ = "record_health_certificate"

    # Logical id of the staff record.
    staff_id: Mapped[EntryRef]
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class MorningCheck(TypedRow, db.Model):
    """The day's morning check (晨检) of the canteen's staff, due before the first meal window."""

    __tablename__ = "record_morning_check"

    check_date: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime]
    checker_name: Mapped[str] = mapped_column(String(50))
    remarks: Mapped[str | None] = mapped_column(Text)


class MorningCheckPerson(db.Model):
    """One person of a morning check version: temperature, hands, symptoms and the result."""

    __tablename__ = "record_morning_check_person"
    __table_args__ = (UniqueConstraint("entry_id", "position"),)

    id: Mapped[IntPK]
    entry_id: Mapped[EntryRef]
    position: Mapped[int] = mapped_column(Integer)
    # Logical id of the staff record.
    staff_id: Mapped[EntryRef]
    temperature_c: Mapped[float] = mapped_column(Float)
    hands_ok: Mapped[bool] = mapped_column(Boolean)
    # Symptom codes (``Symptom``), sorted and comma-separated: the chain hashes them as one plain value.
    symptoms: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))
    remarks: Mapped[str | None] = mapped_column(Text)

    @property
    def symptom_list(self) -> list[str]:
        """The symptom codes as a list."""
        return [code for code in self.symptoms.split(",") if code]


class WasteDisposal(TypedRow, db.Model):
    """Food waste or waste oil handed over to a collector (餐厨废弃物台账): what, how much, to whom, by whom."""

    __tablename__ = "record_waste_disposal"

    disposed_at: Mapped[datetime]
    waste_kind: Mapped[str] = mapped_column(String(16))
    quantity_kg: Mapped[float] = mapped_column(Float)
    collector_company: Mapped[str] = mapped_column(String(100))
    collector_name: Mapped[str] = mapped_column(String(50))
    # The collector's licence or the canteen's collection agreement (收运许可证号/协议编号).
    collector_licence: Mapped[str | None] = mapped_column(String(64))
    # Logical id of the staff record of the person who handed it over, and their name at the time.
    staff_id: Mapped[EntryRef]
    handover_name: Mapped[str] = mapped_column(String(50))
    remarks: Mapped[str | None] = mapped_column(Text)


class AdditivePurchase(TypedRow, db.Model):
    """A batch of a food additive bought and put in the additive cabinet (食品添加剂“五专”: 专人采购, 专人保管,
    专柜存放); its uses draw it down (``records.additives``)."""

    __tablename__ = "record_additive_purchase"

    additive_name: Mapped[str] = mapped_column(String(100))
    manufacturer: Mapped[str] = mapped_column(String(100))
    batch: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(8))
    purchase_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    supplier_name: Mapped[str] = mapped_column(String(100))
    buyer_name: Mapped[str] = mapped_column(String(50))
    keeper_name: Mapped[str] = mapped_column(String(50))
    cabinet: Mapped[str] = mapped_column(String(100))
    remarks: Mapped[str | None] = mapped_column(Text)


class AdditiveUse(TypedRow, db.Model):
    """An additive weighed out of the cabinet for a dish (专人领用): which batch, how much, issued and used by whom."""

    __tablename__ = "record_additive_use"

    use_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    # The menu dish it went into (when chosen from the menu) and the dish's name.
    dish_id: Mapped[int | None] = mapped_column(ForeignKey("record_menu_dish.id"))
    dish_name: Mapped[str] = mapped_column(String(100))
    # Logical id of the purchase record (the batch) it was taken from.
    purchase_id: Mapped[EntryRef]
    quantity: Mapped[float] = mapped_column(Float)
    issuer_name: Mapped[str] = mapped_column(String(50))
    user_name: Mapped[str] = mapped_column(String(50))
    remarks: Mapped[str | None] = mapped_column(Text)


class Seal(TypedRow, db.Model):
    """A seal (封存) of one received batch (by the item's logical id), retained sample (by its record id) or
    kitchen area, with the reason; in force until a :class:`SealRelease` names it."""

    __tablename__ = "record_seal"

    target: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("record_receiving_item.id"), index=True)
    sample_id: Mapped[EntryRef | None]
    area_id: Mapped[int | None] = mapped_column(ForeignKey("kitchen_area.id"), index=True)
    # What the seal holds, as it was named when sealed (the batch, the dish, the area).
    target_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(16))


class SealRelease(TypedRow, db.Model):
    """The release (解除封存) of a seal (by the seal's record id), with the reason."""

    __tablename__ = "record_seal_release"

    seal_id: Mapped[int] = mapped_column(ForeignKey("record_entry.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(16))


TYPED_MODELS: dict[str, type[Any]] = {
    RecordKind.SUPPLIER: Supplier,
    RecordKind.CERTIFICATE: SupplierCertificate,
    RecordKind.RECEIVING: ReceivingRecord,
    RecordKind.MENU: Menu,
    RecordKind.DISINFECTION: DisinfectionLog,
    RecordKind.SAMPLE: SampleLog,
    RecordKind.SAMPLE_DISPOSAL: SampleDisposal,
    RecordKind.ACCOMPANIED_MEAL: AccompaniedMeal,
    RecordKind.STAFF: StaffMember,
    RecordKind.HEALTH_CERTIFICATE: HealthCertificate,
    RecordKind.MORNING_CHECK: MorningCheck,
    RecordKind.WASTE_DISPOSAL: WasteDisposal,
    RecordKind.ADDITIVE_PURCHASE: AdditivePurchase,
    RecordKind.ADDITIVE_USE: AdditiveUse,
    RecordKind.SEAL: Seal,
    RecordKind.SEAL_RELEASE: SealRelease,
}

# Rows the application only ever inserts.
APPEND_ONLY_MODELS: tuple[type[Any], ...] = (
    *TYPED_MODELS.values(), ReceivingItem, MenuDish, DishIngredient, MorningCheckPerson, RecordAttachment, Upload,
    RecordEntry)


class AppendOnlyViolation(RuntimeError):
    """Code tried to change or delete a record row: corrections must be amendments."""


NEW_ENTRIES_KEY = "records_new_entries"


def _refuse_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Refuse UPDATE and DELETE of record rows through the ORM.

    The only exception is filling in the hash of an entry created in the same transaction (its hash covers
    child rows whose ids exist only after the first flush).
    """
    new_entries = session.info.get(NEW_ENTRIES_KEY, set())
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY_MODELS):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only")
    for obj in session.dirty:
        if not isinstance(obj, APPEND_ONLY_MODELS) or not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, RecordEntry) and id(obj) in new_entries:
            continue
        raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only; record an amendment instead")


def _forget_new_entries(session: Session, *args: Any) -> None:
    session.info.pop(NEW_ENTRIES_KEY, None)


if not event.contains(Session, "before_flush", _refuse_changes):
    event.listen(Session, "before_flush", _refuse_changes)
    event.listen(Session, "after_commit", _forget_new_entries)
    event.listen(Session, "after_rollback", _forget_new_entries)


class CertificateReading(db.Model):
    """What OCR read from a certificate photo (the suggestion), and what the person confirmed when the record
    was saved: both are kept, so how often readings are right (and where they go wrong) can be measured."""

    __tablename__ = "certificate_reading"

    id: Mapped[IntPK]
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    suggested: Mapped[dict[str, Any]] = mapped_column(JSON)
    seconds: Mapped[float] = mapped_column(Float)
    read_by_id: Mapped[UserRef]
    created_at: Mapped[DefaultNow]
    # Set when a record is saved from this reading: the fields as confirmed, and the record version.
    confirmed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    entry_id: Mapped[EntryRef | None]
    confirmed_at: Mapped[datetime | None]
