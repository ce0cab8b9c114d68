"""Scan to log in to the web console: one WeChat identity serves phone and desk.

The console asks for a ticket and shows its mini-program code; the user scans it, the mini-program's confirm
page confirms as the logged-in user; the console, polling with the secret only it holds, receives its own
session once. Tickets live two minutes and are used once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from backend.accounts.models import ConsoleLoginTicket, ConsoleTicketStatus, User
from backend.accounts.services import (
    SCENE_ALPHABET,
    SCENE_LENGTH,
    IssuedSession,
    hash_token,
    issue_session,
    mini_program_code,
    random_code,
)
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.integrations.wechat import WeChatGateway
from backend.permissions import Principal

TICKET_TTL = timedelta(minutes=2)
CONFIRM_PAGE = "pages/accounts/console-login/index"


@dataclass(frozen=True)
class NewTicket:
    """A ticket just created: the secret is shown to the asking browser once and stored only as a hash."""

    ticket: ConsoleLoginTicket
    secret: str
    image: bytes


def create_ticket(gateway: WeChatGateway, now: datetime, env_version: str) -> NewTicket:
    """A pending ticket with its mini-program code (PNG) that opens the confirm page."""
    secret = secrets.token_urlsafe(32)
    ticket = ConsoleLoginTicket(scene=random_code(SCENE_ALPHABET, SCENE_LENGTH), browser_hash=hash_token(secret),
                                status=ConsoleTicketStatus.PENDING, created_at=now, expires_at=now + TICKET_TTL)
    image = mini_program_code(gateway, ticket.scene, CONFIRM_PAGE, env_version)
    db.session.add(ticket)
    db.session.commit()
    return NewTicket(ticket, secret, image)


def _expired() -> ApiError:
    return ApiError(410, "ticket_expired", "二维码已失效，请刷新后重新扫码")


def confirm_ticket(principal: Principal, scene: str, now: datetime) -> ConsoleLoginTicket:
    """The scanning user confirms in the mini-program: the ticket now carries their identity."""
    ticket = db.session.scalar(select(ConsoleLoginTicket).where(ConsoleLoginTicket.scene == scene))
    if ticket is None:
        raise ApiError(404, "not_found", "登录二维码不存在")
    # One conditional update: of two confirmations racing, exactly one wins.
    confirmed = db.session.execute(
        update(ConsoleLoginTicket)
        .where(ConsoleLoginTicket.id == ticket.id, ConsoleLoginTicket.status == ConsoleTicketStatus.PENDING,
               ConsoleLoginTicket.expires_at > now)
        .values(status=ConsoleTicketStatus.CONFIRMED, user_id=principal.user.id, confirmed_at=now)
    ).rowcount
    if not confirmed:
        db.session.rollback()
        raise _expired()
    record_audit(principal.user.id, AuditAction.CONSOLE_LOGIN_CONFIRM, target=("console_login_ticket", ticket.id))
    db.session.commit()
    db.session.refresh(ticket)
    return ticket


def redeem_ticket(ticket_id: int, secret: str, ttl_hours: int, now: datetime, client: str | None
                  ) -> IssuedSession | None:
    """The console's poll: None while pending, the session once confirmed (only once, only this browser)."""
    ticket = db.session.get(ConsoleLoginTicket, ticket_id)
    if ticket is None or not secrets.compare_digest(ticket.browser_hash, hash_token(secret)):
        raise ApiError(404, "not_found", "登录二维码不存在")
    if ticket.status == ConsoleTicketStatus.CONSUMED:
        raise ApiError(410, "ticket_used", "该二维码已用于登录，请刷新后重新扫码")
    if ticket.status == ConsoleTicketStatus.PENDING:
        if ticket.expires_at <= now:
            raise _expired()
        return None
    consumed = db.session.execute(
        update(ConsoleLoginTicket)
        .where(ConsoleLoginTicket.id == ticket.id, ConsoleLoginTicket.status == ConsoleTicketStatus.CONFIRMED)
        .values(status=ConsoleTicketStatus.CONSUMED, consumed_at=now)
    ).rowcount
    if not consumed:
        db.session.rollback()
        raise ApiError(410, "ticket_used", "该二维码已用于登录，请刷新后重新扫码")
    issued = issue_session(db.session.get(User, ticket.user_id), ttl_hours, client or "console-scan")
    db.session.commit()
    return issued
