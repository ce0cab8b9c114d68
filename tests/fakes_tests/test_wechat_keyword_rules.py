"""WeChat's subscribe-message keyword rules as the fake enforces them (subscribeMessage.send docs)."""

from __future__ import annotations

import pytest

from tests.fakes.wechat_server import KEYWORD_KINDS, keyword_value_valid

VALID = [
    ("thing", "今日午餐：红烧肉、清炒时蔬"),
    ("thing", "x" * 20),
    ("number", "339208499"),
    ("number", "12.50"),
    ("number", "1" * 32),
    ("letter", "ABCdef"),
    ("symbol", "%#!"),
    ("character_string", "KX-2024/09#01"),
    ("character_string", "a" * 32),
    ("time", "15:01"),
    ("time", "2019年10月1日 15:01"),
    ("time", "2019-10-01 15:01"),
    ("time", "11:30~12:30"),
    ("date", "2019年10月1日"),
    ("date", "2019-10-01 15:01"),
    ("date", "2024-09-01~2024-09-07"),
    ("amount", "¥12.50"),
    ("amount", "100元"),
    ("amount", "8"),
    ("phone_number", "+86-0766-66888866"),
    ("phone_number", "13800138000"),
    ("car_number", "粤A8Z888挂"),
    ("car_number", "京A12345"),
    ("name", "张三"),
    ("name", "欧阳娜娜"),
    ("name", "John Smith"),
    ("phrase", "配送中"),
    ("phrase", "已公示"),
    ("phrase", "五个汉字啊"),
]

INVALID = [
    ("thing", ""),
    ("thing", "x" * 21),
    ("number", "12,5"),
    ("number", "-3"),
    ("number", "1" * 33),
    ("letter", "abc1"),
    ("symbol", "%%%%%%"),
    ("symbol", "a!"),
    ("character_string", "中文"),
    ("character_string", "has space"),
    ("character_string", "a" * 33),
    ("time", "明天中午"),
    ("time", "25:00"),
    ("time", "2019年10月1日"),
    ("date", "15:01"),
    ("date", "2019-13-01"),
    ("amount", "12.5美元"),
    ("amount", "12345678901"),
    ("phone_number", "1" * 18),
    ("phone_number", "call me"),
    ("car_number", "粤A8Z888挂x"),
    ("car_number", "粤"),
    ("name", "张三123"),
    ("name", "一二三四五六七八九十一"),
    ("name", "a" * 21),
    ("phrase", "六个汉字太长"),
    ("phrase", "ok"),
    ("phrase", "已 公示"),
]


@pytest.mark.parametrize(("kind", "value"), VALID)
def test_valid_values(kind: str, value: str) -> None:
    assert keyword_value_valid(kind, value) is True


@pytest.mark.parametrize(("kind", "value"), INVALID)
def test_invalid_values(kind: str, value: str) -> None:
    assert keyword_value_valid(kind, value) is False


def test_every_kind_is_covered_both_ways() -> None:
    assert {k for k, _ in VALID} == KEYWORD_KINDS
    assert {k for k, _ in INVALID} == KEYWORD_KINDS


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown keyword kind"):
        keyword_value_valid("emoji", "x")
