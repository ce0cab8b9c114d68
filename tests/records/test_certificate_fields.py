"""The text rules that find a certificate's number, holder and validity in OCR's rows (no OCR here)."""

from __future__ import annotations

from datetime import date

import pytest

from backend.records.certificate_fields import (
    BUSINESS_LICENCE,
    FOOD_BUSINESS_LICENCE,
    FOOD_PRODUCTION_LICENCE,
    HEALTH_CERTIFICATE,
    Row,
    credit_code_valid,
    parse_date,
    read_fields,
)
from backend.records.certificate_reader import rows_of
from tests.records.certificate_images import credit_code


def rows(*texts: str) -> list[Row]:
    return [Row(text, 0.95) for text in texts]


def test_credit_codes_are_checked_by_their_check_character():
    code = credit_code(1)
    assert credit_code_valid(code)
    assert credit_code_valid("91350100M000100Y43")  # a published code
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert not credit_code_valid(wrong)
    assert not credit_code_valid(code[:17])
    assert not credit_code_valid(code[:16] + "O" + code[17])  # O is not in the alphabet


@pytest.mark.parametrize(("text", "expected"), [
    ("有效期至2027年08月31日", date(2027, 8, 31)),
    ("2027-8-31", date(2027, 8, 31)),
    ("2027.08.31", date(2027, 8, 31)),
    ("2027/08/31", date(2027, 8, 31)),
    ("2O27年O8月3l日", date(2027, 8, 31)),  # O for 0 and l for 1, as OCR misreads them
    ("2027年02月30日", None),
    ("长期", None),
])
def test_dates_in_the_ways_certificates_write_them(text, expected):
    assert parse_date(text) == expected


def test_a_business_licence_in_one_line_per_field():
    code = credit_code(5)
    fields = read_fields(BUSINESS_LICENCE, rows(
        "营业执照", f"统一社会信用代码：{code}", "名称：杭州鲜丰农产品有限公司", "类型：有限责任公司",
        "营业期限：2018年05月12日至2038年05月11日", "登记机关：杭州市西湖区市场监督管理局"))
    assert (fields.number, fields.holder, fields.valid_from, fields.valid_until, fields.issuer) == (
        code, "杭州鲜丰农产品有限公司", date(2018, 5, 12), date(2038, 5, 11), "杭州市西湖区市场监督管理局")
    assert not fields.long_term
    assert set(fields.scores) == {"number", "holder", "valid_until", "issuer"}


def test_a_long_term_business_licence_has_no_end_date():
    fields = read_fields(BUSINESS_LICENCE, rows(f"统一社会信用代码 {credit_code(2)}", "营业期限 2015年03月02日至长期"))
    assert fields.long_term and fields.valid_until is None and fields.valid_from == date(2015, 3, 2)
    assert fields.found()


def test_a_credit_code_misread_with_look_alikes_is_repaired_only_when_the_check_agrees():
    code = "91350100M000100Y43"
    misread = code.replace("0", "O", 2)
    assert read_fields(BUSINESS_LICENCE, rows(f"统一社会信用代码 {misread}")).number == code
    # A code whose check character is wrong is not suggested at all: a person types it.
    assert read_fields(BUSINESS_LICENCE, rows("统一社会信用代码 91350100M000100Y44")).number is None


def test_a_food_licence_with_the_value_on_the_line_under_its_label():
    fields = read_fields(FOOD_BUSINESS_LICENCE, rows(
        "食品经营许可证", "经营者名称", "西湖区三墩镇明珠蔬菜店", "许可证编号", "JY23301O5OO98760", "有效期至",
        "2026年1月14日", "发证机关", "杭州市西湖区市场监督管理局", "签发日期", "2021.01.15"))
    assert fields.number == "JY23301050098760"  # O read as 0 inside the digits
    assert fields.holder == "西湖区三墩镇明珠蔬菜店"
    assert (fields.valid_from, fields.valid_until) == (date(2021, 1, 15), date(2026, 1, 14))
    assert fields.issuer == "杭州市西湖区市场监督管理局"


def test_a_production_licence_needs_the_sc_prefix_and_fourteen_digits():
    fields = read_fields(FOOD_PRODUCTION_LICENCE, rows("生产者名称 浙江五丰冷食有限公司", "许可证编号 SC10433010600123",
                                                       "有效期至 2025-06-29"))
    assert (fields.number, fields.valid_until) == ("SC10433010600123", date(2025, 6, 29))
    assert read_fields(FOOD_PRODUCTION_LICENCE, rows("许可证编号 SC1043301060012")).number is None  # 13 digits
    assert read_fields(FOOD_PRODUCTION_LICENCE, rows("许可证编号 JY10433010600123")).number is None


def test_a_health_certificate_in_a_two_column_form_with_two_fields_on_a_row():
    fields = read_fields(HEALTH_CERTIFICATE, rows(
        "健康证明", "姓名 欧阳建国 性别 男", "编号 330105202500876", "体检日期 2025年07月16日",
        "有效期至 2026年07月15日", "发证机构 杭州市拱墅区疾病预防控制中心"))
    assert (fields.holder, fields.number) == ("欧阳建国", "330105202500876")
    assert (fields.valid_from, fields.valid_until) == (date(2025, 7, 16), date(2026, 7, 15))


def test_a_health_certificate_without_an_end_date_is_valid_one_year_from_the_examination():
    fields = read_fields(HEALTH_CERTIFICATE, rows("姓名：王小红", "体检日期：2024年02月29日"))
    assert fields.valid_until == date(2025, 2, 28)
    fields = read_fields(HEALTH_CERTIFICATE, rows("姓名：王小红", "体检日期：2024年03月01日"))
    assert fields.valid_until == date(2025, 2, 28)


def test_rows_without_any_field_find_nothing():
    fields = read_fields(FOOD_BUSINESS_LICENCE, rows("今日菜谱", "红烧肉 米饭", "西湖区实验小学"))
    assert not fields.found()
    assert fields.as_json()["number"] is None
    with pytest.raises(ValueError):
        read_fields("passport", rows("姓名 张三"))


def test_text_boxes_are_put_back_into_rows_left_to_right():
    def box(x: float, y: float, w: float = 120, h: float = 30) -> list[list[float]]:
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    boxes = [(box(450, 102), "王小红", 0.9), (box(90, 100), "姓名", 0.99), (box(800, 97), "性别", 0.97),
             (box(90, 190), "编号", 0.98), (box(450, 192), "330106202400123", 0.8)]
    assert rows_of(boxes) == [Row("姓名 王小红 性别", 0.9), Row("编号 330106202400123", 0.8)]
    assert rows_of([]) == []


def test_a_tilted_page_keeps_each_label_on_the_row_of_its_value():
    """4° of tilt over 360 px moves a value 25 px from its label, most of a text height: the rows are levelled
    by the boxes' own slope before they are grouped."""
    import math

    slope = math.tan(math.radians(4))

    def box(x: float, y: float, w: float = 120, h: float = 30) -> list[list[float]]:
        lift = x * slope
        return [[x, y + lift], [x + w, y + lift + w * slope], [x + w, y + lift + w * slope + h],
                [x, y + lift + h]]

    boxes = [(box(90, 100), "有效期至", 0.99), (box(450, 100), "2027年08月31日", 0.97),
             (box(90, 170), "发证机关", 0.98), (box(450, 170), "杭州市西湖区市场监督管理局", 0.96)]
    assert [row.text for row in rows_of(boxes)] == ["有效期至 2027年08月31日", "发证机关 杭州市西湖区市场监督管理局"]
