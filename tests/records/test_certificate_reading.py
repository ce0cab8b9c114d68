"""Certificate photos read offline by OCR (RapidOCR, PP-OCRv4): the fields found on photos the tests render
(tests/records/certificate_images.py: four kinds, three layouts, phone-photo degradations), the clean refusal
of a photo without a certificate, and the API: read, correct, save with ``reading_id``, both kept."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from PIL import Image

from backend.records.certificate_reader import read_certificate
from tests.records.certificate_images import (
    VARIANTS,
    Certificate,
    degrade,
    jpeg_bytes,
    render,
    sample_certificates,
)
from tests.records.helpers import pdf, today

pytestmark = pytest.mark.slow
FIELDS = ("number", "holder", "valid_from", "valid_until", "issuer", "long_term")


def wrong_fields(cert: Certificate, photo: bytes) -> dict[str, tuple[object, object]]:
    """The fields read wrong from ``photo``: name → (read, truth)."""
    read, truth = read_certificate(photo, cert.kind).fields.as_json(), cert.truth()
    return {name: (read[name], truth[name]) for name in FIELDS if read[name] != truth[name]}


@pytest.mark.parametrize("layout", [0, 1, 2])
def test_every_field_of_every_kind_is_read_from_a_flat_scan(layout):
    for cert in sample_certificates():
        assert wrong_fields(cert, jpeg_bytes(render(cert, layout))) == {}, (cert.kind, layout)


def test_phone_photos_turned_noisy_blurred_and_small_are_read_nearly_always():
    """Each degradation on every certificate (layouts in turn): at least 97 % of the fields right (100 %
    measured); the figure over the full set (every kind × layout × variant) is printed by bench/ocr.py."""
    right = total = 0
    misses = []
    for index, cert in enumerate(sample_certificates()):
        for variant in VARIANTS[1:]:
            photo = jpeg_bytes(degrade(render(cert, (index + VARIANTS.index(variant)) % 3), variant, seed=index))
            wrong = wrong_fields(cert, photo)
            right += len(FIELDS) - len(wrong)
            total += len(FIELDS)
            if wrong:
                misses.append((cert.kind, variant, wrong))
    assert right / total >= 0.97, misses


def test_a_photo_without_a_certificate_finds_nothing():
    rng = np.random.default_rng(3)
    noise = Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    for photo in (jpeg_bytes(Image.new("RGB", (800, 600), (240, 240, 240))), jpeg_bytes(noise)):
        assert not read_certificate(photo, "food_business_licence").fields.found()


@pytest.mark.db
def test_a_manager_reads_a_licence_photo_corrects_it_and_both_are_kept(manager, kit, app):
    from backend.extensions import db
    from backend.records.models import CertificateReading

    cert = next(c for c in sample_certificates() if c.kind == "food_business_licence")
    photo_id = manager.upload(jpeg_bytes(degrade(render(cert, 1), "photo")), "licence.jpg").get_json()["id"]
    response = manager.post(f"/uploads/{photo_id}/certificate-reading", {"kind": "food_business_licence"})
    reading = response.get_json()
    assert reading["suggested"]["number"] == cert.number
    assert reading["suggested"]["holder"] == cert.holder
    assert reading["suggested"]["valid_until"] == cert.valid_until.isoformat()
    assert set(reading["suggested"]["scores"]) >= {"number", "valid_until"}

    # The person corrects the date (the photo is of an older licence) and saves.
    supplier_id = manager.supplier(cert.holder)
    confirmed_until = today() + timedelta(days=400)
    body = {"supplier_id": supplier_id, "kind": "food_business_licence", "number": cert.number,
            "valid_until": confirmed_until, "scan_upload_ids": [photo_id], "reading_id": reading["id"]}
    record = manager.create("certificates", body).get_json()
    with app.app_context():
        row = db.session.get(CertificateReading, reading["id"])
        assert row.suggested["valid_until"] == cert.valid_until.isoformat()
        assert row.confirmed == {"number": cert.number, "holder": cert.holder, "valid_from": None,
                                 "valid_until": confirmed_until.isoformat(), "issuer": None}
        assert row.entry_id == record["version_id"]

    # One reading, one record.
    again = manager.create("certificates", body, expect=422).get_json()["error"]
    assert (again["code"], again["details"]["field"]) == ("certificate_reading_used", "reading_id")


@pytest.mark.db
def test_a_reading_must_be_of_the_records_own_photo_and_kind(manager):
    cert = next(c for c in sample_certificates() if c.kind == "business_licence")
    photo_id = manager.upload(jpeg_bytes(render(cert, 0)), "licence.jpg").get_json()["id"]
    reading = manager.post(f"/uploads/{photo_id}/certificate-reading", {"kind": "business_licence"}).get_json()
    supplier_id = manager.supplier(cert.holder)
    base = {"supplier_id": supplier_id, "number": cert.number, "valid_until": date(2038, 5, 11),
            "reading_id": reading["id"]}
    other_kind = manager.create("certificates", {**base, "kind": "food_business_licence",
                                                 "scan_upload_ids": [photo_id]}, expect=422).get_json()["error"]
    assert other_kind["code"] == "certificate_reading_kind"
    other_photo = manager.create("certificates", {**base, "kind": "business_licence",
                                                  "scan_upload_ids": [manager.photo()]}, expect=422).get_json()["error"]
    assert other_photo["code"] == "certificate_reading_photo"
    missing = manager.create("certificates", {**base, "kind": "business_licence", "scan_upload_ids": [photo_id],
                                              "reading_id": reading["id"] + 1000}, expect=422).get_json()["error"]
    assert missing["code"] == "certificate_reading_not_found"


@pytest.mark.db
def test_refusals_are_clean_and_store_nothing(manager, kit, app):
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.records.models import CertificateReading

    blank = manager.upload(jpeg_bytes(Image.new("RGB", (900, 600), (245, 245, 240))), "blank.jpg").get_json()["id"]
    unreadable = manager.post(f"/uploads/{blank}/certificate-reading", {"kind": "health_certificate"},
                              expect=422).get_json()["error"]
    assert unreadable["code"] == "certificate_unreadable" and "手动填写" in unreadable["message"]
    scan = manager.upload(pdf(), "licence.pdf", content_type="application/pdf").get_json()["id"]
    assert manager.post(f"/uploads/{scan}/certificate-reading", {"kind": "business_licence"},
                        expect=422).get_json()["error"]["code"] == "certificate_not_image"
    bad_kind = manager.post(f"/uploads/{blank}/certificate-reading", {"kind": "passport"},
                            expect=422).get_json()["error"]
    assert "kind" in bad_kind["details"]["fields"]
    # Another school's manager and a parent are refused without learning anything about the photo.
    assert kit("demo-manager-2", 2).post(f"/uploads/{blank}/certificate-reading", {"kind": "business_licence"},
                                         expect=None).status_code in (403, 404)
    assert kit("demo-parent-1").post(f"/uploads/{blank}/certificate-reading", {"kind": "business_licence"},
                                     expect=403).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CertificateReading)) == 0
