"""The one place that decides who may do what.

Every route declares a rule with :func:`rule`: the action it performs and how to find the school the
request is about. The decorator authenticates the caller, resolves the school, and answers 401/403/404
before the view (or its input validation) runs. Services call :func:`require` for finer checks that
depend on data, such as the role named in an invite.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import select

from backend.accounts.models import MembershipStatus, Role, User
from backend.errors import ApiError, forbidden, not_found
from backend.extensions import db
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School, SchoolClass


class Action(StrEnum):
    """Everything a route can do, named by what it touches."""

    PUBLIC = "public"
    # No login: the route checks a signature or shared secret itself (signed file URLs, media-server hooks).
    SIGNED = "signed"
    AUTHENTICATED = "authenticated"
    ADMIN = "admin"
    SCHOOL_READ = "school.read"
    SCHOOL_MANAGE = "school.manage"
    CLASSES_MANAGE = "classes.manage"
    CAMERA_READ = "camera.read"
    CAMERA_MANAGE = "camera.manage"
    MEMBERS_READ = "members.read"
    INVITE_PARENT = "invite.parent"
    INVITE_STAFF = "invite.staff"
    APPROVE_PARENT = "approve.parent"
    APPROVE_STAFF = "approve.staff"
    AUDIT_READ = "audit.read"
    RECORDS_READ = "records.read"
    RECORDS_WRITE = "records.write"
    RECORDS_EXPORT = "records.export"
    LIVE_PLAY = "live.play"
    RECORDING_READ = "recording.read"
    SNAPSHOT_TAKE = "snapshot.take"
    VIOLATION_READ = "violation.read"
    VIOLATION_REPORT = "violation.report"
    VIOLATION_RECTIFY = "violation.rectify"
    VIOLATION_REVIEW = "violation.review"
    VIOLATION_PUBLIC = "violation.public"
    NOTICE_SETTINGS = "notice.settings"
    STATS_READ = "stats.read"
    SUPERVISION_READ = "supervision.read"
    SUPERVISION_ISSUE = "supervision.issue"
    SUPERVISION_RESPOND = "supervision.respond"
    INSPECT = "inspect"


ALL_MEMBER_ROLES = frozenset(Role)
SCHOOL_ADMINS = frozenset({Role.PRINCIPAL, Role.STAFF})

# Which school roles may perform each school-scoped action.
ROLE_PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SCHOOL_READ: ALL_MEMBER_ROLES,
    Action.SCHOOL_MANAGE: SCHOOL_ADMINS,
    # The school's class list, which parents pick their child's class from when they ask to bind.
    Action.CLASSES_MANAGE: SCHOOL_ADMINS,
    Action.CAMERA_READ: ALL_MEMBER_ROLES,
    Action.CAMERA_MANAGE: SCHOOL_ADMINS,
    Action.MEMBERS_READ: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.INVITE_PARENT: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.INVITE_STAFF: frozenset({Role.PRINCIPAL}),
    Action.APPROVE_PARENT: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.APPROVE_STAFF: frozenset({Role.PRINCIPAL}),
    Action.AUDIT_READ: frozenset({Role.PRINCIPAL}),
    Action.RECORDS_READ: ALL_MEMBER_ROLES,
    Action.RECORDS_WRITE: frozenset({Role.MANAGER, Role.STAFF, Role.PRINCIPAL}),
    Action.RECORDS_EXPORT: frozenset({Role.MANAGER, Role.STAFF, Role.PRINCIPAL}),
    # Parents and committee members are further limited to public areas and live windows (backend.live.policy).
    Action.LIVE_PLAY: ALL_MEMBER_ROLES,
    Action.RECORDING_READ: SCHOOL_ADMINS,
    Action.SNAPSHOT_TAKE: SCHOOL_ADMINS,
    # Violations: committee members see them (with parent-safe evidence); canteen managers and staff fix them;
    # the principal reviews (the regulator reviews escalated ones, checked by the lifecycle service).
    Action.VIOLATION_READ: frozenset({Role.COMMITTEE, Role.MANAGER, Role.STAFF, Role.PRINCIPAL}),
    Action.VIOLATION_REPORT: ALL_MEMBER_ROLES,
    Action.VIOLATION_RECTIFY: frozenset({Role.MANAGER, Role.STAFF}),
    Action.VIOLATION_REVIEW: frozenset({Role.PRINCIPAL}),
    Action.VIOLATION_PUBLIC: ALL_MEMBER_ROLES,
    Action.NOTICE_SETTINGS: SCHOOL_ADMINS,
    Action.STATS_READ: ALL_MEMBER_ROLES,
    Action.SUPERVISION_READ: SCHOOL_ADMINS,
    Action.SUPERVISION_ISSUE: frozenset(),
    Action.SUPERVISION_RESPOND: frozenset({Role.PRINCIPAL}),
    Action.INSPECT: frozenset(),
}

# Regulators read everything in their region; they change nothing through school routes.
REGULATOR_PERMISSIONS: frozenset[Action] = frozenset({
    Action.SCHOOL_READ, Action.CAMERA_READ, Action.AUDIT_READ, Action.RECORDS_READ, Action.RECORDS_EXPORT,
    Action.LIVE_PLAY, Action.RECORDING_READ,
    # Their own work: violation figures and reviews of escalated violations, inspections, supervision orders.
    Action.VIOLATION_READ, Action.VIOLATION_REVIEW, Action.VIOLATION_PUBLIC, Action.STATS_READ,
    Action.SUPERVISION_READ, Action.SUPERVISION_ISSUE, Action.INSPECT,
})


@dataclass(frozen=True)
class MembershipInfo:
    """A binding of the caller, as loaded at authentication."""

    id: int
    school_id: int
    school_name: str
    role: str
    status: str
    child_class: str | None


@dataclass(frozen=True)
class ScopeInfo:
    """A region the caller regulates."""

    region_id: int
    region_code: str
    region_name: str
    path: str


@dataclass
class Principal:
    """The authenticated caller with everything permission checks and ``/me`` need, loaded once per request.

    It is a snapshot, not an ORM object, so that authenticating costs one query and no transaction;
    ``user`` loads the ORM row only for the services that change it.
    """

    user_id: int
    is_admin: bool = False
    nickname: str | None = None
    phone_bound: bool = False
    memberships: tuple[MembershipInfo, ...] = ()
    scopes: tuple[ScopeInfo, ...] = ()
    roles_by_school: dict[int, frozenset[Role]] = field(default_factory=dict)
    _user: User | None = field(default=None, repr=False)

    @classmethod
    def build(cls, user_id: int, is_admin: bool, nickname: str | None, phone_bound: bool,
              memberships: tuple[MembershipInfo, ...], scopes: tuple[ScopeInfo, ...]) -> Principal:
        """Derive active roles per school from the bindings."""
        roles: dict[int, set[Role]] = {}
        for membership in memberships:
            if membership.status == MembershipStatus.ACTIVE:
                roles.setdefault(membership.school_id, set()).add(Role(membership.role))
        return cls(user_id, is_admin, nickname, phone_bound, memberships, scopes,
                   {k: frozenset(v) for k, v in roles.items()})

    @property
    def user(self) -> User:
        """The caller's ORM row, loaded on first use in the current session."""
        if self._user is None or self._user not in db.session:
            self._user = db.session.get(User, self.user_id)
        return self._user

    @property
    def id(self) -> int:
        """The caller's user id (so ``/me`` can serialise the principal directly)."""
        return self.user_id

    @property
    def region_paths(self) -> tuple[str, ...]:
        """Materialised paths of the regulated regions."""
        return tuple(scope.path for scope in self.scopes)

    @property
    def regulator_scopes(self) -> tuple[ScopeInfo, ...]:
        """The regulated regions (named as ``/me`` shows them)."""
        return self.scopes

    def roles_in(self, school_id: int) -> frozenset[Role]:
        """Active roles of this user in a school."""
        return self.roles_by_school.get(school_id, frozenset())

    def regulates(self, region_path: str) -> bool:
        """Whether a region (by its materialised path) lies inside one of this user's regulator scopes."""
        return any(region_path.startswith(scope.path) for scope in self.scopes)


def load_principal(user: User) -> Principal:
    """A principal for an ORM user (workers and tests act as a user without a bearer token)."""
    memberships = tuple(MembershipInfo(m.id, m.school_id, m.school.name, m.role, m.status, m.child_class)
                        for m in user.memberships)
    scopes = tuple(ScopeInfo(s.region_id, s.region.code, s.region.name, s.region.path)
                   for s in user.regulator_scopes)
    principal = Principal.build(user.id, bool(user.is_admin), user.nickname, bool(user.phone), memberships, scopes)
    principal._user = user
    return principal


def allowed(principal: Principal, action: Action, school: School | None = None) -> bool:
    """Decide whether the caller may perform ``action`` on ``school``."""
    if action in (Action.PUBLIC, Action.AUTHENTICATED, Action.SIGNED):
        return True
    if principal.is_admin:
        return True
    if action is Action.ADMIN or school is None:
        return False
    if isinstance(school, Region):  # region-scoped routes (regulators' own work): regulators of that region
        return action in REGULATOR_PERMISSIONS and principal.regulates(school.path)
    if principal.roles_in(school.id) & roles_allowed(action):
        return True
    return action in REGULATOR_PERMISSIONS and principal.regulates(school.region.path)


def roles_allowed(action: Action) -> frozenset[Role]:
    """The school roles that may perform ``action`` (who to tell when something awaits that action)."""
    return ROLE_PERMISSIONS.get(action, frozenset())


def require(principal: Principal, action: Action, school: School | None = None) -> None:
    """Raise 403 unless :func:`allowed`."""
    if not allowed(principal, action, school):
        raise forbidden()


# How to find the school from a route's URL arguments. Each resolver returns the school or None.
def _school_of(model: Any, *joins: Any) -> Callable[[int], School | None]:
    def resolve(object_id: int) -> School | None:
        query = select(School)
        for join in joins:
            query = query.join(join)
        return db.session.scalar(query.where(model.id == object_id))
    return resolve


SCOPE_RESOLVERS: dict[str, tuple[str, str, Callable[[int], School | None]]] = {
    "school": ("school_id", "学校", lambda object_id: db.session.get(School, object_id)),
    "canteen": ("canteen_id", "食堂", _school_of(Canteen, Canteen)),
    "area": ("area_id", "区域", _school_of(KitchenArea, Canteen, KitchenArea)),
    "camera": ("camera_id", "摄像头", _school_of(Camera, Canteen, KitchenArea, Camera)),
    "class": ("class_id", "班级", _school_of(SchoolClass, SchoolClass)),
}


def register_scope(name: str, url_arg: str, label: str,
                   resolver: Callable[[int], School | Region | None]) -> None:
    """Let a feature package teach the permission module how to find the school (or region) of its objects."""
    SCOPE_RESOLVERS[name] = (url_arg, label, resolver)


@dataclass(frozen=True)
class Rule:
    """The permission a route declares."""

    action: Action
    scope: str | None = None


F = TypeVar("F", bound=Callable[..., Any])
AUTHENTICATOR: dict[str, Callable[[str], Principal | None]] = {}


def current_principal() -> Principal:
    """The caller of the current request (set by :func:`rule`)."""
    principal = g.get("principal")
    if principal is None:
        raise ApiError(401, "unauthenticated", "请先登录")
    return principal


def current_school() -> School | None:
    """The school the current request's rule resolved, if any."""
    return g.get("school")


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_request() -> Principal:
    """Resolve the bearer token to a principal or answer 401."""
    token = _bearer_token()
    principal = AUTHENTICATOR["token"](token) if token else None
    if principal is None:
        raise ApiError(401, "unauthenticated", "登录已失效，请重新登录")
    g.principal = principal
    return principal


def rule(action: Action, scope: str | None = None) -> Callable[[F], F]:
    """Declare and enforce who may call a route.

    Must sit below the route decorator and above ``@input`` so that an unauthorised caller never gets
    as far as validation.
    """
    if scope is not None and scope not in SCOPE_RESOLVERS:
        raise ValueError(f"unknown permission scope {scope!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if action not in (Action.PUBLIC, Action.SIGNED):
                principal = authenticate_request()
                school = None
                if scope is not None:
                    url_arg, label, resolver = SCOPE_RESOLVERS[scope]
                    school = resolver(kwargs[url_arg])
                    if school is None:
                        raise not_found(label)
                    g.school = school
                if not allowed(principal, action, school):
                    raise forbidden("无权访问该学校的数据" if school is not None else "没有权限执行此操作")
            return view(*args, **kwargs)

        wrapper._permission_rule = Rule(action, scope)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# Endpoints that Flask or APIFlask add themselves; everything else must declare a rule.
FRAMEWORK_PUBLIC_ENDPOINTS = frozenset({"static", "openapi.spec", "openapi.docs", "openapi.swagger_ui_oauth_redirect"})


def rule_of(view: Callable[..., Any]) -> Rule | None:
    """The rule a view declared, or None."""
    return getattr(view, "_permission_rule", None)
