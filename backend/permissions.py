"""The one place that decides who may do what.

Every route declares a rule with :func:`rule`: the action it performs and how to find the school the
request is about. The decorator authenticates the caller, resolves the school, and answers 401/403/404
before the view (or its input validation) runs. Services call :func:`require` for finer checks that
depend on data, such as the role named in an invite.

Everything about roles lives here: which roles may perform each :class:`Action` (``ROLE_PERMISSIONS``), what
a refused caller reads (:func:`refusal`: "只有校长可以审核整改"; a binding still waiting for approval answers
``membership_pending``), the named predicates services ask (:func:`sees_only_public`,
:func:`sees_full_evidence`, :func:`live_viewer`, ...), what ``/me`` tells a client it may do
(:func:`capabilities_of`), and the table of URL scopes (``SCOPE_RESOLVERS``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy import select

from backend.accounts.models import ROLE_LABELS, Invite, Membership, MembershipStatus, Role, User
from backend.errors import ApiError, forbidden, not_found
from backend.extensions import db
from backend.live.models import RecordingSegment
from backend.parent_meals.models import ParentMealSignup, ParentMealSlot
from backend.patrols.models import PatrolRound
from backend.records.models import PERSONAL_KINDS, SEAL_KINDS, RecordEntry, Upload
from backend.regulators.models import InspectionRound, SpotCheck, SupervisionOrder
from backend.risk.models import RiskCard, RiskWarning
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School, SchoolClass
from backend.violations.models import Violation


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
    CAMERA_HEALTH_READ = "camera.health"
    LEDGER_READ = "ledger.read"
    MEMBERS_READ = "members.read"
    INVITE_PARENT = "invite.parent"
    INVITE_STAFF = "invite.staff"
    APPROVE_PARENT = "approve.parent"
    APPROVE_STAFF = "approve.staff"
    AUDIT_READ = "audit.read"
    RECORDS_READ = "records.read"
    RECORDS_WRITE = "records.write"
    RECORDS_EXPORT = "records.export"
    # The staff register, health certificates and morning checks: people's personal and health data.
    STAFF_HEALTH_READ = "staff_health.read"
    # Seals (封存) of batches, samples and areas: who seals and releases, who reads them (records/sealing.py).
    RECORDS_SEAL = "records.seal"
    SEALS_READ = "seals.read"
    # Records past their required keeping time (records/retention.py): reported, never deleted.
    RECORDS_RETENTION = "records.retention"
    LIVE_PLAY = "live.play"
    RECORDING_READ = "recording.read"
    SNAPSHOT_TAKE = "snapshot.take"
    # Speak to the kitchen through its cameras' speakers (push-to-talk, broadcasts): backend/live/talk.py.
    LIVE_TALK = "live.talk"
    VIOLATION_READ = "violation.read"
    VIOLATION_REPORT = "violation.report"
    VIOLATION_RECTIFY = "violation.rectify"
    VIOLATION_REVIEW = "violation.review"
    VIOLATION_PUBLIC = "violation.public"
    ALARM_REVIEW = "alarm.review"
    NOTICE_SETTINGS = "notice.settings"
    STATS_READ = "stats.read"
    SUPERVISION_READ = "supervision.read"
    SUPERVISION_ISSUE = "supervision.issue"
    SUPERVISION_RESPOND = "supervision.respond"
    INSPECT = "inspect"
    PATROL = "patrol"
    # Risk (backend/risk): a school's cards and uptime; the parents' transparency part; a region's settings;
    # lifting a card.
    RISK_READ = "risk.read"
    RISK_PUBLIC = "risk.public"
    RISK_SETTINGS = "risk.settings"
    RISK_CARD_LIFT = "risk.card_lift"
    # The reviewed alarms' pictures and boxes as a YOLO training set (backend/violations/training_set.py).
    TRAINING_EXPORT = "training.export"
    # Early warnings (预警): the principal reads the school's, regulators read and acknowledge their region's.
    RISK_WARNINGS = "risk.warnings"
    RISK_WARNING_ACK = "risk.warning_ack"
    # Parents' accompanied meals (backend/parent_meals): the slots and the opinions; signing up and rating; the
    # school's side (publishing slots, deciding sign-ups, answering opinions).
    PARENT_MEAL_READ = "parent_meal.read"
    PARENT_MEAL_JOIN = "parent_meal.join"
    PARENT_MEAL_MANAGE = "parent_meal.manage"


ALL_MEMBER_ROLES = frozenset(Role)
SCHOOL_ADMINS = frozenset({Role.PRINCIPAL, Role.STAFF})
# The people who work in or for the school: they see every area and full evidence, any time.
SCHOOL_STAFF = frozenset({Role.MANAGER, Role.STAFF, Role.PRINCIPAL})
# Parents and committee members: public areas only, parent-safe evidence, their text and photos are checked.
PUBLIC_ONLY_ROLES = frozenset({Role.PARENT, Role.COMMITTEE})
# Roles that the principal grants; parents are approved by staff or the committee.
STAFF_ROLES = frozenset({Role.COMMITTEE, Role.MANAGER, Role.STAFF, Role.PRINCIPAL})

# Which school roles may perform each school-scoped action.
ROLE_PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SCHOOL_READ: ALL_MEMBER_ROLES,
    Action.SCHOOL_MANAGE: SCHOOL_ADMINS,
    # The school's class list, which parents pick their child's class from when they ask to bind.
    Action.CLASSES_MANAGE: SCHOOL_ADMINS,
    Action.CAMERA_READ: ALL_MEMBER_ROLES,
    Action.CAMERA_MANAGE: SCHOOL_ADMINS,
    # The desk's pages (摄像头, 台账): the people who run the kitchen, and regulators.
    Action.CAMERA_HEALTH_READ: SCHOOL_STAFF,
    Action.LEDGER_READ: SCHOOL_STAFF,
    Action.MEMBERS_READ: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.INVITE_PARENT: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.INVITE_STAFF: frozenset({Role.PRINCIPAL}),
    Action.APPROVE_PARENT: SCHOOL_ADMINS | {Role.COMMITTEE},
    Action.APPROVE_STAFF: frozenset({Role.PRINCIPAL}),
    Action.AUDIT_READ: frozenset({Role.PRINCIPAL}),
    Action.RECORDS_READ: ALL_MEMBER_ROLES,
    Action.RECORDS_WRITE: SCHOOL_STAFF,
    Action.RECORDS_EXPORT: SCHOOL_STAFF,
    # Parents and committee members see a morning check's counts in the day view, never the people.
    Action.STAFF_HEALTH_READ: SCHOOL_STAFF,
    # The school's principal seals and releases; regulators of the region too (REGULATOR_PERMISSIONS).
    Action.RECORDS_SEAL: frozenset({Role.PRINCIPAL}),
    Action.SEALS_READ: SCHOOL_STAFF,
    Action.RECORDS_RETENTION: frozenset({Role.PRINCIPAL}),
    # Parents and committee members are further limited to public areas and live windows (backend.live.policy).
    Action.LIVE_PLAY: ALL_MEMBER_ROLES,
    Action.RECORDING_READ: SCHOOL_ADMINS,
    Action.SNAPSHOT_TAKE: SCHOOL_ADMINS,
    Action.LIVE_TALK: SCHOOL_ADMINS,
    # Violations: committee members see them (with parent-safe evidence); canteen managers and staff fix them;
    # the principal reviews (the regulator reviews escalated ones, checked by the lifecycle service).
    Action.VIOLATION_READ: SCHOOL_STAFF | {Role.COMMITTEE},
    Action.VIOLATION_REPORT: ALL_MEMBER_ROLES,
    Action.VIOLATION_RECTIFY: frozenset({Role.MANAGER, Role.STAFF}),
    Action.VIOLATION_REVIEW: frozenset({Role.PRINCIPAL}),
    Action.VIOLATION_PUBLIC: ALL_MEMBER_ROLES,
    # AI alarms are reviewed (confirmed, marked false, escalated) by the principal and the food-safety staff,
    # and by the region's regulators; never by parents or the committee, from whom unreviewed alarms are held.
    Action.ALARM_REVIEW: SCHOOL_ADMINS,
    Action.NOTICE_SETTINGS: SCHOOL_ADMINS,
    Action.STATS_READ: ALL_MEMBER_ROLES,
    Action.SUPERVISION_READ: SCHOOL_ADMINS,
    Action.SUPERVISION_ISSUE: frozenset(),
    Action.SUPERVISION_RESPOND: frozenset({Role.PRINCIPAL}),
    Action.INSPECT: frozenset(),
    Action.PATROL: frozenset(),
    # Cards and uptime: the people who run the kitchen read the school's; parents and the committee read the
    # transparency part; only the region's regulators set classes and durations, and lift cards.
    Action.RISK_READ: SCHOOL_STAFF,
    Action.RISK_PUBLIC: ALL_MEMBER_ROLES,
    Action.RISK_SETTINGS: frozenset(),
    Action.RISK_CARD_LIFT: frozenset(),
    # The training set holds the unmarked frames (faces unblurred): the principal of the school, and the
    # region's regulators, export it; parents never see those frames.
    Action.TRAINING_EXPORT: frozenset({Role.PRINCIPAL}),
    Action.RISK_WARNINGS: frozenset({Role.PRINCIPAL}),
    Action.RISK_WARNING_ACK: frozenset(),
    # 陪餐: every member reads the slots and the opinions; parents and committee members sign up and rate; the
    # principal and the school's food-safety staff publish slots, decide sign-ups and answer opinions.
    Action.PARENT_MEAL_READ: ALL_MEMBER_ROLES,
    Action.PARENT_MEAL_JOIN: PUBLIC_ONLY_ROLES,
    Action.PARENT_MEAL_MANAGE: SCHOOL_ADMINS,
}

# Regulators read everything in their region; they change nothing through school routes.
REGULATOR_PERMISSIONS: frozenset[Action] = frozenset({
    Action.SCHOOL_READ, Action.CAMERA_READ, Action.AUDIT_READ, Action.RECORDS_READ, Action.RECORDS_EXPORT,
    Action.STAFF_HEALTH_READ,
    # Sealing (封存) food, samples and areas of the region's canteens, and the keeping-time report.
    Action.RECORDS_SEAL, Action.SEALS_READ, Action.RECORDS_RETENTION,
    Action.CAMERA_HEALTH_READ, Action.LEDGER_READ, Action.LIVE_PLAY, Action.RECORDING_READ,
    # Their own work: violation figures and reviews of escalated violations, inspections, supervision orders.
    Action.VIOLATION_READ, Action.VIOLATION_REVIEW, Action.VIOLATION_PUBLIC, Action.ALARM_REVIEW, Action.STATS_READ,
    Action.SUPERVISION_READ, Action.SUPERVISION_ISSUE, Action.INSPECT,
    # Online patrol of the video wall (backend/patrols): rounds over the region's canteens.
    Action.PATROL,
    # Talking to the kitchen from the wall (喊话): regulators of the region, like the school's principal and staff.
    Action.LIVE_TALK,
    # Risk classes, card durations and cards of their region (backend/risk).
    Action.RISK_READ, Action.RISK_PUBLIC, Action.RISK_SETTINGS, Action.RISK_CARD_LIFT,
    # The training set of their region's reviewed alarms.
    Action.TRAINING_EXPORT,
    Action.RISK_WARNINGS, Action.RISK_WARNING_ACK,
    # The slots and the parents' opinions of accompanied meals, with the school's answers.
    Action.PARENT_MEAL_READ,
})

# What each action is, as a refusal names it: "只有<who>可以<this>".
ACTION_LABELS: dict[Action, str] = {
    Action.ADMIN: "执行此操作",
    Action.SCHOOL_READ: "查看该学校的信息",
    Action.SCHOOL_MANAGE: "管理学校设置",
    Action.CAMERA_READ: "查看摄像头",
    Action.CAMERA_MANAGE: "管理摄像头",
    Action.CAMERA_HEALTH_READ: "查看摄像头运行状态",
    Action.LEDGER_READ: "在管理台查看食堂台账",
    Action.MEMBERS_READ: "查看成员名单",
    Action.INVITE_PARENT: "邀请家长",
    Action.INVITE_STAFF: "邀请教职工和家委会成员",
    Action.APPROVE_PARENT: "审核家长绑定",
    Action.APPROVE_STAFF: "审核教职工和家委会成员的绑定",
    Action.AUDIT_READ: "查看操作日志",
    Action.RECORDS_READ: "查看食堂台账",
    Action.RECORDS_WRITE: "填写食堂台账",
    Action.RECORDS_EXPORT: "导出食堂台账",
    Action.STAFF_HEALTH_READ: "查看从业人员及其健康信息",
    Action.RECORDS_SEAL: "封存或解除封存",
    Action.SEALS_READ: "查看封存记录",
    Action.RECORDS_RETENTION: "查看记录保存期限",
    Action.LIVE_PLAY: "观看直播",
    Action.RECORDING_READ: "查看录像",
    Action.SNAPSHOT_TAKE: "抓拍画面",
    Action.LIVE_TALK: "通过摄像头喊话",
    Action.VIOLATION_READ: "查看问题详情",
    Action.VIOLATION_REPORT: "反映问题",
    Action.VIOLATION_RECTIFY: "整改问题",
    Action.VIOLATION_REVIEW: "审核整改",
    Action.VIOLATION_PUBLIC: "查看问题公示",
    Action.ALARM_REVIEW: "审核智能告警",
    Action.NOTICE_SETTINGS: "设置通知",
    Action.STATS_READ: "查看统计",
    Action.SUPERVISION_READ: "查看监督整改通知",
    Action.SUPERVISION_ISSUE: "下发监督整改通知",
    Action.SUPERVISION_RESPOND: "回复监督整改通知",
    Action.INSPECT: "开展检查",
    Action.PATROL: "开展视频巡查",
    Action.RISK_READ: "查看风险警示和摄像头在线率",
    Action.RISK_PUBLIC: "查看食安公示",
    Action.RISK_SETTINGS: "设置风险分级",
    Action.RISK_CARD_LIFT: "撤销警示牌",
    Action.TRAINING_EXPORT: "导出告警训练数据",
    Action.RISK_WARNINGS: "查看风险预警",
    Action.RISK_WARNING_ACK: "确认风险预警",
    Action.PARENT_MEAL_READ: "查看陪餐安排和评价",
    Action.PARENT_MEAL_JOIN: "报名陪餐和评价",
    Action.PARENT_MEAL_MANAGE: "安排陪餐、审核报名和答复家长意见",
}


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

    @property
    def capabilities(self) -> dict[str, Any]:
        """What the caller may do, as ``/me`` answers it (see :func:`capabilities_of`)."""
        return capabilities_of(self)

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


def record_read_action(kind: str) -> Action:
    """What reading a record of ``kind`` (or a file attached to one) takes: people's health data more, and seals
    (封存) are for the school's staff and regulators."""
    if kind in SEAL_KINDS:
        return Action.SEALS_READ
    return Action.STAFF_HEALTH_READ if kind in PERSONAL_KINDS else Action.RECORDS_READ


def roles_allowed(action: Action) -> frozenset[Role]:
    """The school roles that may perform ``action`` (e.g. who is told to rectify a violation)."""
    return ROLE_PERMISSIONS.get(action, frozenset())


def _who(action: Action, school: School | Region | None) -> str:
    if isinstance(school, Region):
        return "该地区的监管人员"
    roles = roles_allowed(action)
    if roles == ALL_MEMBER_ROLES:
        return "该学校的成员"
    if roles:
        labels = [ROLE_LABELS[role] for role in Role if role in roles]
        return "和".join(["、".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
    return "监管部门" if action in REGULATOR_PERMISSIONS else "平台管理员"


def refusal(principal: Principal, action: Action, school: School | Region | None = None) -> ApiError:
    """The 403 a refused caller reads: what they may not do and who may, or that their binding is pending."""
    if isinstance(school, School) and not principal.roles_in(school.id) and any(
            m.school_id == school.id and m.status == MembershipStatus.PENDING for m in principal.memberships):
        return ApiError(403, "membership_pending", "等待学校审核", {"school_id": school.id})
    if school is None and action not in ACTION_LABELS:
        return forbidden()
    return forbidden(f"只有{_who(action, school)}可以{ACTION_LABELS.get(action, '执行此操作')}")


def require(principal: Principal, action: Action, school: School | Region | None = None) -> None:
    """Raise the caller's :func:`refusal` unless :func:`allowed`."""
    if not allowed(principal, action, school):
        raise refusal(principal, action, school)


# -- named predicates: every question about roles that a service asks ---------------------------------------

def sees_only_public(principal: Principal, school: School) -> bool:
    """Parents and committee members see only public areas; staff, regulators and admins see all."""
    if principal.is_admin:
        return False
    roles = principal.roles_in(school.id)
    # No roles at all means a regulator of the region, who sees everything.
    return bool(roles) and not roles - PUBLIC_ONLY_ROLES


def content_is_checked(principal: Principal, school: School) -> bool:
    """Whether what this caller writes or uploads is user content that WeChat must check (parents, committee)."""
    return bool(principal.roles_in(school.id) & PUBLIC_ONLY_ROLES) and not principal.is_admin


def sees_full_evidence(principal: Principal, school: School) -> bool:
    """Staff roles, regulators of the school's region and admins see annotated evidence; others parent-safe."""
    return (principal.is_admin or bool(principal.roles_in(school.id) & SCHOOL_STAFF)
            or principal.regulates(school.region.path))


def is_principal_of(principal: Principal, school: School) -> bool:
    """Whether the caller is the school's principal (the reviewer of rectifications the school itself checks)."""
    return Role.PRINCIPAL in principal.roles_in(school.id)


def seal_authority(principal: Principal, school: School) -> str:
    """In which capacity the caller seals or releases in ``school``: a regulator of its region, its principal
    (a principal who also regulates the region acts as the regulator), or an admin."""
    if principal.regulates(school.region.path):
        return "regulator"
    if is_principal_of(principal, school):
        return "principal"
    return "admin"


def writes_records(principal: Principal | None, school_id: int) -> bool:
    """Whether the caller may write the school's records (so reads must show their own writes at once)."""
    return principal is not None and (principal.is_admin or bool(
        principal.roles_in(school_id) & roles_allowed(Action.RECORDS_WRITE)))


def accompanies_as(principal: Principal, school: School) -> Role | None:
    """The capacity in which the caller eats with the students (陪餐): a committee member before a parent;
    None for anyone else (staff, regulators, admins eat there as part of their work, not as parents)."""
    roles = principal.roles_in(school.id)
    for role in (Role.COMMITTEE, Role.PARENT):
        if role in roles:
            return role
    return None


def owns_signup(principal: Principal, user_id: int) -> bool:
    """Whether a 陪餐 sign-up is the caller's own: only its author rates the meal."""
    return principal.user_id == user_id


def invite_action(role: Role) -> Action:
    """Which permission creating an invite for ``role`` needs."""
    return Action.INVITE_STAFF if role in STAFF_ROLES else Action.INVITE_PARENT


def approve_action(role: Role) -> Action:
    """Which permission deciding a binding for ``role`` needs."""
    return Action.APPROVE_STAFF if role in STAFF_ROLES else Action.APPROVE_PARENT


def runs_patrol(principal: Principal, started_by_id: int) -> bool:
    """Whether the caller may record what a patrol round watched and found: the regulator who started it (or an
    admin); the region's other regulators read it."""
    return principal.is_admin or principal.user_id == started_by_id


@dataclass(frozen=True)
class Viewer:
    """How a principal relates to a camera's school for live viewing."""

    role: str
    privileged: bool


# Strongest first: a principal who is also a parent watches as the principal.
LIVE_PRIVILEGED_ORDER = (Role.PRINCIPAL, Role.STAFF, Role.MANAGER)
LIVE_RESTRICTED_ORDER = (Role.COMMITTEE, Role.PARENT)


def live_viewer(principal: Principal, school: School) -> Viewer | None:
    """The strongest capacity in which the principal may watch this school, or None.

    Privileged viewers watch any camera at any time; the others public areas inside the live windows only.
    """
    if principal.is_admin:
        return Viewer("admin", True)
    roles = principal.roles_in(school.id)
    for role in LIVE_PRIVILEGED_ORDER:
        if role in roles:
            return Viewer(role.value, True)
    if principal.regulates(school.region.path):
        return Viewer("regulator", True)
    for role in LIVE_RESTRICTED_ORDER:
        if role in roles:
            return Viewer(role.value, False)
    return None


# What ``/me`` tells a client it may do: the client shows or hides buttons by these, never by role names.
SCHOOL_CAPABILITIES: tuple[Action, ...] = tuple(ROLE_PERMISSIONS)


def _granted(actions: frozenset[Action]) -> list[str]:
    return [action.value for action in SCHOOL_CAPABILITIES if action in actions]


def capabilities_of(principal: Principal) -> dict[str, Any]:
    """What the caller may do: per school of an active binding, in their regulated regions, and as an admin.

    ``schools`` maps a school id to the actions the caller's active roles there allow (a pending binding
    allows nothing yet); ``regulator`` lists what a regulator may do in every school of their regions.
    """
    schools = {str(school_id): _granted(frozenset(action for action in SCHOOL_CAPABILITIES
                                                  if roles & roles_allowed(action)))
               for school_id, roles in principal.roles_by_school.items()}
    return {
        "admin": principal.is_admin,
        "schools": schools,
        "regulator": _granted(REGULATOR_PERMISSIONS) if principal.scopes else [],
    }


# How to find the school (or, for regulators' own work, the region) from a route's URL arguments: every scope
# a route may name, in one table. Each resolver returns the school (region) or None (404).
def _school_of(model: Any, *joins: Any) -> Callable[[int], School | None]:
    def resolve(object_id: int) -> School | None:
        query = select(School)
        for join in joins:
            query = query.join(join)
        return db.session.scalar(query.where(model.id == object_id))
    return resolve


def _school_by_column(model: Any) -> Callable[[int], School | None]:
    def resolve(object_id: int) -> School | None:
        return db.session.scalar(select(School).join(model, model.school_id == School.id).where(model.id == object_id))
    return resolve


def _school_via_canteen(model: Any) -> Callable[[int], School | None]:
    def resolve(object_id: int) -> School | None:
        return db.session.scalar(select(School).join(Canteen, Canteen.school_id == School.id)
                                 .join(model, model.canteen_id == Canteen.id).where(model.id == object_id))
    return resolve


def _region_of(model: Any) -> Callable[[int], Region | None]:
    def resolve(object_id: int) -> Region | None:
        return db.session.scalar(select(Region).join(model, model.region_id == Region.id)
                                 .where(model.id == object_id))
    return resolve


def _records_day_school(school_id: int) -> School | None:
    # The day view's school scope: the same check as "school", and the canteens and record versions the
    # view needs come with it in the same single statement (reused for up to a second by readers; a writer
    # always reads fresh, to see what they just wrote).
    from backend.records.day import SNAPSHOT_MAX_AGE_SECONDS, SnapshotCache  # records' routes import this module

    snapshots = current_app.extensions.get("records_snapshots")
    if snapshots is None:
        snapshots = current_app.extensions.setdefault("records_snapshots", SnapshotCache())
    fresh = writes_records(g.get("principal"), school_id)
    snapshot = snapshots.get(school_id, 0 if fresh else SNAPSHOT_MAX_AGE_SECONDS)
    g.records_school_snapshot = snapshot
    return None if snapshot is None else snapshot.school


SCOPE_RESOLVERS: dict[str, tuple[str, str, Callable[[int], School | Region | None]]] = {
    "school": ("school_id", "学校", lambda object_id: db.session.get(School, object_id)),
    "canteen": ("canteen_id", "食堂", _school_of(Canteen, Canteen)),
    "area": ("area_id", "区域", _school_of(KitchenArea, Canteen, KitchenArea)),
    "camera": ("camera_id", "摄像头", _school_of(Camera, Canteen, KitchenArea, Camera)),
    "class": ("class_id", "班级", _school_by_column(SchoolClass)),
    "invite": ("invite_id", "邀请", _school_by_column(Invite)),
    "membership": ("membership_id", "绑定", _school_by_column(Membership)),
    "record": ("record_id", "记录", _school_via_canteen(RecordEntry)),
    "records_day": ("school_id", "学校", _records_day_school),
    "upload": ("upload_id", "文件", _school_via_canteen(Upload)),
    "recording": ("recording_id", "录像", _school_by_column(RecordingSegment)),
    "violation": ("violation_id", "问题", _school_by_column(Violation)),
    "region": ("region_id", "地区", lambda object_id: db.session.get(Region, object_id)),
    "spot_check": ("spot_check_id", "抽查", _region_of(SpotCheck)),
    "inspection": ("inspection_id", "检查", _region_of(InspectionRound)),
    "patrol": ("patrol_id", "巡查", _region_of(PatrolRound)),
    "supervision_order": ("order_id", "监督整改通知", _school_by_column(SupervisionOrder)),
    "risk_card": ("card_id", "警示牌", _school_by_column(RiskCard)),
    "risk_warning": ("warning_id", "预警", _school_by_column(RiskWarning)),
    "parent_meal_slot": ("slot_id", "陪餐场次", _school_by_column(ParentMealSlot)),
    "parent_meal_signup": ("signup_id", "陪餐报名", _school_by_column(ParentMealSignup)),
}


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
                    raise refusal(principal, action, school)
            return view(*args, **kwargs)

        wrapper._permission_rule = Rule(action, scope)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


# Endpoints that Flask or APIFlask add themselves; everything else must declare a rule.
FRAMEWORK_PUBLIC_ENDPOINTS = frozenset({"static", "openapi.spec", "openapi.docs", "openapi.swagger_ui_oauth_redirect"})


def rule_of(view: Callable[..., Any]) -> Rule | None:
    """The rule a view declared, or None."""
    return getattr(view, "_permission_rule", None)
