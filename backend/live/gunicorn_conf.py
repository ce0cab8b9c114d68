"""gunicorn hooks that run the media hook listener in every api worker (``--config python:backend.live.gunicorn_conf``).

Each worker binds MEDIA_HOOK_LISTEN itself with SO_REUSEPORT once its app is loaded, so the listener needs no
process or service of its own and lives and dies with its worker (backend/live/hook_listener.py). Without
MEDIA_HOOK_LISTEN nothing starts: the hooks are answered on the api's own port only, as they always are too.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.live.hook_listener import HookListener, start_for

log = logging.getLogger(__name__)

_listener: HookListener | None = None


def post_worker_init(worker: Any) -> None:
    """Start this worker's media hook listener (a worker that cannot bind it fails to boot, loudly)."""
    global _listener
    _listener = start_for(worker.wsgi)


def worker_exit(server: Any, worker: Any) -> None:
    """Stop this worker's listener: no new connection, the requests being answered finish."""
    if _listener is not None:
        _listener.stop()
