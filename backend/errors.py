"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, jsonify

log = logging.getLogger(__name__)

# Chinese messages for errors raised by the HTTP layer itself (Flask/Werkzeug, the media hook listener), keyed by
# HTTP status.
HTTP_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    408: ("request_timeout", "请求超时"),
    409: ("conflict", "数据冲突，请刷新后重试"),
    411: ("length_required", "请求须声明 Content-Length"),
    413: ("payload_too_large", "上传内容超过大小限制"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_failed", "请求参数不正确"),
    429: ("rate_limited", "操作过于频繁，请稍后再试"),
    431: ("headers_too_large", "请求头过大"),
    500: ("internal_error", "服务器内部错误，请稍后再试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后再试"),
    505: ("http_version_not_supported", "不支持该 HTTP 版本"),
}


class Refusal(Exception):
    """Something refused; ``reason`` is a short machine-readable word for logs and tests."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ApiError(HTTPError):
    """A business error with a machine-readable code and a Chinese message for the user."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, message, detail=details or {}, headers=headers,
                         extra_data={"code": code})
        self.code = code


def not_found(what: str = "资源") -> ApiError:
    """A 404 naming what was not found."""
    return ApiError(404, "not_found", f"{what}不存在")


def forbidden(message: str = "没有权限执行此操作") -> ApiError:
    """A 403 for an authenticated user who may not do this."""
    return ApiError(403, "forbidden", message)


def error_body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The single error shape."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def register_error_handlers(app: APIFlask) -> None:
    """Route every error, including 404/405/413/422/500, through the one shape."""

    @app.error_processor
    def _process(error: HTTPError) -> tuple[dict[str, Any], int, Any]:
        status = error.status_code
        code = error.extra_data.get("code")
        details = error.detail
        if code:
            message = error.message
        else:
            code, message = HTTP_STATUS_ERRORS.get(status, ("error", "请求失败"))
            if status == 422 and isinstance(details, dict):
                # webargs groups field errors by location (json, query, files); clients want the fields.
                fields: dict[str, Any] = {}
                for location in details.values():
                    if isinstance(location, dict):
                        fields.update(location)
                details = {"fields": fields}
        return error_body(status, code, message, details), status, error.headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response, int]:
        # Never send a stack trace to a client; the log keeps it.
        log.exception("unhandled error: %s", error)
        code, message = HTTP_STATUS_ERRORS[500]
        return jsonify(error_body(500, code, message)), 500
