"""The printable label of a retained sample (留样标签): stuck on the sealed box, it says what is inside, from
which meal, when it was taken (to the minute: the 48-hour keep counts from then), by whom, until when it is
kept, and carries a QR code that opens the canteen's 台账 of that day in the console.

A 60 × 40 mm page at 300 dpi, drawn with Pillow in the CJK font the evidence labels use
(:mod:`backend.fonts`), saved as a one-page PDF: label printers print PDFs as they are.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from PIL import Image, ImageDraw

from backend.errors import ApiError
from backend.extensions import db
from backend.fonts import cjk_font
from backend.records.models import MEAL_LABELS, RecordKind, SampleLog
from backend.records.versions import current_version
from backend.schools.models import Canteen
from backend.timeutil import to_shanghai

DPI = 300
WIDTH, HEIGHT = 708, 472  # 60 × 40 mm at 300 dpi


@dataclass(frozen=True)
class SampleLabel:
    """What a label says."""

    record_id: int
    school: str
    canteen: str
    day: str
    meal: str
    dish: str
    weight_g: float
    sampled_at: datetime
    sampler: str
    keep_until: datetime
    link: str


def _local(moment: datetime) -> str:
    return to_shanghai(moment).strftime("%m-%d %H:%M")


def label_image(label: SampleLabel) -> Image.Image:
    """The label drawn at 300 dpi: text on the left, the QR code of its link on the right."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    title, text, small = cjk_font(46), cjk_font(30), cjk_font(24)
    if title is None:
        raise ApiError(503, "cjk_font_missing", "服务器未安装中文字体，暂时无法生成标签，请联系管理员")
    draw.rectangle((4, 4, WIDTH - 5, HEIGHT - 5), outline="black", width=4)
    draw.text((24, 18), "留样标签", font=title, fill="black")
    draw.text((24, 78), f"{label.school} · {label.canteen}"[:22], font=small, fill="black")
    lines = [f"菜品：{label.dish}", f"餐次：{label.day} {label.meal}",
             f"留样：{_local(label.sampled_at)}  {label.weight_g:g} 克", f"留样人：{label.sampler}",
             f"保留至：{_local(label.keep_until)}"]
    for index, line in enumerate(lines):
        draw.text((24, 122 + index * 62), line, font=text, fill="black")
    qr = segno.make(label.link, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=2)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    side = 230
    code = code.resize((side, side), Image.NEAREST)
    image.paste(code, (WIDTH - side - 20, 70))
    draw.text((WIDTH - side - 20, 70 + side + 8), f"记录编号 {label.record_id}", font=small, fill="black")
    return image


def label_pdf(label: SampleLabel) -> bytes:
    """The label as a one-page PDF of 60 × 40 mm."""
    buffer = io.BytesIO()
    label_image(label).save(buffer, "PDF", resolution=DPI)
    return buffer.getvalue()


def sample_label(record_id: int, link_base: str) -> tuple[SampleLabel, str]:
    """The label of a sample record's current version and the PDF's file name; 422 ``not_a_sample`` for any
    other kind of record. ``link_base`` is where the console is served (``https://host/``)."""
    entry = current_version(record_id)
    if entry is None or entry.kind != RecordKind.SAMPLE:
        raise ApiError(422, "not_a_sample", "只有留样记录可以打印留样标签")
    sample = db.session.get(SampleLog, entry.id)
    canteen = db.session.get(Canteen, entry.canteen_id)
    day = sample.service_date.isoformat()
    link = f"{link_base}console/ledger?school={canteen.school_id}&canteen={canteen.id}&day={day}"
    label = SampleLabel(record_id=entry.record_id, school=canteen.school.name, canteen=canteen.name, day=day,
                        meal=MEAL_LABELS.get(sample.meal, sample.meal), dish=sample.dish_name,
                        weight_g=sample.weight_g, sampled_at=sample.sampled_at, sampler=sample.sampler_name,
                        keep_until=sample.keep_until, link=link)
    return label, f"留样标签-{entry.record_id}.pdf"
