"""The mini-program checks records on the phone with the server's numbers (miniprogram/utils/rules.js).

A manager must never be told "OK" by the phone and "refused" by the server, or the other way round, so the
constants the client uses are read out of the JavaScript and compared with the backend's.
"""

from __future__ import annotations

import re

import pytest

from backend.records import services
from tests.contract.recorder import ROOT

RULES_JS = (ROOT / "miniprogram" / "utils" / "rules.js").read_text(encoding="utf-8")


def js_number(name: str) -> float:
    """A ``const NAME = number;`` of rules.js."""
    match = re.search(rf"^const {name} = (-?[\d.]+);$", RULES_JS, re.MULTILINE)
    assert match, f"{name} is not a plain number constant in rules.js"
    return float(match.group(1))


def js_minimums() -> dict[str, tuple[float | None, ...]]:
    """DISINFECTION_MINIMUMS of rules.js: method → (temperature, minutes, chlorine)."""
    block = re.search(r"const DISINFECTION_MINIMUMS = \{(.*?)\};", RULES_JS, re.DOTALL)
    assert block, "DISINFECTION_MINIMUMS not found in rules.js"
    found = {}
    for method, values in re.findall(r"(\w+): \[([^\]]*)\]", block.group(1)):
        found[method] = tuple(None if v.strip() == "null" else float(v) for v in values.split(","))
    return found


def test_sample_rules_match_the_server() -> None:
    """125 g, 0–8 °C and 48 hours on both sides."""
    assert js_number("SAMPLE_MIN_WEIGHT_G") == services.SAMPLE_MIN_WEIGHT_G == 125
    assert js_number("SAMPLE_FRIDGE_MIN_C") == services.SAMPLE_FRIDGE_MIN_C
    assert js_number("SAMPLE_FRIDGE_MAX_C") == services.SAMPLE_FRIDGE_MAX_C
    assert js_number("SAMPLE_RETENTION_HOURS") * 3600 == services.SAMPLE_RETENTION.total_seconds() == 48 * 3600


def test_cold_chain_limits_match_the_server() -> None:
    """Chilled goods arrive at most at 8 °C, frozen at most at -12 °C."""
    assert js_number("CHILLED_MAX_C") == services.CHILLED_MAX_C
    assert js_number("FROZEN_MAX_C") == services.FROZEN_MAX_C


def test_disinfection_minimums_match_the_server() -> None:
    """Every method with the same minimum temperature, time and chlorine concentration."""
    expected = {str(method): tuple(services.DISINFECTION_MINIMUMS[method])
                for method in services.DISINFECTION_MINIMUMS}
    assert js_minimums() == expected


@pytest.mark.parametrize(("js_name", "server_name"), [("PHONE", "PHONE"), ("CREDIT_CODE", "CREDIT_CODE")])
def test_the_register_patterns_match_the_server(js_name: str, server_name: str) -> None:
    """The staff register's phone and a supplier's credit code are checked by the server's patterns, to the letter."""
    from backend.records import schemas

    match = re.search(rf"^const {js_name} = /(.*)/;$", RULES_JS, re.MULTILINE)
    assert match, f"{js_name} is not a plain regular expression in rules.js"
    assert match.group(1) == getattr(schemas, server_name).pattern
