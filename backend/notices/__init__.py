"""Notices: the outbox and in-app inbox, WeChat subscribe messages and their quotas, and the push endpoint.

Importing the package registers the listener that writes the notices of every new violation inside the
transaction that creates it (``backend.all_models`` imports it, so the api, scheduler and workers all do).
"""

from backend.notices import listeners  # noqa: F401
