"""Scan to log in to the web console: ticket, mini-program code through the WeChat fake, confirmation in the
mini-program, the console's poll; two minutes, single use, bound to the asking browser."""

from __future__ import annotations

import base64
from datetime import timedelta

import sqlalchemy as sa

from backend.accounts.models import ConsoleLoginTicket
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.timeutil import utcnow


def new_ticket(client, wechat):
    response = client.post("/api/v1/auth/console-tickets", json={"env_version": "develop"})
    assert response.status_code == 201, response.json
    call = wechat.calls("getwxacodeunlimit")[-1]
    return response.json, call["json"]


def poll(client, ticket, secret=None):
    return client.post(f"/api/v1/auth/console-tickets/{ticket['id']}/poll", json={"secret": secret or ticket["secret"]})


def test_scan_confirm_and_poll_gives_the_console_its_own_session_once(client, demo, as_user, wechat):
    ticket, code = new_ticket(client, wechat)
    assert code["page"] == "pages/accounts/console-login/index"
    assert code["env_version"] == "develop"
    assert base64.b64decode(ticket["wxacode"].removeprefix("data:image/png;base64,")).startswith(b"\x89PNG\r\n\x1a\n")
    assert code["scene"] not in ticket["secret"]  # the code carries the scene, never the browser's secret

    assert poll(client, ticket).json == {"status": "pending"}
    phone = as_user("demo-principal-1")
    confirmed = client.post("/api/v1/auth/console-tickets/confirm", json={"scene": code["scene"]}, headers=phone)
    assert confirmed.status_code == 200 and confirmed.json == {"status": "confirmed"}

    answer = poll(client, ticket)
    assert answer.status_code == 200 and answer.json["status"] == "confirmed"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {answer.json['token']}"})
    assert me.status_code == 200 and me.json["memberships"][0]["role"] == "principal"
    assert answer.json["token"] != phone["Authorization"].split()[1]  # a session of its own, revocable alone

    again = poll(client, ticket)
    assert again.status_code == 410 and again.json["error"]["code"] == "ticket_used"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "console.login_confirm")) == 1


def test_ticket_is_bound_to_the_browser_that_asked(client, demo, as_user, wechat):
    ticket, code = new_ticket(client, wechat)
    client.post("/api/v1/auth/console-tickets/confirm", json={"scene": code["scene"]},
                headers=as_user("demo-regulator"))
    stolen = poll(client, ticket, secret="someone-else-s-guess")
    assert stolen.status_code == 404
    assert poll(client, ticket).json["status"] == "confirmed"


def test_ticket_confirms_once_and_not_after_two_minutes(client, demo, as_user, wechat):
    _, code = new_ticket(client, wechat)
    first = client.post("/api/v1/auth/console-tickets/confirm", json={"scene": code["scene"]},
                        headers=as_user("demo-principal-1"))
    assert first.status_code == 200
    second = client.post("/api/v1/auth/console-tickets/confirm", json={"scene": code["scene"]},
                         headers=as_user("demo-parent-1"))
    assert second.status_code == 410 and second.json["error"]["code"] == "ticket_expired"

    late, late_code = new_ticket(client, wechat)
    row = db.session.get(ConsoleLoginTicket, late["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)  # as if the two minutes had passed
    db.session.commit()
    assert poll(client, late).status_code == 410
    refused = client.post("/api/v1/auth/console-tickets/confirm", json={"scene": late_code["scene"]},
                          headers=as_user("demo-principal-1"))
    assert refused.status_code == 410
    assert poll(client, late).json["error"]["code"] == "ticket_expired"


def test_confirming_needs_a_logged_in_user_and_a_real_ticket(client, demo, as_user, wechat):
    _, code = new_ticket(client, wechat)
    assert client.post("/api/v1/auth/console-tickets/confirm", json={"scene": code["scene"]}).status_code == 401
    unknown = client.post("/api/v1/auth/console-tickets/confirm", json={"scene": "no-such-scene"},
                          headers=as_user("demo-principal-1"))
    assert unknown.status_code == 404
    assert client.post("/api/v1/auth/console-tickets/999999/poll", json={"secret": "x"}).status_code == 404
