"""Photos attached to violations (reports, rectifications, inspection findings).

An upload is judged by its content: only JPEG, PNG and WebP images that decode completely are accepted,
within the size limit; the stored copy is re-encoded as JPEG, which drops EXIF (GPS) and any trailing
bytes. A later request may only reference photos its own author uploaded to the same school.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Collection
from typing import Any

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from backend.accounts.models import Role
from backend.errors import ApiError
from backend.files import object_store
from backend.integrations.storage import StorageError
from backend.notices.media_checks import request_media_check
from backend.permissions import Principal
from backend.schools.models import School

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000
MAX_SIDE = 4096
PREFIX = "violation-photos"


def _prefix(school_id: int, user_id: int) -> str:
    return f"{PREFIX}/{school_id}/{user_id}/"


def _decode(data: bytes) -> Image.Image:
    """Open and fully decode the image, refusing anything that is not a whole JPEG/PNG/WebP."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ApiError(415, "unsupported_image", "仅支持 JPEG、PNG、WebP 格式的图片",
                               {"format": probe.format})
            if probe.width * probe.height > MAX_PIXELS:
                raise ApiError(413, "image_too_large", "图片像素过大")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()  # a truncated file fails here, not later
        return image
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ApiError(415, "unsupported_image", "文件不是有效的图片", {"reason": type(exc).__name__}) from exc


def _reencode(image: Image.Image) -> bytes:
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: metadata is not copied
    return out.getvalue()


def store_photo(actor: Principal, school: School, data: bytes, openid: str | None = None,
                public_base: str | None = None) -> dict[str, Any]:
    """Check, clean and store an uploaded photo; returns its key and a short-lived URL.

    Photos from parents and committee members also go to WeChat's asynchronous content check; the verdict
    arrives on the push endpoint.
    """
    limit = int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    if not data:
        raise ApiError(422, "empty_file", "文件为空")
    if len(data) > limit:
        raise ApiError(413, "payload_too_large", f"图片不能超过{current_app.config['MAX_UPLOAD_MB']}MB")
    cleaned = _reencode(_decode(data))
    key = f"{_prefix(school.id, actor.user.id)}{secrets.token_hex(12)}.jpg"
    store = object_store()
    store.put(key, cleaned, "image/jpeg")
    if actor.roles_in(school.id) & {Role.PARENT, Role.COMMITTEE} and not actor.is_admin:
        request_media_check(actor.user, school.id, key, public_base)
    return {"key": key, "url": store.signed_url(key, 600), "size": len(cleaned)}


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
            raise ApiError(422, "photo_not_found", "照片不存在或不属于当前用户，请重新上传", {"key": key})
