"""Fixtures of the violations, notices and regulators tests: the demo seed known to the WeChat fake, its
templates registered with their keyword kinds (so WeChat's rules are enforced), quotas and a dispatcher."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from backend.accounts.models import User
from backend.extensions import db
from backend.notices import quota
from backend.notices.templates import DEV_TEMPLATE_IDS, TEMPLATES

PUSH_TOKEN = "push-token-for-tests"
# 43 characters, as WeChat's console generates it.
PUSH_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """The shared settings plus the push Token/AES key and a private local object store."""
    return {**app_config, "WECHAT_PUSH_TOKEN": PUSH_TOKEN, "WECHAT_PUSH_AES_KEY": PUSH_AES_KEY,
            "STORAGE_BACKEND": "local", "STORAGE_LOCAL_PATH": str(tmp_path / "store")}


def template_kinds() -> dict[str, dict[str, str]]:
    """Our templates as the fake must know them: {template id: {key: kind}}."""
    result = {}
    for name, template in TEMPLATES.items():
        result[DEV_TEMPLATE_IDS[name]] = {kw.key: kw.key.rstrip("0123456789") for kw in template.keywords}
    return result


@pytest.fixture
def kitchen(demo: dict[str, int], wechat: Any) -> dict[str, Any]:
    """The demo seed, every demo user known to the fake, and our templates registered on it."""
    for openid in db.session.scalars(sa.select(User.openid)):
        wechat.register_openid(openid)
    wechat.set_templates(template_kinds(), replace=True)
    wechat.set_options(allow_unregistered_templates=False)
    return {"schools": demo, "fake": wechat}


def user_id(openid: str) -> int:
    """The id of a demo user."""
    return db.session.scalar(sa.select(User.id).where(User.openid == openid))


def grant(openid: str, purpose: str, times: int = 1, at: datetime | None = None, fake: Any = None) -> None:
    """The user accepted ``times`` one-time subscriptions of a purpose's template in the mini-program.

    With ``fake``, WeChat (the fake, option ``subscription_quota``) counts the same taps, as it would.
    """
    for _ in range(times):  # client reports only: each one is a separate tap (only a push report is a twin)
        quota.record_choice(user_id(openid), DEV_TEMPLATE_IDS[purpose], "accept", "client", at)
        if fake is not None:
            fake.grant_subscription(openid, DEV_TEMPLATE_IDS[purpose])
    db.session.commit()


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small real PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()
