"""No function, method or class in backend/ or workers/ reaches radon's cyclomatic-complexity grade E (31+)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

ROOT = Path(__file__).resolve().parents[2]
TOO_COMPLEX = ("E", "F")


def _blocks(blocks: Iterable[object]) -> Iterator[object]:
    """Every block radon found, with the methods of classes and the functions nested in functions."""
    for block in blocks:
        yield block
        yield from _blocks(getattr(block, "methods", ()))
        yield from _blocks(getattr(block, "closures", ()))
        yield from _blocks(getattr(block, "inner_classes", ()))


def _too_complex(root: Path, folder: str) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        for block in _blocks(cc_visit(path.read_text(encoding="utf-8"))):
            if cc_rank(block.complexity) in TOO_COMPLEX:
                found.append(f"{path.relative_to(root)}:{block.lineno} {block.fullname} "
                             f"{cc_rank(block.complexity)} ({block.complexity})")
    return found


def test_no_block_of_grade_e_or_worse():
    files = [*(ROOT / "backend").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]
    assert len(files) > 50  # the walk really reads the code
    assert _too_complex(ROOT, "backend") + _too_complex(ROOT, "workers") == []


def test_the_check_sees_a_grade_e_function(tmp_path):
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(31))
    (tmp_path / "workers").mkdir()
    (tmp_path / "workers" / "tangled.py").write_text(f"def tangled(x):\n{branches}    return -1\n")
    assert _too_complex(tmp_path, "workers") == ["workers/tangled.py:1 tangled E (32)"]
