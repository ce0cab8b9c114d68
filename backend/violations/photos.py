"""Photos attached to violations (reports, rectifications, inspection findings).

The bytes go through the same steps as every upload (:mod:`backend.files` and :mod:`backend.content`): the
size limit, a content check that takes only JPEG, PNG and WebP images that decode completely, re-encoding
that drops EXIF (GPS) and any trailing bytes, the object store and a short-lived signed URL. What is
particular to violation photos is the owner: the key names the school and the author, and a later request
may only reference photos its own author uploaded to the same school; parents' photos also go to WeChat's
content check. School members upload at ``POST /schools/<id>/violation-photos``; inspectors upload for a
canteen of their round at ``POST /inspections/<id>/photos`` (the photo then belongs to that canteen's school).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

from backend.content import IMAGE_KINDS
from backend.errors import ApiError
from backend.files import check_upload, object_store, signed_url, store_object
from backend.integrations.storage import StorageError
from backend.notices.media_checks import request_media_check
from backend.permissions import Principal, content_is_checked
from backend.schools.models import School

PREFIX = "violation-photos"


def _prefix(school_id: int, user_id: int) -> str:
    return f"{PREFIX}/{school_id}/{user_id}/"


def store_photo(actor: Principal, school: School, data: bytes, public_base: str | None = None) -> dict[str, Any]:
    """Check, clean and store an uploaded photo; returns its key and a short-lived URL.

    Photos from parents and committee members also go to WeChat's asynchronous content check; the verdict
    arrives on the push endpoint.
    """
    checked = check_upload(data, IMAGE_KINDS)
    key = f"{_prefix(school.id, actor.user.id)}{secrets.token_hex(12)}.{checked.extension}"
    store_object(key, checked)
    if content_is_checked(actor, school):
        request_media_check(actor.user, school.id, key, public_base)
    return {"key": key, "url": signed_url(key).url, "size": len(checked.data)}


def check_photo_keys(actor: Principal, school: School, keys: Collection[str]) -> None:
    """Every key must be a photo this user uploaded to this school, and must exist."""
    prefix = _prefix(school.id, actor.user.id)
    store = object_store()
    for key in keys:
        try:
            present = isinstance(key, str) and key.startswith(prefix) and store.exists(key)
        except StorageError:  # a malformed key
            present = False
        if not present:
            message = "照片不存在或不属于当前用户，请重新上传"
            # Under ``fields`` too, so a form shows it next to its photos.
            raise ApiError(422, "photo_not_found", message, {"key": key, "fields": {"photos": [message]}})
