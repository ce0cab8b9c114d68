"""Hooks that tie notices to the changes they report."""

from __future__ import annotations

from backend.notices.violation_notices import notify_created
from backend.violations.services import on_violation_created

on_violation_created(notify_created)
