"""Loopback networking for the tests: free ports, waiting for a listener, a peer that never answers, and
stopping the child processes a test started (by their own pid, never by name)."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

# One implementation of each, shared with the demo's media stack.
from backend.live.media_stack import free_port, wait_for_port
from backend.live.media_stack import stop_process as kill_process

__all__ = ["Outcome", "SilentServer", "free_port", "http_get", "kill_process", "returns_within", "wait_for_port"]


def http_get(url: str, source_address: str = "127.0.0.1") -> tuple[int, bytes]:
    """GET ``url`` from ``source_address`` (another loopback address is another device to the media server's
    HLS authorisation); the status and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10,
                                            source_address=(source_address, 0))
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class SilentServer:
    """A TCP peer that accepts connections and then never sends a byte (a hung camera or a black-holed
    proxy): whatever protocol a client speaks to it, only the client's own timeouts end the wait."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)  # kept open, never read, never answered

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for conn in self._held:
            conn.close()


class Outcome:
    """What a call run by :func:`returns_within` gave back or raised."""

    def __init__(self) -> None:
        self.value: object = None
        self.error: BaseException | None = None


def returns_within(seconds: float, call: Callable[[], object]) -> Outcome:
    """Run ``call`` in a thread and fail the test if it has not returned after ``seconds`` (a generous bound:
    the point is that it returns at all, not how fast); its value or exception is in the outcome."""
    outcome = Outcome()

    def run() -> None:
        try:
            outcome.value = call()
        except BaseException as exc:  # handed to the test
            outcome.error = exc

    thread = threading.Thread(target=run, name="bounded-call", daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the call did not return within {seconds} s"
    return outcome
