"""Helpers of the records tests: files made in memory, and a client kit that writes records over HTTP."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, datetime, timedelta
from typing import Any

from PIL import Image, ImageCms, PngImagePlugin

from backend.timeutil import SHANGHAI, utcnow

API = "/api/v1"


def jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30), exif: bytes | None = None,
         quality: int = 90) -> bytes:
    """A real JPEG, optionally with EXIF."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


def gps_exif() -> bytes:
    """EXIF with a GPS position (West Lake, Hangzhou), a camera model and an orientation."""
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam X"       # Model
    exif[0x0112] = 1                  # Orientation
    exif[0x8825] = {1: "N", 2: (30.0, 14.0, 44.0), 3: "E", 4: (120.0, 8.0, 51.0)}  # GPSInfo
    return exif.tobytes()


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    """A real PNG."""
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 200, 255)).save(out, format="PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (32, 32)) -> bytes:
    """A real WebP."""
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 20)).save(out, format="WEBP")
    return out.getvalue()


def pdf() -> bytes:
    """A real one-page PDF (Pillow writes a plain, script-free document)."""
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (255, 255, 255)).save(out, format="PDF")
    return out.getvalue()


PAYLOAD_NAME = b"payload-marker-7f3a.txt"
ZIP_SIGNATURE = b"PK\x03\x04"
HIDDEN_COLOR = (200, 30, 30)


def zip_payload() -> bytes:
    """A real (stored, uncompressed) ZIP archive: what was found riding in an ICC profile."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(PAYLOAD_NAME.decode(), "#!/bin/sh\necho owned\n")
    return out.getvalue()


def hiding_places(kind: str) -> dict[str, bytes]:
    """Images of ``kind`` (jpeg, png, webp) carrying :func:`zip_payload` in each place that kind can hold it:
    the ICC profile (alone, and after a valid sRGB profile), EXIF, XMP, comments or text chunks, and after the
    image's end."""
    payload = zip_payload()
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    fmt = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}[kind]
    options: dict[str, dict[str, Any]] = {"icc_profile": {"icc_profile": payload},
                                          "icc_profile_after_srgb": {"icc_profile": srgb + payload},
                                          "exif": {"exif": payload}, "xmp": {"xmp": payload}}
    if kind == "jpeg":
        options["comment"] = {"comment": payload}
    if kind == "png":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", payload.decode("latin-1"))
        text.add_itxt("Description", payload.decode("latin-1"), zip=False)
        options["text_chunks"] = {"pnginfo": text}
        del options["xmp"]  # Pillow writes PNG XMP only as an iTXt chunk: the text chunks above
    options["after_end"] = {}
    images = {}
    for place, extra in options.items():
        out = io.BytesIO()
        Image.new("RGB", (40, 30), HIDDEN_COLOR).save(out, format=fmt, **extra)
        images[place] = out.getvalue() + (payload if place == "after_end" else b"")
    return images


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF of the given object bodies, numbered from 1 (object 1 is the catalog), with a correct xref table.

    Built by hand so a test controls every byte: hostile structures no PDF library would write.
    """
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def at(day: date, hhmm: str) -> datetime:
    """An Asia/Shanghai wall-clock time on a day."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=SHANGHAI)


def today() -> date:
    """Today in Asia/Shanghai."""
    return utcnow().astimezone(SHANGHAI).date()


class Kit:
    """Writes and reads records over HTTP as one user (a fresh Idempotency-Key per call unless given)."""

    def __init__(self, client: Any, headers: dict[str, str], canteen_id: int = 1) -> None:
        self.client = client
        self.headers = headers
        self.canteen_id = canteen_id

    def post(self, url: str, body: dict[str, Any], key: str | None = None, expect: int | None = 201) -> Any:
        headers = {**self.headers, "Idempotency-Key": key or uuid.uuid4().hex}
        response = self.client.post(API + url, json=_jsonable(body), headers=headers)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response

    def get(self, url: str, expect: int | None = 200, **params: Any) -> Any:
        response = self.client.get(API + url, headers=self.headers, query_string=params)
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response

    def upload(self, data: bytes | None = None, filename: str = "photo.jpg", key: str | None = None,
               expect: int | None = 201, canteen_id: int | None = None, content_type: str = "image/jpeg") -> Any:
        headers = {**self.headers, "Idempotency-Key": key or uuid.uuid4().hex}
        form = {"canteen_id": str(canteen_id or self.canteen_id),
                "file": (io.BytesIO(jpeg() if data is None else data), filename, content_type)}
        response = self.client.post(API + "/uploads", data=form, headers=headers, content_type="multipart/form-data")
        if expect is not None:
            assert response.status_code == expect, response.get_json()
        return response

    def photo(self) -> int:
        return self.upload().get_json()["id"]

    def create(self, segment: str, body: dict[str, Any], **kwargs: Any) -> Any:
        return self.post(f"/canteens/{self.canteen_id}/{segment}", body, **kwargs)

    def supplier(self, name: str = "杭州绿源蔬菜配送有限公司", **extra: Any) -> int:
        return self.create("suppliers", {"name": name, "credit_code": "91330106MA27XB3K1A", **extra}).get_json()["id"]

    def certificate(self, supplier_id: int, valid_until: date, kind: str = "food_business_licence",
                    **kwargs: Any) -> Any:
        return self.create("certificates", {"supplier_id": supplier_id, "kind": kind, "number": "JY13301060001",
                                            "valid_until": valid_until, "scan_upload_ids": [self.photo()]}, **kwargs)

    def receiving(self, supplier_id: int, items: list[dict[str, Any]], received_at: datetime | None = None,
                  accepted_expired_reason: str | None = None, **kwargs: Any) -> Any:
        body = {"supplier_id": supplier_id, "received_at": received_at or utcnow() - timedelta(minutes=1),
                "receiver_name": "周师傅", "items": items,
                "invoice_upload_ids": [self.upload(pdf(), "invoice.pdf").get_json()["id"]]}
        if accepted_expired_reason is not None:
            body["accepted_expired_reason"] = accepted_expired_reason
        return self.create("receivings", body, **kwargs)

    def menu(self, service_date: date, meal: str, dishes: list[tuple[str, list[int]]], **kwargs: Any) -> Any:
        return self.create("menus", {"service_date": service_date, "meal": meal, "dishes": [
            {"name": name, "ingredient_item_ids": items} for name, items in dishes]}, **kwargs)

    def sample(self, dish_id: int, sampled_at: datetime, weight_g: float = 150, fridge: float = 4.0,
               **kwargs: Any) -> Any:
        return self.create("samples", {"dish_id": dish_id, "weight_g": weight_g, "sampled_at": sampled_at,
                                       "sealed": True, "fridge_temperature_c": fridge, "sampler_name": "吴阿姨",
                                       "photo_upload_ids": [self.photo()]}, **kwargs)

    def disinfection(self, service_date: date, meal: str, **overrides: Any) -> Any:
        expect = overrides.pop("expect", 201)
        body = {"service_date": service_date, "meal": meal, "target": "tableware", "method": "steam",
                "temperature_c": 100, "minutes": 15, "item_count": 300, "operator_name": "孙师傅",
                "performed_at": utcnow() - timedelta(minutes=5), "photo_upload_ids": [self.photo()], **overrides}
        return self.create("disinfections", body, expect=expect)


def item(ingredient: str = "猪肉", **overrides: Any) -> dict[str, Any]:
    """A received item line (chilled pork produced yesterday, 3 days' shelf life) with overrides."""
    return {"ingredient": ingredient, "category": "meat", "batch": "ZR20260301", "quantity": 12.5, "unit": "千克",
            "production_date": today() - timedelta(days=1), "shelf_life_days": 3, "storage": "chilled",
            "storage_temperature_c": 3.5, **overrides}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def amended_sample(manager: Kit, traced: dict[str, Any]) -> dict[str, Any]:
    """A sample of today's rice, then its correction (180 g, not 150): answers the first version."""
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5)).get_json()
    manager.post(f"/records/{sample['id']}/amendments", {
        "reason": "称重时误读，实际 180 克", "expected_version_id": sample["version_id"],
        "record": {"dish_id": traced["dishes"]["米饭"], "weight_g": 180, "sampled_at": sample["sampled_at"],
                   "sealed": True, "fridge_temperature_c": 4, "sampler_name": "吴阿姨",
                   "photo_upload_ids": [f["upload_id"] for f in sample["files"]["photo"]]}})
    return sample


def record_every_kind(manager: Kit, traced: dict[str, Any]) -> None:
    """Besides ``traced`` (supplier, certificate, delivery, lunch menu): today's record of every other kind the
    ledger shows, a corrected sample and a disposed-of one among them."""
    amended_sample(manager, traced)
    old = manager.sample(traced["dishes"]["红烧肉"], utcnow().replace(microsecond=0) - timedelta(hours=49)).get_json()
    manager.create("sample-disposals", {"sample_id": old["id"], "disposer_name": "吴阿姨", "remarks": "到期处置"})
    manager.disinfection(today(), "lunch")
    manager.create("accompanied-meals", {"service_date": today(), "meal": "lunch", "companion_name": "张校长",
                                         "companion_role": "school_leader", "rating": 5, "remarks": "口味适中",
                                         "photo_upload_ids": [manager.photo()]})
    staff_id = manager.create("staff", {"name": "孙师傅", "post": "厨师"}).get_json()["id"]
    manager.create("waste-disposals", {"disposed_at": utcnow() - timedelta(minutes=5), "waste_kind": "waste_oil",
                                       "quantity_kg": 6.5, "collector_company": "杭州城环收运有限公司",
                                       "collector_name": "陈师傅", "staff_id": staff_id,
                                       "photo_upload_ids": [manager.photo()]})
    batch = manager.create("additive-purchases", {
        "additive_name": "亚硝酸钠", "manufacturer": "浙江味美食品配料有限公司", "batch": "YX1", "quantity": 500,
        "unit": "g", "purchase_date": today(), "supplier_name": "杭州配料供应站", "buyer_name": "周师傅",
        "keeper_name": "王主管", "cabinet": "库房专柜"}).get_json()
    manager.create("additive-uses", {"use_date": today(), "meal": "lunch", "dish_id": traced["dishes"]["红烧肉"],
                                     "purchase_id": batch["id"], "quantity": 3, "issuer_name": "王主管",
                                     "user_name": "孙师傅"})


# Differ between two reads a moment apart: the signed URLs' expiry and the time of the answer.
MOMENTARY = {"url", "url_expires_at", "generated_at"}


def steady(value: Any) -> Any:
    """A JSON value with what differs between two reads a moment apart (``MOMENTARY``) masked."""
    if isinstance(value, dict):
        return {k: "*" if k in MOMENTARY else steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def key_paths(value: Any, path: str = "") -> set[str]:
    """Every key path of a JSON value (list items merged), e.g. ``records.sample[].disposal.id``: what an output
    schema that drops a key would lose."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{'<id>' if k.isdigit() else k}".lstrip(".")
            found |= {here} | key_paths(v, here)
    elif isinstance(value, list):
        for v in value:
            found |= key_paths(v, f"{path}[]")
    return found
