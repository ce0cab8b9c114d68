"""The app's object store, and downloads of local-store objects through signed URLs."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import quote

from apiflask import APIBlueprint
from flask import Response, current_app, request

from backend.errors import ApiError
from backend.integrations.storage import LocalStore, ObjectStore, StorageError, build_store, verify_local
from backend.permissions import Action, rule

bp = APIBlueprint("files", __name__, tag="文件")


def object_store() -> ObjectStore:
    """The current app's object store (created on first use)."""
    store = current_app.extensions.get("object_store")
    if store is None:
        store = build_store(current_app.config)
        current_app.extensions["object_store"] = store
    return store


@bp.get("/files/<path:key>")
@rule(Action.SIGNED)  # the signature is the authorisation: it was issued to a reader of the record
def download(key: str) -> Any:
    """Serve a local-store object to the holder of a valid, unexpired signed URL."""
    store = object_store()
    if not isinstance(store, LocalStore):
        raise ApiError(404, "not_found", "文件不存在")
    if not verify_local(current_app.config["SECRET_KEY"], key, request.args.get("expires"), request.args.get("sig")):
        raise ApiError(403, "signature_invalid", "文件链接无效或已过期")
    try:
        data = store.get(key)
    except StorageError as exc:
        raise ApiError(404, "not_found", "文件不存在") from exc
    mimetype = mimetypes.guess_type(key)[0] or "application/octet-stream"
    headers = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}
    filename = request.args.get("filename")
    if filename:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(data, mimetype=mimetype, headers=headers)
