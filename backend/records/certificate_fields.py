"""The fields of a licence or certificate, found in the text lines OCR read from its photo.

Pure text rules, no OCR and no Flask: :mod:`backend.records.certificate_reader` feeds them the rows it read.
Every kind has its number (with the shape the issuing scheme gives it), its holder, and its validity:

* 营业执照: 统一社会信用代码 (18 characters with a check character, GB 32100-2015), 名称, 营业期限 (from … to …,
  or 长期), 登记机关;
* 食品经营许可证 / 食品生产许可证: 许可证编号 (JY or SC and 14 digits), 经营者/生产者名称, 有效期至, 发证机关;
* 健康证明: 编号, 姓名, 有效期至 (or 体检日期 + one year, the national rule), 发证机构.

OCR confuses a few look-alike characters (O/0, I/1, Z/2, S/5, B/8); numbers are repaired only where the
scheme's shape (and, for credit codes, the check character) says which reading is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

# The kinds a photo can be read as: the supplier certificate kinds the records know, and staff health certificates.
BUSINESS_LICENCE = "business_licence"
FOOD_BUSINESS_LICENCE = "food_business_licence"
FOOD_PRODUCTION_LICENCE = "food_production_licence"
HEALTH_CERTIFICATE = "health_certificate"
READABLE_KINDS = (BUSINESS_LICENCE, FOOD_BUSINESS_LICENCE, FOOD_PRODUCTION_LICENCE, HEALTH_CERTIFICATE)

FIELD_NAMES = ("number", "holder", "valid_from", "valid_until", "issuer")

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Look-alikes OCR reads for each other; a credit code has no I, O, S, V or Z, a licence number only digits.
_TO_DIGIT = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "Z": "2",
                           "S": "5", "B": "8", "G": "6"})
_CREDIT_FIX = str.maketrans({"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U"})

_DATE = re.compile(r"(\d{4})\s*[年\-./]\s*(\d{1,2})\s*[月\-./]\s*(\d{1,2})\s*日?")
_SEPARATORS = re.compile(r"[\s:：]+")


@dataclass(frozen=True)
class Row:
    """One line of the photo: the texts OCR read left to right, joined with a space, and their lowest score."""

    text: str
    score: float


@dataclass
class CertificateFields:
    """What was found; a field not found is ``None``. ``long_term`` is a validity of 长期 (no end date)."""

    number: str | None = None
    holder: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    issuer: str | None = None
    long_term: bool = False
    scores: dict[str, float] = field(default_factory=dict)

    def found(self) -> bool:
        """Whether anything a person would type was read (a number, a holder or a validity)."""
        return bool(self.number or self.holder or self.valid_until or self.long_term)

    def as_json(self) -> dict[str, object]:
        """The fields as the API answers and stores them (dates in ISO form)."""
        return {"number": self.number, "holder": self.holder,
                "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "issuer": self.issuer, "long_term": self.long_term,
                "scores": {name: round(score, 3) for name, score in self.scores.items()}}


def credit_code_valid(code: str) -> bool:
    """Whether an 18-character unified social credit code has the right check character (GB 32100-2015)."""
    if len(code) != 18 or any(ch not in _CREDIT_ALPHABET for ch in code):
        return False
    total = sum(_CREDIT_ALPHABET.index(ch) * weight for ch, weight in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31] == code[17]


def parse_date(text: str) -> date | None:
    """The first date written as 2027年08月31日, 2027-08-31, 2027.8.31 or 2027/08/31 in ``text``."""
    match = _DATE.search(text.translate(_TO_DIGIT_IN_DATES))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


# In a date only digits make sense: O for 0 and l for 1 are common misreads there.
_TO_DIGIT_IN_DATES = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text)


def _after(rows: list[Row], labels: tuple[str, ...]) -> tuple[str, float] | None:
    """The text after the first of ``labels`` on its row, or the next row's text when the label stands alone."""
    for index, row in enumerate(rows):
        compact = _compact(row.text)
        for label in labels:
            position = compact.find(label)
            if position < 0:
                continue
            value = compact[position + len(label):]
            if value:
                return value, row.score
            if index + 1 < len(rows):
                following = rows[index + 1]
                return _compact(following.text), min(row.score, following.score)
    return None


def _credit_code(rows: list[Row]) -> tuple[str, float] | None:
    """A credit code whose check character holds, repairing look-alikes (the check says which reading is right)."""
    for row in rows:
        for candidate in re.findall(r"[0-9A-Za-z|]{18}", _compact(row.text).upper()):
            for reading in (candidate, candidate.translate(_CREDIT_FIX)):
                if credit_code_valid(reading):
                    return reading, row.score
    return None


def _licence_number(rows: list[Row], prefix: str) -> tuple[str, float] | None:
    """A licence number: ``prefix`` (JY, SC) and 14 digits, look-alike letters read as the digits they stand for."""
    for row in rows:
        compact = _compact(row.text).upper()
        for match in re.finditer(prefix + r"([0-9A-Z|]{14})(?![0-9])", compact):
            digits = match[1].translate(_TO_DIGIT)
            if digits.isdigit():
                return prefix + digits, row.score
    return None


def _health_number(rows: list[Row]) -> tuple[str, float] | None:
    found = _after(rows, ("证件编号", "证书编号", "编号", "No."))
    if found is None:
        return None
    match = re.match(r"[0-9A-Z\-]{6,30}", found[0].upper())
    return (match[0], found[1]) if match else None


def _name(rows: list[Row], labels: tuple[str, ...], *, max_length: int) -> tuple[str, float] | None:
    found = _after(rows, labels)
    if found is None:
        return None
    # A name ends where the row's next label starts (性别 beside 姓名, 类型 beside 名称 in two-column layouts).
    value = re.split(r"(?:性别|类型|住所|法定代表人|负责人|社会信用代码|统一社会信用代码|许可证编号|编号)", found[0])[0]
    value = value.strip(" ，,。.;；")
    return (value[:max_length], found[1]) if value else None


def _validity(rows: list[Row], fields: CertificateFields, labels: tuple[str, ...]) -> None:
    found = _after(rows, labels)
    if found is None:
        return
    text, score = found
    dates = [parse_date(part) for part in re.split(r"至|到|—|~", text)]
    dates = [d for d in dates if d is not None]
    if "至" in text or len(dates) >= 2:
        head, _, tail = text.partition("至") if "至" in text else (text, "", text)
        start, end = parse_date(head), parse_date(tail)
        if start and start != end:
            fields.valid_from = start
        if end:
            fields.valid_until = end
        elif "长期" in tail:
            fields.long_term = True
    elif dates:
        fields.valid_until = dates[0]
    elif "长期" in text:
        fields.long_term = True
    if fields.valid_until or fields.long_term:
        fields.scores["valid_until"] = score


def read_fields(kind: str, rows: list[Row]) -> CertificateFields:
    """The fields of a ``kind`` certificate in its rows, top to bottom (see the module's doc for each kind)."""
    fields = CertificateFields()
    if kind == BUSINESS_LICENCE:
        number = _credit_code(rows)
        holder = _name(rows, ("名称", "企业名称"), max_length=100)
        _validity(rows, fields, ("营业期限", "经营期限"))
        if fields.valid_from is None and (founded := _after(rows, ("成立日期", "注册日期"))):
            fields.valid_from = parse_date(founded[0])
        issuer = _name(rows, ("登记机关",), max_length=100)
    elif kind in (FOOD_BUSINESS_LICENCE, FOOD_PRODUCTION_LICENCE):
        number = _licence_number(rows, "JY" if kind == FOOD_BUSINESS_LICENCE else "SC")
        holder = _name(rows, ("经营者名称", "生产者名称", "名称"), max_length=100)
        _validity(rows, fields, ("有效期至", "有效期限", "有效期"))
        if issued := _after(rows, ("签发日期", "发证日期")):
            fields.valid_from = parse_date(issued[0])
        issuer = _name(rows, ("发证机关", "签发机关"), max_length=100)
    elif kind == HEALTH_CERTIFICATE:
        number = _health_number(rows)
        holder = _name(rows, ("姓名",), max_length=50)
        _validity(rows, fields, ("有效期至", "有效期限", "有效期"))
        if examined := _after(rows, ("体检日期",)):
            fields.valid_from = parse_date(examined[0])
            if fields.valid_until is None and fields.valid_from is not None:
                # A health certificate is valid for one year from the examination (《食品安全法实施条例》).
                start = fields.valid_from
                fields.valid_until = _one_year_later(start)
                fields.scores["valid_until"] = examined[1]
        issuer = _name(rows, ("发证机构", "发证机关", "体检单位"), max_length=100)
    else:
        raise ValueError(f"unknown certificate kind {kind!r}")
    for name, found in (("number", number), ("holder", holder), ("issuer", issuer)):
        if found is not None:
            setattr(fields, name, found[0])
            fields.scores[name] = found[1]
    return fields


def _one_year_later(day: date) -> date:
    """The day before the same date a year later (29 February counts to 27 February)."""
    try:
        anniversary = day.replace(year=day.year + 1)
    except ValueError:
        anniversary = date(day.year + 1, 3, 1)
    return date.fromordinal(anniversary.toordinal() - 1)
