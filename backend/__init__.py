"""互联网+明厨亮灶: the Flask application package."""

# Chinese validation messages must be in place before any schema class creates its fields.
from backend import schemas_common  # noqa: F401  isort: skip
from backend.app import create_app, create_worker_app

__all__ = ["create_app", "create_worker_app"]
