"""What every API request pays for, kept to what the API uses.

Flask opens and saves a signed cookie session around every request, and Flask-Limiter runs a
before-request check, an after-request header step and a teardown on every request. The API uses no
cookie session (clients send a bearer token) and only a few routes carry a limit, each declared with
``@limiter.limit``, whose wrapper checks the limit itself when the route runs. So the common path
skips both; the limiter's after-request and teardown steps run only for a request that evaluated a
limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response
from flask.globals import request_ctx
from flask.sessions import SessionInterface, SessionMixin
from flask_limiter import Limiter

# Where Flask-Limiter keeps a request's limit state (``Limiter.context``); present only once a limit
# was evaluated in this request.
_LIMITER_STATE = "_limiter_request_context"


class NoCookieSession(SessionInterface):
    """A session interface that never reads or writes a cookie: ``flask.session`` is a null session."""

    def open_session(self, app: Flask, request: Any) -> SessionMixin:
        """Every request gets the null session, without building a signing serializer."""
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing to save: no Set-Cookie header is ever written."""
        return None


def _limit_evaluated() -> bool:
    return hasattr(request_ctx._get_current_object(), _LIMITER_STATE)


def _only_when_limited(step: Callable[..., Any], passthrough: bool) -> Callable[..., Any]:
    """Wrap a limiter step so it runs only when this request evaluated a limit."""

    def guarded(value: Any = None) -> Any:
        if _limit_evaluated():
            return step(value)
        return value if passthrough else None

    guarded.__name__ = getattr(step, "__name__", "limiter_step")
    return guarded


def _uses_request_wide_limits(limiter: Limiter) -> bool:
    manager = limiter.limit_manager
    return bool(manager.default_limits or manager.application_limits or manager._blueprint_limits
                or limiter._meta_limits)


def lighten_request_path(app: Flask, limiter: Limiter) -> None:
    """Install the cookie-less session and take the limiter's hooks off requests that evaluate no limit.

    Called after ``limiter.init_app(app)``. When default, application, blueprint or meta limits are
    configured, every request needs the limiter's before-request check, so the hooks are left alone.
    """
    app.session_interface = NoCookieSession()
    if _uses_request_wide_limits(limiter):
        return
    check = limiter._check_request_limit
    before = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [func for func in before if func != check]
    after = app.after_request_funcs.get(None, [])
    app.after_request_funcs[None] = [_only_when_limited(func, passthrough=True) if _is_limiter_step(func, limiter)
                                     else func for func in after]
    teardown = app.teardown_request_funcs.get(None, [])
    app.teardown_request_funcs[None] = [_only_when_limited(func, passthrough=False)
                                        if _is_limiter_step(func, limiter) else func for func in teardown]


def _is_limiter_step(func: Callable[..., Any], limiter: Limiter) -> bool:
    # init_app registers a functools.partial over Limiter.__inject_headers and the bound __release_context.
    bound_to = getattr(func, "__self__", None)
    partial_args = getattr(func, "args", ())
    return bound_to is limiter or (bool(partial_args) and partial_args[0] is limiter)
