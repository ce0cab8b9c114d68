"""Write the API's OpenAPI document (development mode: dev-login included) for the console's typed client.

    python scripts/dump_openapi.py console/src/api/openapi.json

The app is built in process against an in-memory SQLite database; no server and no network.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the development app (the one the console talks to in the demo)."""
    from backend.app import create_app

    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"APP_ENV": "development", "DATABASE_URL": "sqlite://", "INSTANCE_PATH": instance})
        with app.app_context():
            return app.spec


def main(target: str) -> None:
    """Write the document, keys sorted so a diff shows only real changes."""
    text = json.dumps(openapi_document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    Path(target).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "console/src/api/openapi.json")
