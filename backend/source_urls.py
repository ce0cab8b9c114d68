"""Camera source URLs with the camera's credentials in them: the one builder the api (relay, snapshots) and the
detection workers (OpenCV capture) use.

Only the standard library: the workers import it without an application.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

# Sources that name a local file carry no credentials: ``file://u:p@/path`` is not a file URL ffmpeg reads.
LOCAL_SCHEMES = frozenset({"", "file"})


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """``url`` with user information added, for network sources that do not already carry any.

    User and password are percent-encoded (a password may hold ``@``, ``:``, ``/`` or ``#``); the host is kept
    as written, IPv6 brackets and letter case included, and so is the port. Without a user, for a file source,
    or for a URL without a host, the URL comes back unchanged.
    """
    if not username:
        return url
    try:
        parts = urlsplit(url)
        has_user = parts.username is not None
    except ValueError:  # an unbalanced IPv6 bracket: nothing sensible to add credentials to
        return url
    if parts.scheme.lower() in LOCAL_SCHEMES or has_user or not parts.netloc:
        return url
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))
