"""What the notice settings mean for a starting process: refuse values that cannot work, warn about gaps.

Run by ``create_app`` (so by the api, the scheduler and every worker). A value that would make every send
or every purge fail (an unreadable template list, an unknown mini-program state, a retention below a day)
stops the process at once with :class:`~backend.config.ConfigError`: better than a dispatcher failing every
two seconds. Missing WeChat settings in production are only warned about: the in-app inbox still gets every
notice, and an operator may well deploy before the templates are approved in the WeChat console (that
review takes days); refusing to start would take the whole platform down for an optional channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from backend.config import ConfigError
from backend.notices.retention import retention_days
from backend.notices.templates import TEMPLATES, parse_template_ids

log = logging.getLogger(__name__)

MINIPROGRAM_STATES = ("developer", "trial", "formal")


def check_notice_settings(config: Mapping[str, Any]) -> list[str]:
    """Raise ConfigError for notice settings that cannot work; return warnings (English, for the log)."""
    try:
        configured = parse_template_ids(config.get("WECHAT_SUBSCRIBE_TEMPLATES"))
        retention_days(config)
    except ValueError as exc:
        raise ConfigError(f"refusing to start: {exc}") from exc
    state = config.get("WECHAT_MINIPROGRAM_STATE")
    if state and state not in MINIPROGRAM_STATES:
        raise ConfigError("refusing to start: WECHAT_MINIPROGRAM_STATE must be one of "
                          f"{', '.join(MINIPROGRAM_STATES)}, not {state!r}")
    if config.get("APP_ENV") != "production":
        return []  # development ids are used when none are configured
    warnings: list[str] = []
    if not configured:
        warnings.append("WECHAT_SUBSCRIBE_TEMPLATES is not set: no WeChat subscribe message will be sent, notices "
                        "reach the in-app inbox only (set "
                        + ",".join(f"{name}=ID" for name in TEMPLATES) + ")")
    else:
        missing = [name for name in TEMPLATES if name not in configured]
        if missing:
            warnings.append(f"WECHAT_SUBSCRIBE_TEMPLATES has no template for {', '.join(missing)}: "
                            "those notices reach the in-app inbox only")
    if not config.get("WECHAT_PUSH_TOKEN"):
        warnings.append("WECHAT_PUSH_TOKEN is not set: WeChat's pushes are refused, so subscriptions switched off "
                        "in WeChat, delivery reports and photo content-check verdicts never arrive")
    return warnings


def log_notice_settings(config: Mapping[str, Any]) -> None:
    """Check the notice settings at startup and log each warning once."""
    for warning in check_notice_settings(config):
        log.warning("notices: %s", warning)
