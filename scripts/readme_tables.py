"""Write the README's generated tables: the settings (backend.config.SETTINGS) and the WeChat subscribe-message
templates the operator picks in the WeChat console (backend.notices.templates.TEMPLATES). Run after adding a
setting or changing a template.

    .venv/bin/python scripts/readme_tables.py          # rewrite README.md between the markers
    .venv/bin/python scripts/readme_tables.py --check  # exit 1 when the README is out of date
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.config import SETTINGS  # noqa: E402
from backend.notices.templates import TEMPLATES  # noqa: E402


def settings() -> str:
    """The settings table as Markdown."""
    rows = ["| setting | default | what it is for |", "|---|---|---|"]
    for setting in SETTINGS:
        flags = [flag for flag, on in (("required in production", setting.required_in_production),
                                       ("secret", setting.secret)) if on]
        default = f"`{setting.default}`" if setting.default else "—"
        suffix = f" ({', '.join(flags)})" if flags else ""
        rows.append(f"| `{setting.name}` | {default} | {setting.description}{suffix} |")
    return "\n".join(rows)


def templates() -> str:
    """The subscribe-message templates as Markdown: the name in WECHAT_SUBSCRIBE_TEMPLATES, the title, and each
    keyword's key and name as the chosen WeChat template must have them."""
    rows = ["| name | title | keywords (key: name) |", "|---|---|---|"]
    for name, template in TEMPLATES.items():
        keywords = "、".join(f"`{kw.key}`: {kw.label}" for kw in template.keywords)
        rows.append(f"| `{name}` | {template.title} | {keywords} |")
    return "\n".join(rows)


#: Each generated block: its name in the markers ``<!-- name:begin -->`` / ``<!-- name:end -->``, and its table.
BLOCKS: dict[str, Callable[[], str]] = {"settings": settings, "templates": templates}


def updated(readme: str) -> str:
    """The README with every generated block replaced."""
    for name, render in BLOCKS.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        head, _, rest = readme.partition(begin)
        _, _, tail = rest.partition(end)
        readme = f"{head}{begin}\n{render()}\n{end}{tail}"
    return readme


def main() -> int:
    """Rewrite or check the README."""
    path = ROOT / "README.md"
    readme = path.read_text()
    missing = [name for name in BLOCKS
               if f"<!-- {name}:begin -->" not in readme or f"<!-- {name}:end -->" not in readme]
    if missing:
        print(f"README.md has no markers for {', '.join(missing)}", file=sys.stderr)
        return 1
    new = updated(readme)
    if "--check" in sys.argv:
        if new != readme:
            print("README.md's generated tables are out of date: run scripts/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
