"""WeChat's asynchronous image check (``media_check_async``) for photos parents upload.

The request returns a ``trace_id``; WeChat later pushes a ``wxa_media_check`` event with the verdict, which
:func:`record_media_verdict` stores. Photos whose verdict is ``risky`` are never shown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import select

from backend.accounts.models import User
from backend.extensions import db
from backend.files import object_store
from backend.integrations.wechat import WeChatError
from backend.integrations.wechat_app import wechat_gateway
from backend.notices.models import MediaCheck, MediaCheckStatus
from backend.timeutil import utcnow

log = logging.getLogger(__name__)
VERDICTS = {"pass": MediaCheckStatus.PASS, "review": MediaCheckStatus.REVIEW, "risky": MediaCheckStatus.RISKY}


def request_media_check(user: User, school_id: int | None, key: str, public_base: str | None) -> MediaCheck:
    """Ask WeChat to check an uploaded image; WeChat must be able to fetch it, so the URL is absolute.

    When WeChat cannot be asked, the photo is recorded as unchecked (school staff still see it).
    """
    url = object_store().signed_url(key, 3600)
    if url.startswith("/") and public_base:
        url = public_base.rstrip("/") + url
    check = MediaCheck(object_key=key, school_id=school_id, user_id=user.id, requested_at=utcnow())
    if not url.startswith(("http://", "https://")):
        check.status, check.errmsg = MediaCheckStatus.UNCHECKED, "no public URL for the image"
    else:
        try:
            check.trace_id = wechat_gateway().media_check_async(user.openid, url)
        except WeChatError as exc:
            log.warning("media_check_async failed for %s: %s", key, exc)
            check.status, check.errmsg = MediaCheckStatus.UNCHECKED, str(exc)[:500]
    db.session.add(check)
    db.session.commit()
    return check


def record_media_verdict(trace_id: str, suggest: str | None, label: int | None) -> bool:
    """Store the verdict a ``wxa_media_check`` push carried; False when the trace id is unknown."""
    check = db.session.scalar(select(MediaCheck).where(MediaCheck.trace_id == trace_id))
    if check is None:
        return False
    check.status = VERDICTS.get(suggest or "", MediaCheckStatus.REVIEW)
    check.label = label
    check.decided_at = utcnow()
    return True


def hidden_photos(keys: Iterable[str]) -> set[str]:
    """Those of ``keys`` WeChat judged risky (never shown to anyone but admins)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(db.session.scalars(select(MediaCheck.object_key).where(
        MediaCheck.object_key.in_(keys), MediaCheck.status == MediaCheckStatus.RISKY)))
