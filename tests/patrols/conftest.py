"""The fixtures of tests/violations/conftest.py (the demo seed known to the WeChat fake, a local object store)."""

from tests.violations.conftest import app_config, kitchen  # noqa: F401  fixtures, registered by import
