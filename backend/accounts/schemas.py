"""Request and response schemas of accounts: login, me, invites and bindings."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, List, Nested
from apiflask.validators import Length, OneOf, Range

from backend.accounts.models import MembershipStatus, Relation, Role
from backend.audit.actions import AuditCategory
from backend.fields import DateTime, Id, Integer, String
from backend.schemas_common import PageQuerySchema, TrimmedString, brief


class WeChatLoginIn(Schema):
    """The code from ``wx.login``."""

    code = String(required=True, validate=Length(1, 128))


class DevLoginIn(Schema):
    """Development-only login as any openid."""

    openid = String(required=True, validate=Length(1, 64))


class MembershipFields(Schema):
    """What every view of a binding shows: which, at which school, as what, where it stands, the child's class."""

    id = Integer()
    school_id = Integer()
    role = String()
    status = String()
    child_class = String(allow_none=True)


class MembershipBrief(MembershipFields):
    """A binding as its owner sees it."""

    school_name = String()


class RegulatorScopeOut(brief("region", name_nullable=False)):
    """A region the user regulates."""

    region_code = String()


class CapabilitiesOut(Schema):
    """What the caller may do; clients show or hide what they offer by these, the server checks every call."""

    admin = Boolean(metadata={"description": "Platform admin: may do everything"})
    schools = Dict(keys=String(), values=List(String()), metadata={
        "description": "School id → actions the caller's active roles there allow (e.g. records.write, "
                       "violation.review); a pending binding allows nothing yet"})
    regulator = List(String(), metadata={
        "description": "Actions a regulator may take in every school of the regulated regions"})


class UserOut(Schema):
    """The caller, without WeChat secrets."""

    id = Integer()
    nickname = String(allow_none=True)
    phone_bound = Boolean(attribute="phone_bound")
    is_admin = Boolean()
    memberships = List(Nested(MembershipBrief))
    regulator_scopes = List(Nested(RegulatorScopeOut))
    capabilities = Nested(CapabilitiesOut)


class LoginOut(Schema):
    """Our own session token; WeChat's session_key is never part of it."""

    token = String()
    expires_at = DateTime()
    user = Nested(UserOut)


class PhoneIn(Schema):
    """The code from a ``getPhoneNumber`` button."""

    code = String(required=True, validate=Length(1, 128))


class PhoneOut(Schema):
    """The bound phone, masked."""

    phone = String()


class UserSearchQuery(Schema):
    """用户与会话: what names the account (a name, a nickname, the phone's last digits, a user number)."""

    q = TrimmedString(required=True, validate=Length(1, 64))
    limit = Integer(load_default=20, validate=Range(1, 50))


class UserBindingOut(Schema):
    """A binding of a found account, in words."""

    school_id = Integer()
    school_name = String()
    role = String()
    role_label = String()
    status = String()
    status_label = String()
    name = String(allow_none=True, metadata={"description": "the name given when binding"})
    child_class = String(allow_none=True)


class FoundUserOut(Schema):
    """An account as an admin finds it: who it is where, and its live sessions (the phone masked)."""

    id = Integer()
    nickname = String(allow_none=True)
    phone = String(allow_none=True, metadata={"description": "masked: 138****8000"})
    is_admin = Boolean()
    created_at = DateTime()
    last_login_at = DateTime(allow_none=True)
    live_sessions = Integer(metadata={"description": "sessions neither revoked nor expired"})
    bindings = List(Nested(UserBindingOut))
    regions = List(String(), metadata={"description": "the regions the account regulates"})


class RevokedOut(Schema):
    """How many sessions were revoked."""

    revoked = Integer()


class InviteIn(Schema):
    """Create an invite."""

    role = String(required=True, validate=OneOf([r.value for r in Role]))
    expires_in_hours = Integer(load_default=72, validate=Range(1, 24 * 30))
    max_uses = Integer(load_default=1, validate=Range(1, 1000))
    class_id = Id(load_default=None, metadata={"description": "Parents' invites only: the child's class"})


class InviteOut(Schema):
    """An invite as its school's staff see it."""

    id = Integer()
    school_id = Integer()
    role = String()
    scene = String()
    short_code = String()
    expires_at = DateTime()
    max_uses = Integer()
    uses = Integer()
    revoked = Boolean(attribute="is_revoked")
    class_id = Integer(attribute="school_class_id", allow_none=True)
    child_class = String(allow_none=True)


class InviteCodeQuery(Schema):
    """Which mini-program version the code should open."""

    env_version = String(load_default="release", validate=OneOf(["release", "trial", "develop"]))


class InviteCodeIn(Schema):
    """A scanned scene or a typed short code."""

    code = String(required=True, validate=Length(1, 32))


class ClassBrief(Schema):
    """A class of the school, to pick from."""

    id = Integer()
    name = String()


class InviteLookupOut(brief("school", name_nullable=False)):
    """What a binding form shows before the applicant is a member: the school, the role, the classes."""

    role = String()
    class_id = Integer(allow_none=True, metadata={"description": "The class the invite names (then the only one "
                                                                 "listed), or null: the parent picks one"})
    classes = List(Nested(ClassBrief))


class RedeemIn(InviteCodeIn):
    """Redeem an invite: who is asking and, for a parent, the child's class (one of the school's) and the relation."""

    applicant_name = TrimmedString(required=True, validate=Length(1, 32))
    relation = String(load_default=None, validate=OneOf([r.value for r in Relation]))
    class_id = Integer(load_default=None, validate=Range(min=1))


class MembershipOut(MembershipFields):
    """A binding as school staff see it: with who applied."""

    user_id = Integer()
    nickname = String(attribute="user.nickname", allow_none=True)
    applicant_name = String(allow_none=True)
    relation = String(allow_none=True)
    class_id = Integer(attribute="school_class_id", allow_none=True)
    created_at = DateTime()
    decided_at = DateTime(allow_none=True)


class MembershipQuery(Schema):
    """Filter a school's bindings."""

    status = String(load_default=None, validate=OneOf([s.value for s in MembershipStatus]))
    role = String(load_default=None, validate=OneOf([r.value for r in Role]))


class ReasonIn(Schema):
    """Why a binding is revoked."""

    reason = String(load_default=None, validate=Length(max=200))


class DecisionIn(ReasonIn):
    """Approve or reject a binding, and why."""

    approve = Boolean(required=True)


class AuditOut(Schema):
    """An audit row: who did what, when, to what."""

    id = Integer()
    at = DateTime()
    actor_id = Integer(allow_none=True)
    actor_name = String(metadata={"description": "the name given when binding to the school, else the WeChat "
                                                 "nickname; 系统 for what the platform did by itself"})
    actor_role_label = String(metadata={"description": "what the actor is to the school (校长, 家长 …, 监管部门)"})
    action = String(metadata={"description": "one of backend/audit/actions.py AuditAction"})
    action_label = String()
    category = String(allow_none=True)
    category_label = String(allow_none=True)
    target_type = String(allow_none=True)
    target_label = String(allow_none=True, metadata={"description": "what ``target_type`` is, in words"})
    target_id = Integer(allow_none=True)
    details = Dict()


class AuditQuery(PageQuerySchema):
    """A page of the audit log, optionally one category of actions."""

    category = String(load_default=None, validate=OneOf([c.value for c in AuditCategory]), metadata={
        "description": ", ".join(f"{c.value} {c.label}" for c in AuditCategory)})


class ConsoleTicketIn(InviteCodeQuery):
    """Which mini-program version the console's code should open (``develop`` in development), as for an
    invite's code."""


class ConsoleTicketOut(Schema):
    """A new console log-in ticket: show ``wxacode`` (a PNG data URL), poll with ``id`` and ``secret``."""

    id = Integer()
    secret = String()
    expires_at = DateTime()
    wxacode = String()


class ConsoleTicketPollIn(Schema):
    """The console's poll, with the secret only the asking browser holds."""

    secret = String(required=True, validate=Length(1, 128))


class ConsoleTicketPollOut(Schema):
    """``pending`` until confirmed in the mini-program, then ``confirmed`` with the console's own session."""

    status = String()
    token = String(allow_none=True)
    expires_at = DateTime(allow_none=True)
    user = Nested(UserOut, allow_none=True)


class ConsoleTicketConfirmIn(Schema):
    """The ``scene`` of the scanned code, as the confirm page received it."""

    scene = String(required=True, validate=Length(1, 32))


class ConsoleTicketConfirmOut(Schema):
    """The ticket confirmed: the console logs in on its next poll."""

    status = String()
