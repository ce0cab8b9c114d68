"""The HTTP transport under wechatpy: urllib3 connection pools behind the small part of ``requests.Session``
that wechatpy uses (``request`` and ``get``), answering real ``requests.Response`` objects.

Why not the ``requests.Session`` wechatpy creates: per call it merges session settings, rereads proxy variables
and ``~/.netrc``, builds a ``PreparedRequest`` and walks hooks and adapters, which cost the notice dispatcher more
CPU than WeChat's own answer (``bench/notices.py``). This transport does only what a WeChat call needs: a query
string, a body, a timeout, keep-alive connections (enough for every sender thread), certificate checks against
certifi's bundle as ``requests`` does, and proxies read once from the environment. Failures are raised as the
``requests`` exceptions callers already handle, sorted by whether the request may have reached the server: only
:class:`ConnectFailed` and ``requests.ConnectTimeout`` prove it did not (a retry cannot repeat it); a
``requests.ReadTimeout`` or a plain ``requests.ConnectionError`` (reset or closed before the answer) may come after
the server got and acted on the whole request.
"""

from __future__ import annotations

import traceback
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import requests
import urllib3
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies

#: Keep-alive connections per host: more than the notice dispatcher's concurrent senders.
POOL_CONNECTIONS = 32


class ConnectFailed(requests.ConnectionError):
    """No connection could be made (refused, unreachable, DNS, TLS handshake): not one byte of the request left."""


def _in_tls_handshake(exc: BaseException) -> bool:
    """Whether the TLS error was raised inside the handshake, i.e. before the request was written.

    urllib3 raises the same ``SSLError`` for a failed handshake and for a TLS error while reading an answer;
    only the first proves the request was never sent, and the frame the ``ssl`` error came from tells them apart.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(frame.name == "do_handshake" for frame in traceback.extract_tb(current.__traceback__)):
            return True
        nested = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = current.__cause__ or current.__context__ or nested
    return False


class LeanSession:
    """What wechatpy calls on its ``_http`` session, over urllib3."""

    def __init__(self, api_base: str, maxsize: int = POOL_CONNECTIONS) -> None:
        """Pools for ``api_base``'s host; a proxy from the environment (``HTTPS_PROXY`` ...) is read once here."""
        options: dict[str, Any] = {"maxsize": maxsize, "block": False, "retries": False,
                                   "ca_certs": certifi.where(), "cert_reqs": "CERT_REQUIRED"}
        proxy = get_environ_proxies(api_base).get(urlsplit(api_base).scheme)
        self._pool: urllib3.PoolManager = (urllib3.ProxyManager(proxy, **options) if proxy
                                           else urllib3.PoolManager(**options))

    def request(self, method: str, url: str, params: dict[str, Any] | None = None, data: bytes | str | None = None,
                timeout: float | None = None, **ignored: Any) -> requests.Response:
        """One HTTP exchange; ``params`` with None values are left out, as ``requests`` does."""
        query = urlencode([(k, v) for k, v in (params or {}).items() if v is not None])
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        body = data.encode() if isinstance(data, str) else data
        try:
            raw = self._pool.request(method.upper(), url, body=body, timeout=urllib3.Timeout(total=timeout),
                                     redirect=False, preload_content=True)
        except urllib3.exceptions.NewConnectionError as exc:  # urllib3 files it under timeouts; it is not one
            raise ConnectFailed(str(exc)) from exc  # refused, unreachable or DNS (NameResolutionError)
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise requests.ConnectTimeout(str(exc)) from exc
        except urllib3.exceptions.SSLError as exc:
            if _in_tls_handshake(exc):
                raise ConnectFailed(str(exc)) from exc
            raise requests.exceptions.SSLError(str(exc)) from exc
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:  # the request was written: a late answer
            raise requests.ReadTimeout(str(exc)) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise requests.ConnectionError(str(exc)) from exc
        response = requests.Response()
        response.status_code = raw.status
        response.reason = raw.reason or ""
        response.headers = CaseInsensitiveDict(raw.headers)
        response._content = raw.data
        response.url = url
        response.encoding = "utf-8"
        return response

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        """``GET url``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """``POST url``."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()
