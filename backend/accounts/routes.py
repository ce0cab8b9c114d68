"""HTTP routes of login, the caller's account, invites and bindings."""

from __future__ import annotations

import base64
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request

from backend.accounts import console_login, schemas, services, user_search
from backend.accounts.models import Invite, Membership, Role, User
from backend.accounts.people import mask_phone
from backend.audit.actions import AuditCategory
from backend.audit.views import audit_page
from backend.extensions import db, limiter
from backend.integrations.wechat_app import wechat_gateway
from backend.permissions import (
    Action,
    current_principal,
    current_school,
    rule,
)
from backend.timeutil import utcnow

bp = APIBlueprint("accounts", __name__, tag="账号与绑定")

def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _redeem_limit() -> str:
    return current_app.config["RATELIMIT_REDEEM"]


def _user_key() -> str:
    token = request.headers.get("Authorization", "")
    return services.hash_token(token) if token else request.remote_addr or "unknown"


def _login_payload(issued: services.IssuedSession) -> dict[str, Any]:
    # The same snapshot every later request authenticates with, so login and /me show the same user.
    return {"token": issued.token, "expires_at": issued.session.expires_at,
            "user": services.principal_for_token(issued.token)}


@bp.post("/auth/wechat")
@rule(Action.PUBLIC)
@limiter.limit(_login_limit)
@bp.input(schemas.WeChatLoginIn, arg_name="body")
@bp.output(schemas.LoginOut)
@bp.doc(responses=[401, 502, 503])  # WeChat refused the code, failed, or is unreachable (accounts/services.py)
def wechat_login(body: dict[str, Any]) -> Any:
    """Log in with a ``wx.login`` code; returns our own session token."""
    issued = services.login_with_wechat(wechat_gateway(), body["code"], int(current_app.config["SESSION_TTL_HOURS"]),
                                        request.user_agent.string)
    return _login_payload(issued)


# Registered by create_app only when APP_ENV=development: production has no such route at all.
dev_bp = APIBlueprint("dev", __name__, tag="开发")


@dev_bp.post("/auth/dev-login")
@rule(Action.PUBLIC)
@dev_bp.input(schemas.DevLoginIn, arg_name="body")
@dev_bp.output(schemas.LoginOut)
def dev_login(body: dict[str, Any]) -> Any:
    """Log in as any openid without WeChat (development mode only)."""
    issued = services.dev_login(body["openid"], int(current_app.config["SESSION_TTL_HOURS"]))
    return _login_payload(issued)


@bp.post("/auth/console-tickets")
@rule(Action.PUBLIC)
@limiter.limit(_login_limit)
@bp.input(schemas.ConsoleTicketIn, arg_name="body")
@bp.output(schemas.ConsoleTicketOut, status_code=201)
def create_console_ticket(body: dict[str, Any]) -> Any:
    """Start a scan-to-log-in of the web console: a two-minute, single-use ticket and its mini-program code."""
    new = console_login.create_ticket(wechat_gateway(), utcnow(), body["env_version"])
    return {"id": new.ticket.id, "secret": new.secret, "expires_at": new.ticket.expires_at,
            "wxacode": "data:image/png;base64," + base64.b64encode(new.image).decode()}


@bp.post("/auth/console-tickets/<id:ticket_id>/poll")
@rule(Action.PUBLIC)
@bp.input(schemas.ConsoleTicketPollIn, arg_name="body")
@bp.output(schemas.ConsoleTicketPollOut)
def poll_console_ticket(ticket_id: int, body: dict[str, Any]) -> Any:
    """The console polls its ticket: ``pending``, or ``confirmed`` with its session (given once)."""
    issued = console_login.redeem_ticket(ticket_id, body["secret"], int(current_app.config["SESSION_TTL_HOURS"]),
                                         utcnow(), request.user_agent.string)
    if issued is None:
        return {"status": "pending"}
    return {"status": "confirmed", **_login_payload(issued)}


@bp.post("/auth/console-tickets/confirm")
@rule(Action.AUTHENTICATED)
@bp.input(schemas.ConsoleTicketConfirmIn, arg_name="body")
@bp.output(schemas.ConsoleTicketConfirmOut)
def confirm_console_ticket(body: dict[str, Any]) -> Any:
    """Confirm in the mini-program that the scanned console may log in as the caller."""
    ticket = console_login.confirm_ticket(current_principal(), body["scene"], utcnow())
    return {"status": ticket.status}


@bp.post("/auth/logout")
@rule(Action.AUTHENTICATED)
@bp.output({}, status_code=204)
def logout() -> Any:
    """Revoke the current session token."""
    services.logout(request.headers["Authorization"].split(" ", 1)[1].strip())
    return ""


@bp.post("/auth/logout-all")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.RevokedOut)
def logout_all() -> Any:
    """Revoke every session of the caller (a lost phone)."""
    principal = current_principal()
    return {"revoked": services.revoke_all_sessions(principal.user.id, principal.user.id)}


@bp.get("/admin/users")
@rule(Action.ADMIN)
@bp.input(schemas.UserSearchQuery, location="query", arg_name="query")
@bp.output(schemas.FoundUserOut(many=True))
def find_users(query: dict[str, Any]) -> Any:
    """用户与会话 (admin): the newest accounts a name, nickname, the phone's last digits or a user number names, with
    their bindings, regulated regions and live sessions."""
    return user_search.find_users(query["q"], query["limit"])


@bp.post("/users/<id:user_id>/revoke-sessions")
@rule(Action.ADMIN)
@bp.output(schemas.RevokedOut)
def revoke_user_sessions(user_id: int) -> Any:
    """Revoke every session of a user (admin)."""
    services.get_or_404(User, user_id, "用户")
    return {"revoked": services.revoke_all_sessions(user_id, current_principal().user.id)}


@bp.get("/me")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.UserOut)
def me() -> Any:
    """The caller with bindings and regulator scopes (already loaded by authentication)."""
    return current_principal()


@bp.post("/me/phone")
@rule(Action.AUTHENTICATED)
@bp.input(schemas.PhoneIn, arg_name="body")
@bp.output(schemas.PhoneOut)
@bp.doc(responses=[502, 503])  # WeChat failed or is unreachable
def bind_phone(body: dict[str, Any]) -> Any:
    """Bind the phone number behind a ``getPhoneNumber`` code."""
    phone = services.bind_phone(wechat_gateway(), current_principal().user, body["code"])
    return {"phone": mask_phone(phone)}


@bp.post("/schools/<id:school_id>/invites")
@rule(Action.INVITE_PARENT, scope="school")
@bp.input(schemas.InviteIn, arg_name="body")
@bp.output(schemas.InviteOut, status_code=201)
def create_invite(school_id: int, body: dict[str, Any]) -> Any:
    """Create an invite; staff roles only by the principal."""
    return services.create_invite(current_principal(), current_school(), Role(body["role"]),
                                  body["expires_in_hours"], body["max_uses"], body["class_id"])


@bp.get("/schools/<id:school_id>/invites")
@rule(Action.INVITE_PARENT, scope="school")
@bp.output(schemas.InviteOut(many=True))
def list_invites(school_id: int) -> Any:
    """A school's invites the caller may issue (staff invites for the principal only), newest first."""
    return services.list_invites(current_principal(), current_school())


@bp.get("/invites/<id:invite_id>/wxacode")
@rule(Action.INVITE_PARENT, scope="invite")
@bp.input(schemas.InviteCodeQuery, location="query", arg_name="query")
@bp.doc(responses={200: {"description": "PNG 小程序码", "content": {"image/png": {}}}, 502: "微信服务出错",
                   503: "微信服务暂时不可用"})
def invite_wxacode(invite_id: int, query: dict[str, Any]) -> Any:
    """The invite's mini-program code as a PNG image."""
    png = services.invite_code_image(current_principal(), wechat_gateway(), db.session.get(Invite, invite_id),
                                     query["env_version"])
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.post("/invites/<id:invite_id>/revoke")
@rule(Action.INVITE_PARENT, scope="invite")
@bp.output(schemas.InviteOut)
def revoke_invite(invite_id: int) -> Any:
    """Withdraw an invite."""
    return services.revoke_invite(current_principal(), db.session.get(Invite, invite_id))


@bp.post("/bindings/lookup")
@rule(Action.AUTHENTICATED)  # the code itself is the credential, as for redeeming it
@limiter.limit(_redeem_limit, key_func=_user_key)
@bp.input(schemas.InviteCodeIn, arg_name="body")
@bp.output(schemas.InviteLookupOut)
def look_up(body: dict[str, Any]) -> Any:
    """The school, role and class list behind an invite code, for the binding form."""
    return services.look_up_invite(body["code"])


@bp.post("/bindings/redeem")
@rule(Action.AUTHENTICATED)
@limiter.limit(_redeem_limit, key_func=_user_key)
@bp.input(schemas.RedeemIn, arg_name="body")
@bp.output(schemas.MembershipOut, status_code=201)
def redeem(body: dict[str, Any]) -> Any:
    """Redeem an invite: the binding waits for approval."""
    return services.redeem_invite(current_principal().user, body["code"], body["applicant_name"], body["relation"],
                                  body["class_id"])


@bp.get("/schools/<id:school_id>/memberships")
@rule(Action.MEMBERS_READ, scope="school")
@bp.input(schemas.MembershipQuery, location="query", arg_name="query")
@bp.output(schemas.MembershipOut(many=True))
def list_memberships(school_id: int, query: dict[str, Any]) -> Any:
    """A school's bindings, filtered by status and role."""
    return services.list_memberships(current_principal(), current_school(), query.get("status"), query.get("role"))


@bp.post("/memberships/<id:membership_id>/decision")
@rule(Action.APPROVE_PARENT, scope="membership")
@bp.input(schemas.DecisionIn, arg_name="body")
@bp.output(schemas.MembershipOut)
def decide(membership_id: int, body: dict[str, Any]) -> Any:
    """Approve or reject a pending binding."""
    return services.decide_membership(current_principal(), db.session.get(Membership, membership_id),
                                      body["approve"], body.get("reason"))


@bp.post("/memberships/<id:membership_id>/revoke")
@rule(Action.APPROVE_PARENT, scope="membership")
@bp.input(schemas.ReasonIn, arg_name="body")
@bp.output(schemas.MembershipOut)
def revoke_membership(membership_id: int, body: dict[str, Any]) -> Any:
    """End an active binding."""
    return services.revoke_membership(current_principal(), db.session.get(Membership, membership_id),
                                      body.get("reason"))


@bp.get("/schools/<id:school_id>/audit")
@rule(Action.AUDIT_READ, scope="school")
@bp.input(schemas.AuditQuery, location="query", arg_name="query")
@bp.output(schemas.AuditOut(many=True))
def audit(school_id: int, query: dict[str, Any]) -> Any:
    """操作日志: a school's audit log, newest first (who watched which camera, who changed what, who exported what),
    each row with who did it and what was done in words; ``category`` keeps one group of actions. For the principal
    and the region's regulators."""
    category = AuditCategory(query["category"]) if query["category"] else None
    return audit_page(school_id, before_id=query.get("before_id"), limit=query["limit"], category=category)
