"""The console's tables of backend enums say what the server says.

A regulator who reads a finding as 较重 on the phone and 严重 at the desk cannot tell which is right; so each
table of the console that names a backend enum's members is read out of its TypeScript source and compared with
the enum's labels (the mini-program's tables are checked by tests/contract/test_client_labels.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.accounts.models import MembershipStatus, Role
from backend.audit.actions import AuditCategory
from backend.enums import LabelledStrEnum
from backend.notices.models import AttemptOutcome, NoticeStatus
from backend.regulators.models import RoundStatus, Severity
from backend.violations.models import ViolationKind
from tests.contract.recorder import ROOT

SERVICES = ROOT / "console" / "src" / "services"
# (file, constant) → the enum it names.
TABLES: dict[tuple[str, str], type[LabelledStrEnum]] = {
    ("supervision.ts", "ROUND_STATUS"): RoundStatus,
    ("supervision.ts", "SEVERITIES"): Severity,
    ("kinds.ts", "KIND_LABELS"): ViolationKind,
    ("school.ts", "ROLE_LABELS"): Role,
    ("school.ts", "STATUS_LABELS"): MembershipStatus,
    ("school.ts", "AUDIT_CATEGORIES"): AuditCategory,
    ("ops.ts", "DELIVERY_STATES"): NoticeStatus,
    ("ops.ts", "ATTEMPT_OUTCOMES"): AttemptOutcome,
}


def console_table(path: Path, name: str) -> dict[str, str]:
    """``export const NAME ... = { code: '标签', ... }`` of a TypeScript file, as a dict."""
    source = path.read_text(encoding="utf-8")
    block = re.search(rf"^export const {name}\b[^=]*= \{{(.*?)\}}(?: as const)?\s*$", source,
                      re.MULTILINE | re.DOTALL)
    assert block, f"{name} not found in {path.name}"
    return dict(re.findall(r"(\w+): '([^']*)'", block.group(1)))


@pytest.mark.parametrize(("file", "name"), sorted(TABLES))
def test_each_console_table_of_a_backend_enum_holds_exactly_its_labels(file: str, name: str) -> None:
    expected = {str(member): label for member, label in TABLES[(file, name)].labels().items()}
    assert console_table(SERVICES / file, name) == expected


def test_the_table_reader_reads_what_the_file_says(tmp_path) -> None:
    # The check above can fail: the reader returns the labels as written, a changed one included.
    path = tmp_path / "x.ts"
    path.write_text("export const T: Record<string, string> = {\n  minor: '一般', major: '严重',\n}\n",
                    encoding="utf-8")
    assert console_table(path, "T") == {"minor": "一般", "major": "严重"}
