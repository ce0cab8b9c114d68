"""What a send through a notice channel (SMS, WeCom robot) answered, in the dispatcher's four outcomes.

- ``sent``: the provider accepted the message;
- ``retry``: provably not carried out (no connection was made, or the provider answered a transient error such
  as a rate limit): sending again cannot make a second message;
- ``failed``: a permanent refusal (bad key, bad number, sensitive words, daily limit): sending again is useless;
- ``unknown``: the request may have been carried out but its answer was lost (read timeout, connection reset,
  HTTP 5xx, an answer we cannot read): sending again may make a second message.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
import urllib3

SENT = "sent"
RETRY = "retry"
FAILED = "failed"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChannelReply:
    """One send's outcome, the provider's code and message, and its id of the message when it gave one."""

    outcome: str
    code: str = ""
    message: str = ""
    external_id: str | None = None
    # The provider asks us to wait at least this long before the next try (WeCom's per-minute limit).
    retry_after_seconds: int | None = None


def never_sent(exc: BaseException) -> bool:
    """Whether a ``requests`` failure proves the request never left: no connection could be made."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (requests.ConnectTimeout, urllib3.exceptions.NewConnectionError,
                                urllib3.exceptions.ConnectTimeoutError, ConnectionRefusedError)):
            return True
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        reason = getattr(current, "reason", None)
        nested = nested or (reason if isinstance(reason, BaseException) else None)
        current = current.__cause__ or current.__context__ or nested
    return False


def network_reply(exc: BaseException) -> ChannelReply:
    """The outcome of a request that failed on the network."""
    text = f"{type(exc).__name__}: {exc}"[:200]
    return ChannelReply(RETRY if never_sent(exc) else UNKNOWN, "network", text)
