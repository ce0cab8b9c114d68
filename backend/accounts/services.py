"""Login sessions, phone binding, invites, memberships and regulator scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
from flask import current_app
from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from backend.accounts.models import (
    AuthSession,
    Invite,
    Membership,
    MembershipStatus,
    RegulatorScope,
    Role,
    User,
)
from backend.accounts.principal_cache import PrincipalCache
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.db_types import UTCDateTime
from backend.db_util import insert_if_absent
from backend.errors import ApiError, not_found
from backend.extensions import autocommit_engine, db
from backend.integrations.wechat import WeChatError, WeChatGateway, WeChatUnavailable
from backend.notices import binding_notices
from backend.notices.recipients import school_members
from backend.permissions import (
    STAFF_ROLES,
    Action,
    MembershipInfo,
    Principal,
    ScopeInfo,
    allowed,
    approve_action,
    invite_action,
    require,
    roles_allowed,
)
from backend.schools.models import Region, School, SchoolClass
from backend.schools.services import school_classes
from backend.timeutil import utcnow

# Readable by hand: no 0/O, 1/I/L.
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
SCENE_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
SCENE_LENGTH = 24
BIND_PAGE = "pages/accounts/bind/index"


@dataclass(frozen=True)
class IssuedSession:
    """A new login: the bearer token is shown to the client once and stored only hashed."""

    token: str
    session: AuthSession
    user: User


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _wechat_login_error(exc: WeChatError) -> ApiError:
    if isinstance(exc, WeChatUnavailable):
        return ApiError(503, "wechat_unavailable", "微信服务暂时不可用，请稍后重试")
    if exc.errcode in (40029, 40163):
        return ApiError(401, "wechat_code_invalid", "登录凭证无效或已使用，请重新登录")
    if exc.errcode == 45011:
        return ApiError(429, "wechat_rate_limited", "登录过于频繁，请稍后再试")
    if exc.errcode == 40226:
        return ApiError(403, "wechat_user_blocked", "该微信账号存在风险，暂时无法登录")
    return ApiError(502, "wechat_error", "微信登录失败，请稍后重试", {"errcode": exc.errcode})


def issue_session(user: User, ttl_hours: int, client: str | None = None) -> IssuedSession:
    """Create a revocable session token for a user (the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session = AuthSession(user=user, token_hash=hash_token(token), created_at=now,
                          expires_at=now + timedelta(hours=ttl_hours), client=(client or "")[:200] or None)
    db.session.add(session)
    user.last_login_at = now
    return IssuedSession(token, session, user)


def _user_for_openid(openid: str, unionid: str | None, session_key: str | None) -> User:
    user = db.session.scalar(select(User).where(User.openid == openid))
    if user is None:
        # Two first logins of the same user may race: the insert that loses leaves the winner's row.
        insert_if_absent(User, {"openid": openid, "is_admin": False, "created_at": utcnow()}, ["openid"])
        user = db.session.scalar(select(User).where(User.openid == openid))
    if unionid:
        user.unionid = unionid
    if session_key:
        user.session_key = session_key
    return user


def login_with_wechat(gateway: WeChatGateway, code: str, ttl_hours: int, client: str | None = None) -> IssuedSession:
    """``wx.login`` code → ``jscode2session`` → our own session token. ``session_key`` stays here."""
    try:
        info = gateway.code_to_session(code)
    except WeChatError as exc:
        raise _wechat_login_error(exc) from exc
    user = _user_for_openid(info.openid, info.unionid, info.session_key)
    issued = issue_session(user, ttl_hours, client)
    db.session.commit()
    return issued


def dev_login(openid: str, ttl_hours: int) -> IssuedSession:
    """Log in as any openid without WeChat; the route exists only in development mode."""
    user = _user_for_openid(openid, None, None)
    issued = issue_session(user, ttl_hours, "dev-login")
    db.session.commit()
    return issued


def _principal_statement() -> Select:
    """The authentication query, built once per process (bound parameters: token_hash, now)."""
    session, user = AuthSession.__table__, User.__table__
    membership, school = Membership.__table__, School.__table__
    scope, region, school_class = RegulatorScope.__table__, Region.__table__, SchoolClass.__table__
    return (
        select(user.c.id, user.c.is_admin, user.c.nickname, user.c.phone,
               membership.c.id.label("m_id"), membership.c.school_id, school.c.name.label("school_name"),
               membership.c.role, membership.c.status, school_class.c.name.label("child_class"),
               region.c.id.label("region_id"), region.c.code, region.c.name.label("region_name"), region.c.path)
        .select_from(session.join(user, user.c.id == session.c.user_id)
                     .outerjoin(membership, membership.c.user_id == user.c.id)
                     .outerjoin(school, school.c.id == membership.c.school_id)
                     .outerjoin(school_class, school_class.c.id == membership.c.school_class_id)
                     .outerjoin(scope, scope.c.user_id == user.c.id)
                     .outerjoin(region, region.c.id == scope.c.region_id))
        .where(session.c.token_hash == bindparam("token_hash"), session.c.revoked_at.is_(None),
               session.c.expires_at > bindparam("now", type_=UTCDateTime))
        .order_by(membership.c.id, region.c.id)
    )


_PRINCIPAL_STATEMENT: Select | None = None
# The same statement compiled for psycopg's named placeholders, run on the driver's own cursor.
_PRINCIPAL_SQL: str | None = None


def _principal_rows(params: dict[str, Any]) -> list[Any]:
    """Run the authentication statement; on PostgreSQL through the driver's cursor.

    SQLAlchemy's execution and result machinery cost about 0.14 ms of CPU per call, more than psycopg's
    own work; the statement is still built (and compiled) by SQLAlchemy, so there is one query. The
    columns are plain types, so the driver's rows need no result processing.
    """
    global _PRINCIPAL_STATEMENT, _PRINCIPAL_SQL
    if _PRINCIPAL_STATEMENT is None:
        _PRINCIPAL_STATEMENT = _principal_statement()
        _PRINCIPAL_SQL = str(_PRINCIPAL_STATEMENT.compile(dialect=postgresql.psycopg.dialect(paramstyle="pyformat")))
    engine = autocommit_engine()
    raw_sql = _PRINCIPAL_SQL if engine.dialect.name == "postgresql" else None
    for attempt in (1, 2):
        with engine.connect() as conn:
            try:
                if raw_sql is None:
                    return list(conn.execute(_PRINCIPAL_STATEMENT, params).all())
                with conn.connection.driver_connection.cursor() as cursor:
                    cursor.execute(raw_sql, params, prepare=True)
                    return cursor.fetchall()
            except (DBAPIError, psycopg.OperationalError) as exc:
                # The database restarted since this pooled connection was opened: one retry on a fresh one.
                invalidated = exc.connection_invalidated if isinstance(exc, DBAPIError) else True
                if not invalidated or attempt == 2:
                    raise
                conn.invalidate()
    raise AssertionError("unreachable")


def principal_for_token(token: str) -> Principal | None:
    """The caller behind a live session token, with bindings and regulator scopes; None when unknown, expired
    or revoked.

    Authentication runs on every request, so it is one prepared statement on the autocommit engine: no ORM
    objects, no BEGIN/ROLLBACK round trips, and a request that reads nothing else (``/me``) touches the
    database exactly once; and the principals of recent tokens are kept for a second (``principal_cache``).
    """
    token_hash = hash_token(token)
    cache: PrincipalCache | None = current_app.extensions.get("principal_cache")
    if cache is not None:
        cached = cache.get(token_hash)
        if cached is not None:
            return cached
        commits = cache.commits()
    rows = _principal_rows({"token_hash": token_hash, "now": utcnow()})
    if not rows:
        return None
    # Positions follow the select list of _principal_statement.
    user_id, is_admin, nickname, phone = rows[0][:4]
    memberships = {r[4]: MembershipInfo(*r[4:10]) for r in rows if r[4] is not None}
    scopes = {r[10]: ScopeInfo(*r[10:14]) for r in rows if r[10] is not None}
    principal = Principal.build(user_id, bool(is_admin), nickname, bool(phone),
                                tuple(memberships.values()), tuple(scopes.values()))
    if cache is not None:
        cache.put(token_hash, principal, commits)
    return principal


def install_principal_cache(app: Any) -> None:
    """Keep the principals of recent tokens for ``AUTH_CACHE_SECONDS`` in this app (0: no cache)."""
    ttl = float(app.config["AUTH_CACHE_SECONDS"])
    app.extensions.pop("principal_cache", None)
    if ttl > 0:
        app.extensions["principal_cache"] = PrincipalCache(ttl)


def logout(token: str) -> None:
    """Revoke the session of this token."""
    db.session.execute(update(AuthSession).where(AuthSession.token_hash == hash_token(token),
                                                 AuthSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()


def revoke_all_sessions(user_id: int, actor_id: int | None) -> int:
    """Revoke every live session of a user (lost phone, removed staff); returns how many."""
    result = db.session.execute(update(AuthSession).where(AuthSession.user_id == user_id,
                                                          AuthSession.revoked_at.is_(None))
                                .values(revoked_at=utcnow()))
    record_audit(actor_id, AuditAction.SESSIONS_REVOKE_ALL, target=("user", user_id),
                 details={"count": result.rowcount})
    db.session.commit()
    return result.rowcount


def bind_phone(gateway: WeChatGateway, user: User, code: str) -> str:
    """Store the phone number behind a ``getPhoneNumber`` code (staff accounts need one)."""
    try:
        phone = gateway.get_phone_number(code)
    except WeChatUnavailable as exc:
        raise ApiError(503, "wechat_unavailable", "微信服务暂时不可用，请稍后重试") from exc
    except WeChatError as exc:
        if exc.errcode == 40029:
            raise ApiError(400, "phone_code_invalid", "手机号授权码无效，请重新授权") from exc
        raise ApiError(502, "wechat_error", "获取手机号失败，请稍后重试", {"errcode": exc.errcode}) from exc
    user.phone = phone
    record_audit(user.id, AuditAction.USER_BIND_PHONE, target=("user", user.id))
    db.session.commit()
    return phone


# -- invites ---------------------------------------------------------------------------------------

def random_code(alphabet: str, length: int) -> str:
    """A random string of ``length`` characters of ``alphabet`` (invite and log-in scenes, short codes)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _invite_class(school: School, role: Role, class_id: int | None) -> SchoolClass | None:
    """The class a parents' invite names: one of the school's; other roles name none (422 on the field)."""
    if class_id is None:
        return None
    school_class = db.session.get(SchoolClass, class_id)
    if role is not Role.PARENT:
        problem = "只有家长邀请可以指定班级"
    elif school_class is None or school_class.school_id != school.id:
        problem = "不是本校的班级"
    else:
        return school_class
    raise ApiError(422, "invite_class_invalid", problem, {"fields": {"class_id": [problem]}})


def create_invite(actor: Principal, school: School, role: Role, expires_in_hours: int, max_uses: int,
                  class_id: int | None = None) -> Invite:
    """Create an invite with a random ``scene`` (for the mini-program code) and a short code to type; a parents'
    invite may name the child's class."""
    require(actor, invite_action(role), school)
    invite = Invite(school_id=school.id, role=role, created_by_id=actor.user.id,
                    scene=random_code(SCENE_ALPHABET, SCENE_LENGTH),
                    short_code=random_code(SHORT_CODE_ALPHABET, SHORT_CODE_LENGTH),
                    expires_at=utcnow() + timedelta(hours=expires_in_hours), max_uses=max_uses,
                    school_class=_invite_class(school, role, class_id))
    db.session.add(invite)
    db.session.flush()
    record_audit(actor.user.id, AuditAction.INVITE_CREATE, school_id=school.id, target=("invite", invite.id),
                 details={"role": role, "max_uses": max_uses, "expires_in_hours": expires_in_hours,
                          "class_id": class_id})
    db.session.commit()
    return invite


def revoke_invite(actor: Principal, invite: Invite) -> Invite:
    """Stop an invite from being redeemed."""
    require(actor, invite_action(Role(invite.role)), invite.school)
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        record_audit(actor.user.id, AuditAction.INVITE_REVOKE, school_id=invite.school_id, target=("invite", invite.id))
        db.session.commit()
    return invite


def invite_code_image(actor: Principal, gateway: WeChatGateway, invite: Invite, env_version: str) -> bytes:
    """The mini-program code image of an invite."""
    require(actor, invite_action(Role(invite.role)), invite.school)
    return mini_program_code(gateway, invite.scene, BIND_PAGE, env_version)


def mini_program_code(gateway: WeChatGateway, scene: str, page: str, env_version: str) -> bytes:
    """A mini-program code (PNG) opening ``page`` with ``scene``; WeChat's failures as our API errors."""
    try:
        return gateway.get_unlimited_wxacode(scene, page, env_version=env_version, check_path=env_version == "release")
    except WeChatUnavailable as exc:
        raise ApiError(503, "wechat_unavailable", "微信服务暂时不可用，请稍后重试") from exc
    except WeChatError as exc:
        raise ApiError(502, "wechat_error", "生成小程序码失败", {"errcode": exc.errcode}) from exc


def issuable_roles(actor: Principal, school: School) -> list[Role]:
    """The roles the caller may issue invites for in a school (the rule the invite routes enforce)."""
    return [role for role in Role if allowed(actor, invite_action(role), school)]


def list_invites(actor: Principal, school: School) -> list[Invite]:
    """A school's invites the caller may issue, newest first: only the principal sees staff invites' codes."""
    roles = [role.value for role in issuable_roles(actor, school)]
    return list(db.session.scalars(select(Invite).where(Invite.school_id == school.id, Invite.role.in_(roles))
                                   .order_by(Invite.id.desc())))


def find_invite(code: str) -> Invite | None:
    """An invite by its scene (scanned) or its short code (typed, case-insensitive)."""
    code = code.strip()
    return db.session.scalar(select(Invite).where((Invite.scene == code) | (Invite.short_code == code.upper())))


def redeemable_invite(code: str) -> Invite:
    """The invite behind a code if it can still be redeemed; 404 or 410 saying why not."""
    invite = find_invite(code)
    if invite is None:
        raise ApiError(404, "invite_not_found", "邀请码不存在，请核对后重新输入")
    if invite.revoked_at is not None:
        raise ApiError(410, "invite_revoked", "该邀请码已被撤销")
    if invite.expires_at <= utcnow():
        raise ApiError(410, "invite_expired", "该邀请码已过期，请联系学校重新获取")
    if invite.uses >= invite.max_uses:
        raise ApiError(410, "invite_used_up", "该邀请码已达到使用次数上限")
    return invite


def look_up_invite(code: str) -> dict[str, Any]:
    """What a binding form needs before the applicant is a member: the school, the role and its classes."""
    invite = redeemable_invite(code)
    classes = [invite.school_class] if invite.school_class is not None else school_classes(invite.school_id)
    return {"school_id": invite.school_id, "school_name": invite.school.name, "role": invite.role,
            "class_id": invite.school_class_id, "classes": classes}


def _parent_details(school_id: int, class_id: int | None, relation: str | None) -> SchoolClass:
    """The class a parent names, which must be one of the school's; 422 listing every missing detail."""
    problems: dict[str, list[str]] = {}
    school_class = db.session.get(SchoolClass, class_id) if class_id is not None else None
    if class_id is None:
        problems["class_id"] = ["请选择孩子的班级"]
    elif school_class is None or school_class.school_id != school_id:
        problems["class_id"] = ["不是本校的班级"]
    if not relation:
        problems["relation"] = ["请选择您与孩子的关系"]
    if problems:
        raise ApiError(422, "parent_details_required", "请从学校的班级列表中选择孩子的班级，并选择您与孩子的关系",
                       {"fields": problems})
    return school_class


def redeem_invite(user: User, code: str, applicant_name: str, relation: str | None,
                  class_id: int | None) -> Membership:
    """Bind a user to the invite's school; the binding waits for approval and its approvers are told."""
    invite = redeemable_invite(code)
    role = Role(invite.role)
    if role is Role.PARENT and invite.school_class_id is not None:
        if class_id not in (None, invite.school_class_id):
            message = f"该邀请码只用于{invite.child_class}"
            raise ApiError(422, "invite_class_mismatch", message, {"fields": {"class_id": [message]}})
        class_id = invite.school_class_id
    school_class = _parent_details(invite.school_id, class_id, relation) if role is Role.PARENT else None

    existing = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.school_id == invite.school_id, Membership.role == role))
    if existing is not None and existing.status in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
        code_ = "already_bound" if existing.status == MembershipStatus.ACTIVE else "binding_pending"
        raise ApiError(409, code_, "您已绑定该学校" if code_ == "already_bound" else "您的绑定申请正在审核中")

    # Count the use atomically so concurrent redemptions can never exceed max_uses.
    claimed = db.session.execute(
        update(Invite).where(Invite.id == invite.id, Invite.uses < Invite.max_uses, Invite.revoked_at.is_(None))
        .values(uses=Invite.uses + 1)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise ApiError(410, "invite_used_up", "该邀请码已达到使用次数上限")

    membership = existing or Membership(user_id=user.id, school_id=invite.school_id, role=role)
    membership.status = MembershipStatus.PENDING
    membership.applicant_name = applicant_name
    membership.relation = relation if role is Role.PARENT else None
    membership.school_class = school_class
    membership.invite_id = invite.id
    membership.decided_at = None
    membership.decided_by_id = None
    db.session.add(membership)
    db.session.flush()
    entry = record_audit(user.id, AuditAction.MEMBERSHIP_REQUEST, school_id=invite.school_id,
                         target=("membership", membership.id),
                         details={"role": role, "invite_id": invite.id, "applicant_name": applicant_name,
                                  "relation": membership.relation, "class_id": class_id})
    db.session.flush()
    approvers = school_members(invite.school_id, roles_allowed(approve_action(role)))
    binding_notices.notify_requested(membership, approvers, entry.id, utcnow())
    db.session.commit()
    return membership


def list_memberships(actor: Principal, school: School, status: str | None, role: str | None) -> list[Membership]:
    """A school's bindings, newest first, with what approvers check: the applicant and the child's class.

    Applications for staff roles (pending, rejected, revoked) are read only by who decides them, the
    principal: the parents' committee approves parents, and an applicant's name and phone are not theirs to read.
    """
    query = (select(Membership).where(Membership.school_id == school.id)
             .options(selectinload(Membership.user), selectinload(Membership.school_class)))
    if not allowed(actor, Action.APPROVE_STAFF, school):
        query = query.where(or_(Membership.role.not_in([r.value for r in STAFF_ROLES]),
                                Membership.status == MembershipStatus.ACTIVE))
    if status:
        query = query.where(Membership.status == status)
    if role:
        query = query.where(Membership.role == role)
    return list(db.session.scalars(query.order_by(Membership.id.desc())))


def decide_membership(actor: Principal, membership: Membership, approve: bool, reason: str | None) -> Membership:
    """Approve or reject a pending binding (staff roles only by the principal); the applicant is told."""
    require(actor, approve_action(Role(membership.role)), membership.school)
    if membership.status != MembershipStatus.PENDING:
        raise ApiError(409, "membership_not_pending", "该绑定申请已处理")
    now = utcnow()
    membership.status = MembershipStatus.ACTIVE if approve else MembershipStatus.REJECTED
    membership.decided_at = now
    membership.decided_by_id = actor.user.id
    entry = record_audit(actor.user.id, AuditAction.MEMBERSHIP_APPROVE if approve else AuditAction.MEMBERSHIP_REJECT,
                         school_id=membership.school_id, target=("membership", membership.id),
                         details={"role": membership.role, "user_id": membership.user_id, "reason": reason})
    db.session.flush()
    binding_notices.notify_decided(membership, approve, reason, entry.id, now)
    db.session.commit()
    return membership


def revoke_membership(actor: Principal, membership: Membership, reason: str | None) -> Membership:
    """End an active binding (a parent whose child left, a staff member who moved). The school's last principal
    stays: without one nobody at the school approves staff or reviews rectifications, and a principal clicking
    their own row would lock the school out (bind the new principal first)."""
    require(actor, approve_action(Role(membership.role)), membership.school)
    if membership.status != MembershipStatus.ACTIVE:
        raise ApiError(409, "membership_not_active", "该绑定当前不是生效状态")
    # The school's principals locked (PostgreSQL): two principals revoking each other at once cannot both pass.
    if membership.role == Role.PRINCIPAL and len(db.session.scalars(
            select(Membership.id).where(Membership.school_id == membership.school_id, Membership.role == Role.PRINCIPAL,
                                        Membership.status == MembershipStatus.ACTIVE).with_for_update()).all()) <= 1:
        raise ApiError(409, "last_principal", "学校至少需要一位校长：请先绑定新校长，再解除该绑定",
                       {"membership_id": membership.id})
    membership.status = MembershipStatus.REVOKED
    membership.decided_at = utcnow()
    membership.decided_by_id = actor.user.id
    record_audit(actor.user.id, AuditAction.MEMBERSHIP_REVOKE, school_id=membership.school_id,
                 target=("membership", membership.id),
                 details={"role": membership.role, "user_id": membership.user_id, "reason": reason})
    db.session.commit()
    return membership


def grant_membership(user: User, school: School, role: Role, actor_id: int | None) -> Membership:
    """Give a user an active role directly (admin command and demo seed), audited like any grant."""
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.school_id == school.id, Membership.role == role))
    if membership is None:
        membership = Membership(user_id=user.id, school_id=school.id, role=role)
        db.session.add(membership)
    membership.status = MembershipStatus.ACTIVE
    membership.decided_at = utcnow()
    membership.decided_by_id = actor_id
    db.session.flush()
    record_audit(actor_id, AuditAction.MEMBERSHIP_GRANT, school_id=school.id, target=("membership", membership.id),
                 details={"role": role, "user_id": user.id})
    return membership


def grant_regulator(user: User, region: Region, actor_id: int | None) -> RegulatorScope:
    """Give a user regulator authority over a region (admin command)."""
    scope = db.session.scalar(select(RegulatorScope).where(RegulatorScope.user_id == user.id,
                                                           RegulatorScope.region_id == region.id))
    if scope is None:
        scope = RegulatorScope(user_id=user.id, region_id=region.id, granted_by_id=actor_id)
        db.session.add(scope)
        db.session.flush()
        record_audit(actor_id, AuditAction.REGULATOR_GRANT, target=("user", user.id),
                     details={"region_id": region.id, "region_code": region.code})
    return scope


def revoke_regulator(user: User, region: Region, actor_id: int | None) -> bool:
    """Remove a regulator scope; returns whether there was one."""
    scope = db.session.scalar(select(RegulatorScope).where(RegulatorScope.user_id == user.id,
                                                           RegulatorScope.region_id == region.id))
    if scope is None:
        return False
    db.session.delete(scope)
    record_audit(actor_id, AuditAction.REGULATOR_REVOKE, target=("user", user.id),
                 details={"region_id": region.id, "region_code": region.code})
    return True


def get_or_404(model: type, object_id: int, label: str) -> object:
    """Load a row by id or answer 404 naming what is missing."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise not_found(label)
    return obj
