"""The README starts with the two commands and documents every setting the code reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_starts_with_the_two_commands():
    first_lines = ROOT.joinpath("README.md").read_text().split("```")[1]
    assert "make demo" in first_lines and "make test" in first_lines


def test_generated_tables_match_the_code():
    # The settings and the WeChat subscribe-message templates an operator picks: both from the code.
    result = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
