"""Certificate photos the OCR tests render themselves: the four kinds a canteen photographs, each in three
layouts (label and value on one line; a two-column form with the value boxes apart from their labels and two
fields on one row; the value on the line under its label), with a border and a red seal, in Debian's
WenQuanYi Zen Hei (fonts-wqy-zenhei), then degraded the way phone photos are (turned a few degrees, turned
upside down, noise, blur, and a small JPEG of the certificate lying on a table at an angle).

Every photo carries its truth, so a test can count how many fields were read right.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from backend.records.certificate_fields import (
    BUSINESS_LICENCE,
    FOOD_BUSINESS_LICENCE,
    FOOD_PRODUCTION_LICENCE,
    HEALTH_CERTIFICATE,
)

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
TITLES = {BUSINESS_LICENCE: "营业执照", FOOD_BUSINESS_LICENCE: "食品经营许可证",
          FOOD_PRODUCTION_LICENCE: "食品生产许可证", HEALTH_CERTIFICATE: "健康证明"}
VARIANTS = ("clean", "tilted", "upside_down", "noisy", "blurred", "photo")
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class Certificate:
    """What a certificate says (the truth the reading is compared with)."""

    kind: str
    number: str
    holder: str
    valid_from: date | None
    valid_until: date | None
    issuer: str
    long_term: bool = False

    def truth(self) -> dict[str, object]:
        """The fields a reading should find, as the API answers them."""
        return {"number": self.number, "holder": self.holder,
                "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "issuer": self.issuer, "long_term": self.long_term}


def credit_code(seed: int) -> str:
    """A unified social credit code with its right check character."""
    rng = random.Random(seed)
    body = "91" + "330106" + "".join(rng.choice(_CREDIT_ALPHABET) for _ in range(9))
    total = sum(_CREDIT_ALPHABET.index(ch) * w for ch, w in zip(body[:17], _CREDIT_WEIGHTS, strict=False))
    return body[:17] + _CREDIT_ALPHABET[(31 - total % 31) % 31]


def sample_certificates() -> list[Certificate]:
    """Two certificates of each kind, with the date ends and names a canteen's suppliers and staff have."""
    return [
        Certificate(BUSINESS_LICENCE, credit_code(1), "杭州鲜丰农产品有限公司", date(2018, 5, 12), date(2038, 5, 11),
                    "杭州市西湖区市场监督管理局"),
        Certificate(BUSINESS_LICENCE, credit_code(7), "浙江绿源粮油配送有限公司", date(2015, 3, 2), None,
                    "杭州市拱墅区市场监督管理局", long_term=True),
        Certificate(FOOD_BUSINESS_LICENCE, "JY13301060012345", "杭州鲜丰农产品有限公司", date(2022, 9, 1),
                    date(2027, 8, 31), "杭州市西湖区市场监督管理局"),
        Certificate(FOOD_BUSINESS_LICENCE, "JY23301050098760", "西湖区三墩镇明珠蔬菜店", date(2021, 1, 15),
                    date(2026, 1, 14), "杭州市西湖区市场监督管理局"),
        Certificate(FOOD_PRODUCTION_LICENCE, "SC10433010600123", "浙江五丰冷食有限公司", date(2020, 6, 30),
                    date(2025, 6, 29), "浙江省市场监督管理局"),
        Certificate(FOOD_PRODUCTION_LICENCE, "SC11233018500457", "杭州老面馒头食品厂", date(2023, 11, 8),
                    date(2028, 11, 7), "杭州市市场监督管理局"),
        Certificate(HEALTH_CERTIFICATE, "330106202400123", "王小红", date(2024, 3, 1), date(2025, 2, 28),
                    "杭州市西湖区疾病预防控制中心"),
        Certificate(HEALTH_CERTIFICATE, "330105202500876", "欧阳建国", date(2025, 7, 16), date(2026, 7, 15),
                    "杭州市拱墅区疾病预防控制中心"),
    ]


def _date_text(day: date, style: int) -> str:
    return (f"{day.year}年{day.month:02d}月{day.day:02d}日", f"{day:%Y-%m-%d}", f"{day.year}年{day.month}月{day.day}日",
            f"{day:%Y.%m.%d}")[style % 4]


def _lines(cert: Certificate, style: int) -> list[tuple[str, str]]:
    """The certificate's (label, value) lines, top to bottom, with a few lines a real one also has."""
    when = _date_text
    if cert.kind == BUSINESS_LICENCE:
        term = (f"{when(cert.valid_from, style)}至长期" if cert.long_term  # type: ignore[arg-type]
                else f"{when(cert.valid_from, style)}至{when(cert.valid_until, style)}")  # type: ignore[arg-type]
        return [("统一社会信用代码", cert.number), ("名称", cert.holder), ("类型", "有限责任公司（自然人投资或控股）"),
                ("法定代表人", "陈国平"), ("经营范围", "食用农产品批发；食品经营（销售预包装食品）"),
                ("注册资本", "伍佰万元整"), ("营业期限", term), ("登记机关", cert.issuer)]
    if cert.kind in (FOOD_BUSINESS_LICENCE, FOOD_PRODUCTION_LICENCE):
        who = "经营者名称" if cert.kind == FOOD_BUSINESS_LICENCE else "生产者名称"
        return [(who, cert.holder), ("社会信用代码", credit_code(3)), ("法定代表人（负责人）", "李建华"),
                ("住所", "浙江省杭州市西湖区文三路 259 号"), ("许可证编号", cert.number),
                ("有效期至", when(cert.valid_until, style)),  # type: ignore[arg-type]
                ("发证机关", cert.issuer), ("签发日期", when(cert.valid_from, style + 1))]  # type: ignore[arg-type]
    return [("姓名", cert.holder), ("性别", "女"), ("编号", cert.number), ("从业类别", "食品"),
            ("体检日期", when(cert.valid_from, style)), ("有效期至", when(cert.valid_until, style)),  # type: ignore[arg-type]
            ("发证机构", cert.issuer)]


def render(cert: Certificate, layout: int) -> Image.Image:
    """The certificate as a flat scan: layout 0 'label：value', 1 a two-column form, 2 the value under its label."""
    width, height = 1400, 1000 if layout != 2 else 1300
    image = Image.new("RGB", (width, height), (250, 247, 238))
    draw = ImageDraw.Draw(image)
    title = ImageFont.truetype(FONT_PATH, 64)
    text = ImageFont.truetype(FONT_PATH, 34)
    draw.rectangle((20, 20, width - 20, height - 20), outline=(150, 110, 40), width=8)
    draw.text((width // 2, 90), TITLES[cert.kind], font=title, fill=(20, 20, 20), anchor="mm")
    lines = _lines(cert, layout)
    y = 190
    if layout == 1 and cert.kind == HEALTH_CERTIFICATE:
        # Two fields on one row: 姓名 王小红    性别 女.
        (_, name), (_, sex) = lines[0], lines[1]
        lines = [("姓名", f"{name}"), *lines[2:]]
        draw.text((800, y), "性别", font=text, fill=(60, 60, 60))
        draw.text((950, y), sex, font=text, fill=(20, 20, 20))
    for label, value in lines:
        if layout == 0:
            draw.text((90, y), f"{label}：{value}", font=text, fill=(20, 20, 20))
            y += 88
        elif layout == 1:
            draw.text((90, y), label, font=text, fill=(60, 60, 60))
            draw.text((450, y), value, font=text, fill=(20, 20, 20))
            y += 88
        else:
            draw.text((90, y), label, font=text, fill=(60, 60, 60))
            draw.text((150, y + 48), value, font=text, fill=(20, 20, 20))
            y += 118
    # The red seal over the lower right corner, as on every certificate.
    box = (width - 420, height - 380, width - 120, height - 80)
    draw.ellipse(box, outline=(210, 40, 40), width=10)
    draw.text(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2), "★", font=title, fill=(210, 40, 40), anchor="mm")
    return image


def degrade(image: Image.Image, variant: str, seed: int = 0) -> Image.Image:
    """The scan as a phone sees it (:data:`VARIANTS`)."""
    rng = np.random.default_rng(seed)
    if variant == "clean":
        return image
    if variant == "tilted":
        return image.rotate(4 if seed % 2 else -4, expand=True, fillcolor=(90, 80, 70), resample=Image.BICUBIC)
    if variant == "upside_down":
        return image.rotate(180)
    if variant == "noisy":
        pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 18, (image.height, image.width, 1)).astype(np.int16)
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if variant == "blurred":
        return image.filter(ImageFilter.GaussianBlur(1.6))
    if variant == "photo":
        # On a dark table, slightly turned and foreshortened, shot small and saved as a JPEG by the phone.
        table = Image.new("RGB", (image.width + 300, image.height + 300), (70, 60, 52))
        table.paste(image.rotate(-2, expand=True, fillcolor=(70, 60, 52), resample=Image.BICUBIC), (150, 120))
        w, h = table.size
        skewed = table.transform((w, h), Image.QUAD, (40, 0, 0, h, w, h - 30, w - 60, 20), resample=Image.BICUBIC)
        small = skewed.resize((int(w * 0.62), int(h * 0.62)), Image.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=55)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    raise ValueError(variant)


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    """The image as the JPEG a phone uploads."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
