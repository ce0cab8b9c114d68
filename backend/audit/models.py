"""The audit log: who watched which camera, who changed what, who exported what."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import DefaultNow, IntPK, SchoolRef, UserRef
from backend.extensions import db


class AuditLog(db.Model):
    """One audited action. Rows are only ever inserted."""

    __tablename__ = "audit_log"

    id: Mapped[IntPK]
    at: Mapped[DefaultNow] = mapped_column(index=True)
    actor_id: Mapped[UserRef | None] = mapped_column(index=True)
    school_id: Mapped[SchoolRef | None]
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
