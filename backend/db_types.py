"""Column types shared by the models."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Annotated, Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import DateTime, ForeignKey, Text
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

from backend.timeutil import as_utc, utcnow


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive, we give it back aware)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Refuse naive datetimes so no local time sneaks into the database."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Give every datetime back as aware UTC."""
        return None if value is None else as_utc(value)


class _FieldCipher:
    """Holds the process-wide Fernet key for encrypted columns; set by ``create_app`` and the workers."""

    fernet: Fernet | None = None

    @classmethod
    def configure(cls, secret_key: str, field_key: str | None = None) -> None:
        key = field_key.encode() if field_key else base64.urlsafe_b64encode(
            hashlib.sha256(b"field-encryption:" + secret_key.encode()).digest())
        cls.fernet = Fernet(key)

    @classmethod
    def get(cls) -> Fernet:
        if cls.fernet is None:
            raise RuntimeError("field encryption is not configured; call configure_field_encryption()")
        return cls.fernet


def configure_field_encryption(secret_key: str, field_key: str | None = None) -> None:
    """Set the key that encrypts secret columns (camera source URLs and credentials)."""
    _FieldCipher.configure(secret_key, field_key)


class EncryptedText(TypeDecorator):
    """Text encrypted at rest with Fernet: camera URLs and passwords are unreadable in a database dump."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        """Encrypt before writing."""
        if value is None:
            return None
        return _FieldCipher.get().encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        """Decrypt after reading; a row written under another key reads as an error, not as garbage."""
        if value is None:
            return None
        try:
            return _FieldCipher.get().decrypt(value.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("encrypted column cannot be decrypted with the configured key") from exc


# The column kinds nearly every model has, spelled once (SQLAlchemy's PEP 593 ``Annotated`` columns). Plain
# ``Mapped[datetime]`` columns are UTCDateTime through ``Base.type_annotation_map`` (backend/extensions.py).
IntPK = Annotated[int, mapped_column(primary_key=True)]
DefaultNow = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]
# The references most tables hold, each with the same foreign key (and index) wherever it appears; nullability
# follows the annotation (``Mapped[UserRef | None]``). A user (who did something, or whom the row is for), not
# indexed on its own: tables read by user spell ``index=True`` or carry a composite index.
UserRef = Annotated[int, mapped_column(ForeignKey("user_account.id"))]
# The school a row belongs to, indexed: the school's lists and the regulators' region lists filter by it.
SchoolRef = Annotated[int, mapped_column(ForeignKey("school.id"), index=True)]
# A camera's own state or history (stream state, detection memory, health and tuning events): deleted with it.
CameraOwnedRef = Annotated[int, mapped_column(ForeignKey("camera.id", ondelete="CASCADE"))]
