"""Tests of the fakes in tests/fakes.

Bare ``pytest`` (unlike ``python -m pytest``) does not put the repository root on ``sys.path`` while
``tests/`` has no ``__init__.py``; the tests import ``tests.fakes``, so make the root importable here.
``pythonpath = ["."]`` under ``[tool.pytest.ini_options]`` would make this unnecessary.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
