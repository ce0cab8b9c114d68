"""WeChat keyword values: built within the rules the fake enforces (the rules of WeChat's documentation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.notices import fields
from backend.notices.templates import TEMPLATES, parse_template_ids, template_ids
from tests.fakes.wechat_server import keyword_value_valid


@pytest.mark.parametrize(("raw", "expected"), [
    ("学生食堂", "学生食堂"),
    ("一二三四五六七八九十一二三四五六七八九十", "一二三四五六七八九十一二三四五六七八九十"),  # exactly 20: kept
    ("一二三四五六七八九十一二三四五六七八九十一", "一二三四五六七八九十一二三四五六七八九…"),
    ("  热菜区\n\t摄像头  ", "热菜区 摄像头"),
    ("", "无"),
    (None, "无"),
    ("一二三四五六七八九十一二三四五六七八·东区", "一二三四五六七八九十一二三四五六七八…"),  # no dangling separator
    ("一二三四五六七八九十一二三四五六七👨\u200d🍳厨房", "一二三四五六七八九十一二三四五六七…"),  # ZWJ emoji kept whole
    ("一二三四五六七八九十一二三四五六七八e\u0301x", "一二三四五六七八九十一二三四五六七八…"),  # accent with its letter
    ("abc\x00def\u200b", "abcdef"),
])
def test_thing_is_cut_cleanly_within_20(raw, expected):
    value = fields.thing(raw)
    assert value == expected
    assert len(value) <= 20 and keyword_value_valid("thing", value)


def test_phrase_accepts_only_up_to_five_chinese_characters():
    assert fields.phrase("待复核") == "待复核"
    for bad in ("待复核审批中", "ok", "", "已 通过"):
        with pytest.raises(ValueError):
            fields.phrase(bad)


def test_times_are_shanghai_and_valid_for_wechat():
    moment = datetime(2024, 12, 31, 16, 5, tzinfo=UTC)
    assert fields.time_value(moment) == "2025-01-01 00:05"
    assert keyword_value_valid("time", fields.time_value(moment))
    assert fields.date_value(moment) == "2025年1月1日" and keyword_value_valid("date", fields.date_value(moment))
    assert fields.character_string("订单 No.A-17 中文") == "No.A-17"
    assert fields.number(3) == "3" and fields.number(2.5) == "2.5"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_builds_valid_keywords_from_hostile_payloads(name):
    long_text = "很长的名称" * 20 + "\n🍳"
    payload = {"school": long_text, "problem": long_text, "location": long_text, "remark": long_text,
               "title": long_text, "issuer": long_text, "occurred_at": "2024-05-01T04:00:00+00:00",
               "due_at": "2024-05-03T04:00:00+00:00", "at": "2024-05-01T04:00:00+00:00",
               "progress": "已驳回", "level": "监管督办", "applicant": long_text, "result": "已通过",
               "region": long_text, "count": 12345, "target": long_text, "reason": long_text, "state": "已封存"}
    data = TEMPLATES[name].build(payload)
    for key, item in data.items():
        kind = key.rstrip("0123456789")
        assert keyword_value_valid(kind, item["value"]), (key, item["value"])


def test_template_ids_setting():
    assert parse_template_ids("violation=AAAA1111, progress = BBBB2222") == {"violation": "AAAA1111",
                                                                              "progress": "BBBB2222"}
    with pytest.raises(ValueError):
        parse_template_ids("violatoin=AAAA1111")
    assert template_ids({"APP_ENV": "production"}) == {}
    assert set(template_ids({"APP_ENV": "testing"})) == set(TEMPLATES)
