"""The application's WeChat gateway, built once per app from its settings."""

from __future__ import annotations

from flask import current_app

from backend.extensions import db
from backend.integrations.wechat import WeChatGateway, build_gateway


def wechat_gateway() -> WeChatGateway:
    """The current app's gateway (created on first use, shared by its threads)."""
    gateway = current_app.extensions.get("wechat_gateway")
    if gateway is None:
        gateway = build_gateway(current_app.config, db.engine)
        current_app.extensions["wechat_gateway"] = gateway
    return gateway
