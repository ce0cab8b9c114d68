"""No dict literal in backend/ copies the labels of a ``LabelledStrEnum``: ``labels()`` (or the constant made from it)
is the one place a value's Chinese label is declared, so a copy cannot drift from it (or miss a member)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _enums(trees: dict[Path, ast.Module]) -> dict[str, dict[str, tuple[str, str]]]:
    """Each ``LabelledStrEnum`` subclass by name: member name → (value, label)."""
    enums: dict[str, dict[str, tuple[str, str]]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(isinstance(base, ast.Name) and base.id == "LabelledStrEnum" for base in node.bases):
                continue
            members = enums.setdefault(node.name, {})
            for statement in node.body:
                if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                        and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Tuple)
                        and len(statement.value.elts) == 2
                        and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                for e in statement.value.elts)):
                    value, label = (e.value for e in statement.value.elts)  # type: ignore[attr-defined]
                    members[statement.targets[0].id] = (value, label)
    return enums


def _copies_labels(node: ast.Dict, enums: dict[str, dict[str, tuple[str, str]]]) -> str | None:
    """The enum whose labels the dict literal repeats (keys its members or their values, values their labels)."""
    if len(node.keys) < 2 or not all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values):
        return None
    for name, members in enums.items():
        by_value = dict(members.values())
        copied = True
        for key, label in zip(node.keys, node.values, strict=True):
            if (isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name) and key.value.id == name
                    and key.attr in members):
                value = members[key.attr][0]
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                value = key.value
            else:
                copied = False
                break
            if by_value.get(value) != label.value:  # type: ignore[attr-defined]
                copied = False
                break
        if copied:
            return name
    return None


def _label_copies(root: Path, folder: str) -> list[str]:
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted((root / folder).rglob("*.py"))}
    enums = _enums(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and (name := _copies_labels(node, enums)):
                found.append(f"{path.relative_to(root)}:{node.lineno} repeats {name}.labels()")
    return found


def test_no_dict_literal_repeats_an_enums_labels():
    assert len(list((ROOT / "backend").rglob("*.py"))) > 50  # the walk really reads the code
    assert _label_copies(ROOT, "backend") == []


def test_the_check_sees_a_copy(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "meals.py").write_text(
        "class Meal(LabelledStrEnum):\n    LUNCH = 'lunch', '午餐'\n    DINNER = 'dinner', '晚餐'\n\n"
        "BY_MEMBER = {Meal.LUNCH: '午餐', Meal.DINNER: '晚餐'}\n"
        "BY_VALUE = {'lunch': '午餐', 'dinner': '晚餐'}\n"
        "OTHER_TEXT = {'lunch': '午饭', 'dinner': '晚饭'}\n")
    assert _label_copies(tmp_path, "backend") == ["backend/meals.py:5 repeats Meal.labels()",
                                                  "backend/meals.py:6 repeats Meal.labels()"]
