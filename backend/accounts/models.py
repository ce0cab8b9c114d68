"""Users, login sessions, school memberships, regulator scopes and invites."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db_types import DefaultNow, EncryptedText, IntPK, SchoolRef, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db
from backend.schools.models import Region, School, SchoolClass


class Role(LabelledStrEnum):
    """Roles a user holds in one school."""

    PARENT = "parent", "家长"
    COMMITTEE = "committee", "家委会成员"
    MANAGER = "manager", "食堂负责人"
    STAFF = "staff", "学校食品安全管理员"
    PRINCIPAL = "principal", "校长"


ROLE_LABELS = Role.labels()


class Relation(LabelledStrEnum):
    """How a parent applicant is related to the child."""

    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"
    PATERNAL_GRANDFATHER = "paternal_grandfather", "爷爷"
    PATERNAL_GRANDMOTHER = "paternal_grandmother", "奶奶"
    MATERNAL_GRANDFATHER = "maternal_grandfather", "外公"
    MATERNAL_GRANDMOTHER = "maternal_grandmother", "外婆"
    GUARDIAN = "guardian", "其他监护人"


RELATION_LABELS = Relation.labels()


class MembershipStatus(LabelledStrEnum):
    """Life of a binding between a user and a school."""

    PENDING = "pending", "待审核"
    ACTIVE = "active", "已通过"
    REJECTED = "rejected", "未通过"
    REVOKED = "revoked", "已解除"


class User(db.Model):
    """A WeChat user of the mini-program (or an admin)."""

    __tablename__ = "user_account"

    id: Mapped[IntPK]
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    # Kept to decrypt wx data later; never serialised.
    session_key: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(String(20))
    nickname: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[DefaultNow]
    last_login_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", order_by="Membership.id")
    regulator_scopes: Mapped[list[RegulatorScope]] = relationship(
        back_populates="user", foreign_keys="RegulatorScope.user_id", order_by="RegulatorScope.id")

    @property
    def phone_bound(self) -> bool:
        """Whether a phone number has been bound (staff accounts need one)."""
        return bool(self.phone)


class AuthSession(db.Model):
    """Our own login session: only the sha256 of the bearer token is stored."""

    __tablename__ = "auth_session"

    id: Mapped[IntPK]
    user_id: Mapped[UserRef] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[DefaultNow]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class Membership(db.Model):
    """A user's role in a school, with the name the applicant gave; a parent's binding also names the child's
    class (one of the school's classes) and how the parent is related to the child."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "school_id", "role"),)

    id: Mapped[IntPK]
    user_id: Mapped[UserRef] = mapped_column(index=True)
    school_id: Mapped[SchoolRef]
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MembershipStatus.PENDING)
    school_class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(32))
    relation: Mapped[str | None] = mapped_column(String(24))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invite.id"))
    created_at: Mapped[DefaultNow]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[UserRef | None]

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    school: Mapped[School] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()

    @property
    def child_class(self) -> str | None:
        """The name of the child's class, as approvers and the parent read it."""
        return self.school_class.name if self.school_class is not None else None


class RegulatorScope(db.Model):
    """A regulator's authority over a region and everything below it."""

    __tablename__ = "regulator_scope"
    __table_args__ = (UniqueConstraint("user_id", "region_id"),)

    id: Mapped[IntPK]
    user_id: Mapped[UserRef] = mapped_column(index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    granted_by_id: Mapped[UserRef | None]
    created_at: Mapped[DefaultNow]

    user: Mapped[User] = relationship(back_populates="regulator_scopes", foreign_keys=[user_id])
    region: Mapped[Region] = relationship()


class Invite(db.Model):
    """An invitation to bind to a school with a role.

    ``scene`` goes into the mini-program code (≤32 characters, random); ``short_code`` is typed by hand.
    """

    __tablename__ = "invite"

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef]
    role: Mapped[str] = mapped_column(String(16))
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    short_code: Mapped[str] = mapped_column(String(12), unique=True)
    created_by_id: Mapped[UserRef | None]
    created_at: Mapped[DefaultNow]
    expires_at: Mapped[datetime]
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None]
    # A parents' invite may name the child's class (a class teacher's code): redeeming it binds to that class.
    school_class_id: Mapped[int | None] = mapped_column(ForeignKey("school_class.id"))

    school: Mapped[School] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship()

    @property
    def child_class(self) -> str | None:
        """The name of the class the invite names, if any."""
        return self.school_class.name if self.school_class is not None else None

    @property
    def is_revoked(self) -> bool:
        """Whether the invite was withdrawn."""
        return self.revoked_at is not None


class ConsoleTicketStatus(StrEnum):
    """pending → confirmed (scanned and confirmed in the mini-program) → consumed (the browser got its session)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    CONSUMED = "consumed"


class ConsoleLoginTicket(db.Model):
    """A one-time ticket to log in to the web console by scanning its mini-program code.

    ``scene`` goes into the mini-program code; only the browser that asked for the ticket holds the secret
    whose hash is ``browser_hash``, so a photographed code cannot give anyone else the session.
    """

    __tablename__ = "console_login_ticket"

    id: Mapped[IntPK]
    scene: Mapped[str] = mapped_column(String(32), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ConsoleTicketStatus.PENDING)
    user_id: Mapped[UserRef | None]
    created_at: Mapped[DefaultNow]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]
