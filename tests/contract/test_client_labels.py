"""The mini-program's label tables say what the server says (miniprogram/utils/labels.js).

A code the phone has no label for shows as the raw code, and a label that differs from the console's confuses a
principal who uses both; so each table of a backend enum is read out of the JavaScript (by Node, as the
mini-program loads it) and compared with the enum's labels.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from backend.accounts.models import MembershipStatus, Relation, Role
from backend.enums import LabelledStrEnum
from backend.records.models import (
    AttachmentRole,
    CertificateKind,
    CompanionRole,
    DisinfectionMethod,
    DisinfectionTarget,
    IngredientCategory,
    StorageCondition,
)
from backend.regulators.models import RoundStatus, Severity
from backend.schools.models import Meal
from backend.violations.models import ViolationKind, ViolationSource
from tests.contract.recorder import ROOT

LABELS_JS = ROOT / "miniprogram" / "utils" / "labels.js"
TABLES: dict[str, type[LabelledStrEnum]] = {
    "ROLES": Role, "RELATIONS": Relation, "MEALS": Meal, "VIOLATION_SOURCES": ViolationSource,
    "DISINFECTION_METHODS": DisinfectionMethod, "DISINFECTION_TARGETS": DisinfectionTarget,
    "INGREDIENT_CATEGORIES": IngredientCategory, "STORAGE_CONDITIONS": StorageCondition,
    "CERTIFICATE_KINDS": CertificateKind, "ROUND_STATUS": RoundStatus, "SEVERITIES": Severity,
    "MEMBERSHIP_STATUS": MembershipStatus, "FILE_ROLES": AttachmentRole,
}


@pytest.fixture(scope="module")
def client_labels() -> dict[str, dict[str, str]]:
    """labels.js's exports, as Node loads them."""
    node = shutil.which("node")
    assert node, "Node.js is needed (the mini-program's tests run on it too)"
    script = "process.stdout.write(JSON.stringify(require(process.argv[1])))"
    return json.loads(subprocess.run([node, "-e", script, str(LABELS_JS)], check=True, capture_output=True,
                                     text=True, timeout=60).stdout)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_of_a_backend_enum_holds_exactly_its_labels(client_labels, table: str) -> None:
    expected = {str(member): label for member, label in TABLES[table].labels().items()}
    assert client_labels[table] == expected


def test_the_sources_table_covers_every_source_a_violation_can_have(client_labels) -> None:
    # The violation page shows the source through this table: a source missing here shows as its code.
    assert set(client_labels["VIOLATION_SOURCES"]) == {str(source) for source in ViolationSource}


def test_the_report_form_offers_kinds_of_violations_by_the_server_s_labels(client_labels) -> None:
    # 反映问题 offers the kinds a person can see, not every kind: each is a violation kind under its own label.
    offered = client_labels["REPORT_KINDS"]
    assert offered == {code: ViolationKind(code).label for code in offered}
    assert list(offered)[-1] == ViolationKind.REPORTED  # the catch-all last


def test_the_accompanied_meal_form_offers_the_backend_s_companion_roles() -> None:
    page = (ROOT / "miniprogram" / "pages" / "records" / "accompanied" / "index.js").read_text(encoding="utf-8")
    block = re.search(r"^const ROLES = \[(.*?)\];$", page, re.MULTILINE)
    assert block, "ROLES not found in the accompanied meal page"
    offered = dict(re.findall(r"code: '(\w+)', label: '([^']+)'", block.group(1)))
    assert offered == {str(role): label for role, label in CompanionRole.labels().items()}
