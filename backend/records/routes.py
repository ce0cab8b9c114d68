"""HTTP routes of canteen records, uploads, the day view, verification and export.

Every create takes an ``Idempotency-Key`` header: the same key (per user) returns the first result and
creates nothing twice. Record lists share one shape: ``{"items": [...], "next_cursor": ...}``.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from apiflask import APIBlueprint
from flask import Response, current_app, g, request
from marshmallow import ValidationError

from backend.errors import ApiError, not_found
from backend.extensions import db, limiter
from backend.fields import Date
from backend.files import read_upload
from backend.permissions import Action, current_principal, current_school, record_read_action, require, rule
from backend.records import (
    certificate_readings,
    completeness,
    drafts,
    idempotency,
    queries,
    retention,
    sample_labels,
    schemas,
    sealing,
    services,
    uploads,
    waste_additives,
)
from backend.records.chain import verify_chain
from backend.records.day import DayCache, day_json
from backend.records.export import export_records
from backend.records.kind_schemas import RecordDetailOut, RecordListOut, RecordOut
from backend.records.ledger import canteen_ledger
from backend.records.ledger_schemas import DayViewOut, LedgerOut, RecordDraftOut
from backend.records.meal_windows import shanghai_today
from backend.records.models import RecordEntry, RecordKind, SealRelease, Upload
from backend.records.presenters import present_records
from backend.records.seal_schemas import (
    RemovableListOut,
    RemovableQuery,
    SealIn,
    SealListOut,
    SealOut,
    SealQuery,
    SealReleaseIn,
)
from backend.schools.models import Canteen
from backend.timeutil import shanghai_iso, utcnow
from backend.xlsx import XLSX_RESPONSES, workbook_response

bp = APIBlueprint("records", __name__, tag="食堂记录")




def _today() -> date:
    return shanghai_today(utcnow())


def _idempotency(headers: dict[str, str], endpoint_payload: Any) -> tuple[str, str]:
    """The request's key (checked by ``schemas.IdempotencyHeader``) and the fingerprint of what it sends."""
    return headers["key"], idempotency.fingerprint(f"{request.method} {request.path}", endpoint_payload)


# Every create reads (and documents in OpenAPI) the Idempotency-Key header, before its body is validated.
IDEMPOTENT = bp.input(schemas.IdempotencyHeader, location="headers", arg_name="headers")


def _written(result: services.WriteResult, shown: RecordEntry | None = None) -> tuple[Any, int, dict[str, str]]:
    """201 with the version written (or ``shown``, the record the write is about) and whether the key replayed."""
    entry = shown or db.session.get(RecordEntry, result.version_id)
    body = present_records([entry], _today())[0]
    return body, 201, {"Idempotent-Replayed": "true" if result.replayed else "false"}


# (kind, URL of the kind's list and create routes, create schema, list query schema)
KIND_ROUTES: list[tuple[RecordKind, str, type, type]] = [
    (RecordKind.SUPPLIER, "/canteens/<id:canteen_id>/suppliers", schemas.SupplierIn, schemas.SupplierQuery),
    (RecordKind.CERTIFICATE, "/canteens/<id:canteen_id>/certificates", schemas.CertificateIn,
     schemas.CertificateQuery),
    (RecordKind.RECEIVING, "/canteens/<id:canteen_id>/receivings", schemas.ReceivingIn, schemas.ReceivingQuery),
    (RecordKind.MENU, "/canteens/<id:canteen_id>/menus", schemas.MenuIn, schemas.MealQuery),
    (RecordKind.DISINFECTION, "/canteens/<id:canteen_id>/disinfections", schemas.DisinfectionIn,
     schemas.DisinfectionQuery),
    (RecordKind.SAMPLE, "/canteens/<id:canteen_id>/samples", schemas.SampleIn, schemas.SampleQuery),
    (RecordKind.SAMPLE_DISPOSAL, "/canteens/<id:canteen_id>/sample-disposals", schemas.SampleDisposalIn,
     schemas.DisposalQuery),
    (RecordKind.ACCOMPANIED_MEAL, "/canteens/<id:canteen_id>/accompanied-meals", schemas.AccompaniedMealIn,
     schemas.AccompaniedQuery),
    (RecordKind.STAFF, "/canteens/<id:canteen_id>/staff", schemas.StaffIn, schemas.StaffQuery),
    (RecordKind.HEALTH_CERTIFICATE, "/canteens/<id:canteen_id>/health-certificates", schemas.HealthCertificateIn,
     schemas.HealthCertificateQuery),
    (RecordKind.MORNING_CHECK, "/canteens/<id:canteen_id>/morning-checks", schemas.MorningCheckIn,
     schemas.PageQuery),
    (RecordKind.WASTE_DISPOSAL, "/canteens/<id:canteen_id>/waste-disposals", schemas.WasteDisposalIn,
     schemas.WasteQuery),
    (RecordKind.ADDITIVE_PURCHASE, "/canteens/<id:canteen_id>/additive-purchases", schemas.AdditivePurchaseIn,
     schemas.AdditivePurchaseQuery),
    (RecordKind.ADDITIVE_USE, "/canteens/<id:canteen_id>/additive-uses", schemas.AdditiveUseIn,
     schemas.AdditiveUseQuery),
]


def _register_kind(kind: RecordKind, path: str, create_schema: type, query_schema: type) -> None:
    label = kind.label
    def create(canteen_id: int, body: dict[str, Any], headers: dict[str, str]) -> Any:
        key, fingerprint = _idempotency(headers, request.get_json(silent=True))
        result = services.create_record(current_principal(), db.session.get(Canteen, canteen_id), kind, body,
                                        idempotency_key=key, fingerprint=fingerprint)
        return _written(result)

    def list_view(canteen_id: int, query: dict[str, Any]) -> Any:
        filters = {k: v for k, v in query.items() if k not in ("cursor", "limit")}
        return queries.list_records(canteen_id, kind, filters, cursor=query["cursor"], limit=query["limit"],
                                    on=_today())

    create.__name__, list_view.__name__ = f"create_{kind}", f"list_{kind}"
    create.__doc__ = f"登记{label}\n\n需要 Idempotency-Key 请求头：同一个 Key 重试只会创建一次，并返回第一次的结果。"
    list_view.__doc__ = f"{label}列表\n\n只列出现行版本（更正后的最新版本），按日期倒序，游标分页。"
    bp.post(path, endpoint=f"create_{kind}")(
        rule(Action.RECORDS_WRITE, scope="canteen")(IDEMPOTENT(bp.input(create_schema, arg_name="body")(
            bp.output(RecordOut, status_code=201)(create)))))
    bp.get(path, endpoint=f"list_{kind}")(
        rule(record_read_action(kind), scope="canteen")(bp.input(query_schema, location="query", arg_name="query")(
            bp.output(RecordListOut)(list_view))))


for _kind_route in KIND_ROUTES:
    _register_kind(*_kind_route)


@bp.get("/records/<id:record_id>")
@rule(Action.RECORDS_READ, scope="record")
@bp.output(RecordDetailOut)
def get_record(record_id: int) -> Any:
    """One record (更正记录): its current version and every version, oldest first, each with who wrote it, why it
    corrected the one before and what it changed (``changes``: ``{field, before, after, line}`` in the words of the
    export's tables, ``line`` naming a delivery's item, a menu's dish or a checked person; 新增 / 删除 for a line
    added or removed; a change of files names their ``role``, whose files both versions' ``record.files`` hold).

    Records of people (staff, health certificates, morning checks) only for the school's staff and regulators.
    """
    entry = db.session.get(RecordEntry, record_id)
    require(current_principal(), record_read_action(entry.kind), current_school())
    return queries.record_detail(entry.record_id, _today())


@bp.get("/records/<id:record_id>/label.pdf")
@rule(Action.RECORDS_READ, scope="record")
@bp.doc(responses={200: {"description": "留样标签 PDF（60 × 40 毫米）", "content": {"application/pdf": {}}},
                   422: "不是留样记录", 503: "服务器未安装中文字体"})
def sample_label(record_id: int) -> Any:
    """A retained sample's printable label (留样标签, a 60 × 40 mm PDF): dish, meal, the minute it was taken,
    weight, sampler, kept until, and a QR code that opens the canteen's 台账 of that day in the console.
    422 ``not_a_sample`` for other records."""
    label, filename = sample_labels.sample_label(record_id, request.host_url)
    return Response(sample_labels.label_pdf(label), mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename=sample-label.pdf; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


@bp.get("/records/<id:record_id>/draft")
@rule(Action.RECORDS_WRITE, scope="record")
@bp.output(RecordDraftOut)
def record_draft(record_id: int) -> Any:
    """更正的底稿: the record's current version in the shape its correction takes, with the files it holds.

    For those who may write the canteen's records. 409 as the correction itself would answer when the record
    cannot be corrected: ``record_not_amendable`` for a seal, ``item_sealed`` or ``sample_sealed`` while something
    it holds is sealed.
    """
    current = services.current_version(db.session.get(RecordEntry, record_id).record_id)
    services.check_amendable(current)
    return drafts.record_draft(current)


@bp.post("/records/<id:record_id>/amendments")
@rule(Action.RECORDS_WRITE, scope="record")
@IDEMPOTENT
@bp.input(schemas.AmendmentIn, arg_name="body")
@bp.output(RecordOut, status_code=201)
def amend_record(record_id: int, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """Correct a record: the whole corrected record and the reason; the original stays in the chain.

    Needs an Idempotency-Key header.
    """
    key, fingerprint = _idempotency(headers, request.get_json(silent=True))
    logical = db.session.get(RecordEntry, record_id).record_id
    first = db.session.get(RecordEntry, logical)
    services.check_amendable(first)  # seals are released, never corrected (409 before the body is read)
    schema = schemas.CREATE_SCHEMAS[first.kind]()
    try:
        values = schema.load(body["record"])
    except ValidationError as exc:
        raise ApiError(422, "validation_failed", "请求参数不正确", {"fields": {"record": exc.messages}}) from exc
    result = services.amend_record(current_principal(), logical, values, body["reason"],
                                   expected_version_id=body.get("expected_version_id"), idempotency_key=key,
                                   fingerprint=fingerprint)
    return _written(result)


@bp.post("/canteens/<id:canteen_id>/seals")
@rule(Action.RECORDS_SEAL, scope="canteen")
@IDEMPOTENT
@bp.input(SealIn, arg_name="body")
@bp.output(SealOut, status_code=201)
def create_seal(canteen_id: int, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """封存: seal a received batch (``item``), a retained sample (``sample``) or a kitchen area (``area``), with the
    reason; for the region's regulators and the school's principal. The seal joins the canteen's record chain.

    While it is in force a sealed batch cannot be used in a menu (409 ``item_sealed``), a sealed sample cannot be
    disposed of (409 ``sample_sealed``), the record holding either cannot be corrected, and no disinfection is
    recorded in a sealed area (409 ``area_sealed``). 409 ``already_sealed`` when it is sealed already.
    Needs an Idempotency-Key header.
    """
    key, fingerprint = _idempotency(headers, request.get_json(silent=True))
    result = sealing.seal(current_principal(), db.session.get(Canteen, canteen_id), body, idempotency_key=key,
                          fingerprint=fingerprint)
    return _written(result)


@bp.post("/records/<id:record_id>/release")
@rule(Action.RECORDS_SEAL, scope="record")
@IDEMPOTENT
@bp.input(SealReleaseIn, arg_name="body")
@bp.output(SealOut, status_code=201)
def release_seal(record_id: int, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """解除封存: release a seal (``record_id`` is the seal's id) with the reason; answers the released seal.

    422 ``not_a_seal`` for other records, 409 ``seal_already_released``. Needs an Idempotency-Key header.
    """
    key, fingerprint = _idempotency(headers, request.get_json(silent=True))
    result = sealing.release(current_principal(), record_id, body["reason"], idempotency_key=key,
                             fingerprint=fingerprint)
    release_row = db.session.get(SealRelease, result.version_id)
    return _written(result, db.session.get(RecordEntry, release_row.seal_id))


@bp.get("/canteens/<id:canteen_id>/seals")
@rule(Action.SEALS_READ, scope="canteen")
@bp.input(SealQuery, location="query", arg_name="query")
@bp.output(SealListOut)
def list_seals(canteen_id: int, query: dict[str, Any]) -> Any:
    """The canteen's seals (封存), newest first: ``status`` all, in_force or released; ``target`` item, sample or
    area."""
    in_force = {"all": None, "in_force": True, "released": False}[query["status"]]
    entries = sealing.seal_entries(canteen_id, in_force=in_force, target=query["target"], limit=query["limit"])
    return {"canteen_id": canteen_id, "items": present_records(entries, _today())}


@bp.get("/canteens/<id:canteen_id>/records/removable")
@rule(Action.RECORDS_RETENTION, scope="canteen")
@bp.input(RemovableQuery, location="query", arg_name="query")
@bp.output(RemovableListOut)
def removable_records(canteen_id: int, query: dict[str, Any]) -> Any:
    """The canteen's records past their required keeping time on ``on`` (default today), each with the day it became
    removable, oldest first; for the region's regulators and the school's principal.

    Receiving records: six months after the shelf life ends, two years after receipt without one; other records:
    two years (docs/records-retention.md). Nothing is ever deleted by the platform: this is a report.
    """
    now = utcnow()
    return retention.removable_report(db.session.get(Canteen, canteen_id), query["on"] or shanghai_today(now), now,
                                      limit=query["limit"], offset=query["offset"])


@bp.get("/canteens/<id:canteen_id>/records/verify")
@rule(Action.RECORDS_READ, scope="canteen")
@limiter.limit("10 per minute")
@bp.output(schemas.ChainVerifyOut)
def verify_records(canteen_id: int) -> Any:
    """Recompute the canteen's record chain and report the first broken link (null when intact)."""
    return verify_chain(canteen_id).as_dict()


@bp.get("/canteens/<id:canteen_id>/records/export")
@rule(Action.RECORDS_EXPORT, scope="canteen")
@bp.input(schemas.ExportQuery, location="query", arg_name="query")
@bp.doc(responses=XLSX_RESPONSES)
def export(canteen_id: int, query: dict[str, Any]) -> Any:
    """A canteen's records for a date range as an Excel workbook, one sheet per record type."""
    name, data = export_records(current_principal(), db.session.get(Canteen, canteen_id), query["date_from"],
                                query["date_to"], _today(), utcnow())
    return workbook_response(data, "records.xlsx", name)


@bp.get("/canteens/<id:canteen_id>/ledger")
@rule(Action.LEDGER_READ, scope="canteen")
@bp.input(schemas.LedgerQuery, location="query", arg_name="query")
@bp.output(LedgerOut)
def ledger(canteen_id: int, query: dict[str, Any]) -> Any:
    """A canteen's 台账 for one day (``day``, YYYY-MM-DD), for school staff and regulators.

    ``records`` lists the day's current records per kind (receiving, menu, sample, sample_disposal,
    disinfection, accompanied_meal, waste_disposal, additive_purchase, additive_use) with their files and, for
    a correction, ``amendment``; ``additive_stock`` is the additives' stock at the end of the day; ``trace`` is the
    canteen's menus with dish → ingredient batches (``receivings``) → supplier (``suppliers``, certificates
    with scans); ``certificates`` lists the certificates of every supplier the day names.
    """
    return canteen_ledger(db.session.get(Canteen, canteen_id), query["day"], utcnow())


@bp.get("/canteens/<id:canteen_id>/additive-stock")
@rule(Action.RECORDS_READ, scope="canteen")
@bp.input(schemas.StockQuery, location="query", arg_name="query")
@bp.output(schemas.AdditiveStockOut)
def additive_stock(canteen_id: int, query: dict[str, Any]) -> Any:
    """食品添加剂库存: per additive the batches bought by the end of ``day`` (default today) and what is left of
    each (purchases minus uses, never negative), with the buyers, keepers, issuers and cabinets named on its
    records (五专)."""
    return waste_additives.additive_stock(canteen_id, query["day"] or _today())


@bp.get("/schools/<id:school_id>/today")
@rule(Action.RECORDS_READ, scope="records_day")
@bp.output(DayViewOut)  # documents the answer: the rendered JSON is a Response, which APIFlask passes through
def today(school_id: int) -> Any:
    """Today's menus with dish → ingredient → batch → supplier → certificate, samples, disinfection, completeness.

    Ingredients name their ``receiving_id`` and ``supplier_id``; those are listed once in ``receivings`` and
    ``suppliers`` (with certificates and signed file URLs).
    """
    now = utcnow()
    return _day_response(shanghai_today(now), now)


def _day_cache() -> DayCache:
    cache = current_app.extensions.get("records_day_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("records_day_cache", DayCache())
    return cache


def _day_response(wanted: date, now: Any) -> Response:
    rendered = day_json(g.records_school_snapshot, wanted, now, _day_cache())
    headers = {"Cache-Control": "private, no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(rendered.gzipped, mimetype="application/json", headers=headers)
    return Response(rendered.body, mimetype="application/json", headers=headers)


@bp.get("/schools/<id:school_id>/days/<day>")
@rule(Action.RECORDS_READ, scope="records_day")
@bp.output(DayViewOut)
def day(school_id: int, day: str) -> Any:
    """The same view as ``today`` for any day (YYYY-MM-DD)."""
    try:
        wanted = Date().deserialize(day)  # the API's one day field: YYYY-MM-DD in 2000..2100
    except ValidationError as exc:
        raise ApiError(422, "date_invalid", "日期格式应为 YYYY-MM-DD", {"fields": {"day": exc.messages}}) from exc
    return _day_response(wanted, utcnow())


@bp.get("/regions/<id:region_id>/unreported")
@rule(Action.RECORDS_READ, scope="region")
@bp.input(schemas.UnreportedQuery, location="query", arg_name="query")
@bp.output(schemas.UnreportedOut)
def unreported(region_id: int, query: dict[str, Any]) -> Any:
    """未报送: the region's canteens missing a required record of a day (``day``, default today) after its deadline.

    Required: the morning check (晨检) before the first meal window, and per meal its menu (by the window's
    start), a sample of every dish (by the window's end) and tableware disinfection (two hours after).
    """
    now = utcnow()
    return completeness.unreported(current_school(), query["day"] or shanghai_today(now), now)


@bp.post("/uploads")
@rule(Action.AUTHENTICATED)
@limiter.limit("120 per minute")
@IDEMPOTENT
@bp.input(schemas.UploadIn, location="form_and_files", arg_name="body")
@bp.output(schemas.UploadOut, status_code=201)
def upload(body: dict[str, Any], headers: dict[str, str]) -> Any:
    """Upload a photo or PDF (multipart field ``file``, as ``wx.uploadFile`` sends it) for a canteen's records.

    Accepts JPEG, PNG, WebP and PDF judged by content; images are re-encoded without EXIF/GPS.
    Needs an Idempotency-Key header.
    """
    canteen = db.session.get(Canteen, body["canteen_id"])
    if canteen is None:
        raise not_found("食堂")
    data = read_upload(body["file"])
    key, fingerprint = _idempotency(headers, f"{canteen.id}".encode() + b"\n" + data)
    result = uploads.store_upload(current_principal(), canteen, data, body["file"].filename,
                                  idempotency_key=key, fingerprint=fingerprint)
    return _upload_out(result.upload), 201, {"Idempotent-Replayed": "true" if result.replayed else "false"}


def _upload_out(upload: Upload) -> dict[str, Any]:
    return {"id": upload.id, "canteen_id": upload.canteen_id, "created_at": shanghai_iso(upload.created_at),
            **uploads.signed_file(upload)}


@bp.post("/uploads/<id:upload_id>/certificate-reading")
@rule(Action.RECORDS_WRITE, scope="upload")
@limiter.limit("20 per minute")
@bp.input(schemas.CertificateReadingIn, arg_name="body")
@bp.output(schemas.CertificateReadingOut, status_code=201)
def read_certificate(upload_id: int, body: dict[str, Any]) -> Any:
    """Read a certificate photo offline (OCR) and suggest its number, holder and validity.

    The person checks the suggestion and saves the record with ``reading_id``: the suggestion and what was
    confirmed are both kept. 422 ``certificate_unreadable`` when nothing of that kind is found in the photo,
    ``certificate_not_image`` for a PDF. About a second on one core.
    """
    return certificate_readings.read_upload(current_principal(), db.session.get(Upload, upload_id), body["kind"])


@bp.get("/uploads/<id:upload_id>/url")
@rule(Action.RECORDS_READ, scope="upload")
@bp.output(schemas.UploadUrlOut)
def upload_url(upload_id: int) -> Any:
    """A short-lived signed URL of an upload, for readers of the record it belongs to."""
    upload_row = db.session.get(Upload, upload_id)
    return {"id": upload_row.id, **uploads.signed_file(upload_row, uploads.download_url(current_principal(),
                                                                                     upload_row))}
