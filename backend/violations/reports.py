"""Problems reported by people (source ``report``): a parent who saw something, a member of staff."""

from __future__ import annotations

import logging
from collections.abc import Collection

from backend.errors import ApiError
from backend.extensions import db
from backend.integrations.wechat import WeChatError, WeChatGateway
from backend.permissions import Action, Principal, content_is_checked, require
from backend.schools.models import Camera, Canteen, KitchenArea, School
from backend.timeutil import utcnow
from backend.violations.lifecycle import MAX_PHOTOS
from backend.violations.models import Violation, ViolationKind, ViolationSource
from backend.violations.photos import check_photo_keys
from backend.violations.services import raise_violation

log = logging.getLogger(__name__)


def check_text(gateway: WeChatGateway, openid: str, text: str) -> None:
    """Refuse (422 ``content_risky``) a parent's text that WeChat's content check finds risky; accepted unchecked
    when WeChat cannot be reached."""
    try:
        suggest = gateway.msg_sec_check(openid, text)
    except WeChatError as exc:  # WeChat down: the text still reaches the school, which answers it
        log.warning("msg_sec_check unavailable (%s); text accepted unchecked", exc)
        return
    if suggest == "risky":
        raise ApiError(422, "content_risky", "内容含有违规信息，请修改后再提交")


def report_violation(actor: Principal, school: School, *, canteen_id: int, description: str,
                     kind: str = ViolationKind.REPORTED, title: str | None = None, camera_id: int | None = None,
                     photos: Collection[str] = (), client_key: str, gateway: WeChatGateway | None = None
                     ) -> tuple[Violation, bool]:
    """Raise a reported violation once per client key (a retried request returns the same violation)."""
    require(actor, Action.VIOLATION_REPORT, school)
    canteen = db.session.get(Canteen, canteen_id)
    if canteen is None or canteen.school_id != school.id:
        raise ApiError(422, "canteen_not_in_school", "食堂不属于该学校", {"fields": {"canteen_id": ["不属于该学校"]}})
    if camera_id is not None:
        camera = db.session.get(Camera, camera_id)
        area = db.session.get(KitchenArea, camera.area_id) if camera else None
        if area is None or area.canteen_id != canteen.id:
            raise ApiError(422, "camera_not_in_canteen", "摄像头不属于该食堂",
                           {"fields": {"camera_id": ["不属于该食堂"]}})
    if len(photos) > MAX_PHOTOS:
        raise ApiError(422, "too_many_photos", f"最多上传{MAX_PHOTOS}张照片", {"max": MAX_PHOTOS})
    check_photo_keys(actor, school, photos)
    # Reports from parents are user-generated content: WeChat requires a content check before others see it.
    if gateway is not None and content_is_checked(actor, school):
        check_text(gateway, actor.user.openid, f"{title or ''}\n{description}")
    raised = raise_violation(
        canteen_id=canteen.id, kind=kind, source=ViolationSource.REPORT,
        idempotency_key=f"report:{actor.user_id}:{client_key}", occurred_at=utcnow(), camera_id=camera_id,
        title=title, description=description, evidence={"photos": list(photos)} if photos else {},
        details={"reporter_roles": sorted(r.value for r in actor.roles_in(school.id))}, actor_id=actor.user_id)
    return raised.violation, raised.created
