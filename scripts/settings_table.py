"""Write the README's settings table from backend.config.SETTINGS (run after adding a setting).

    .venv/bin/python scripts/settings_table.py          # rewrite README.md between the markers
    .venv/bin/python scripts/settings_table.py --check  # exit 1 when the README is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config import SETTINGS  # noqa: E402

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def render() -> str:
    """The settings table as Markdown."""
    rows = ["| setting | default | what it is for |", "|---|---|---|"]
    for setting in SETTINGS:
        flags = [flag for flag, on in (("required in production", setting.required_in_production),
                                       ("secret", setting.secret)) if on]
        default = f"`{setting.default}`" if setting.default else "—"
        suffix = f" ({', '.join(flags)})" if flags else ""
        rows.append(f"| `{setting.name}` | {default} | {setting.description}{suffix} |")
    return "\n".join(rows)


def updated(readme: str) -> str:
    """The README with its settings block replaced."""
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


def main() -> int:
    """Rewrite or check the README."""
    path = ROOT / "README.md"
    readme = path.read_text()
    if BEGIN not in readme or END not in readme:
        print("README.md has no settings markers", file=sys.stderr)
        return 1
    new = updated(readme)
    if "--check" in sys.argv:
        if new != readme:
            print("README.md settings table is out of date: run scripts/settings_table.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
