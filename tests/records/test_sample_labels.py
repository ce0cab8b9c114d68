"""The printable label of a retained sample: a one-page 60 × 40 mm PDF whose QR code (read back with OpenCV's
detector from the page's image) opens the day's 台账, for the readers of the records only."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote

import cv2
import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from backend.records.sample_labels import label_image
from backend.timeutil import utcnow
from tests.records.helpers import API, today

pytestmark = pytest.mark.db


def _qr_text(image: Image.Image) -> str:
    found, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR))
    return found


def test_a_sample_prints_as_a_label_whose_code_opens_the_days_ledger(manager, traced, client):
    sample = manager.sample(traced["dishes"]["红烧肉"], utcnow() - timedelta(minutes=5), weight_g=150).get_json()
    response = client.get(f"{API}/records/{sample['id']}/label.pdf", headers=manager.headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    named = quote(f"留样标签-{sample['id']}.pdf")
    assert response.headers["Content-Disposition"].endswith(f"filename*=UTF-8''{named}")
    page = PdfReader(io.BytesIO(response.data)).pages[0]
    width_mm, height_mm = (float(v) / 72 * 25.4 for v in (page.mediabox.width, page.mediabox.height))
    assert (round(width_mm), round(height_mm)) == (60, 40)
    # The page is the label's picture, QR code included: read back from the PDF, it opens the day's 台账.
    printed = page.images[0].image.convert("RGB")
    assert _qr_text(printed) == f"http://localhost/console/ledger?school=1&canteen=1&day={today().isoformat()}"

    from backend.records.sample_labels import sample_label

    label, filename = sample_label(sample["id"], "http://kitchen.example/")
    assert filename == f"留样标签-{sample['id']}.pdf"
    assert (label.dish, label.meal, label.weight_g, label.sampler) == ("红烧肉", "午餐", 150, "吴阿姨")
    assert _qr_text(label_image(label)) == (
        f"http://kitchen.example/console/ledger?school=1&canteen=1&day={today().isoformat()}")


def test_only_a_sample_has_a_label_and_only_readers_of_the_records_print_it(manager, traced, kit, client):
    menu_id = traced["menu"]["id"]
    refused = client.get(f"{API}/records/{menu_id}/label.pdf", headers=manager.headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "not_a_sample"
    sample = manager.sample(traced["dishes"]["米饭"], utcnow() - timedelta(minutes=5)).get_json()
    other_school = client.get(f"{API}/records/{sample['id']}/label.pdf", headers=kit("demo-manager-2", 2).headers)
    assert other_school.status_code in (403, 404)
    assert client.get(f"{API}/records/{sample['id']}/label.pdf").status_code == 401
