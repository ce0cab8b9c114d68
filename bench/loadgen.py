"""A small closed-loop HTTP load generator for the benchmarks (keep-alive connections, several processes).

Every benchmark compares two endpoints measured the same way in the same run, so the machine's noise
affects both sides alike; the absolute numbers are for the notes, the ratios are the targets.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int,
                   app: str = "backend.app:create_app()", extra: Sequence[str] = ()) -> tuple[subprocess.Popen, str]:
    """The api on gunicorn (gthread) on loopback, once it answers /healthz; the process and its base URL
    (``extra``: more gunicorn options, before the app)."""
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning", *extra, app], env=env,
        cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine imports the app slowly
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return server, base
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.2)


def stop_gunicorn(server: subprocess.Popen, grace: float = 30.0) -> None:
    """Stop a server started by ``start_gunicorn``: a graceful TERM, then KILL if its workers outlive ``grace``
    seconds (a worker busy on a slow request would otherwise leave the bench without its report)."""
    server.terminate()
    try:
        server.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


class OneWriteConnection(http.client.HTTPConnection):
    """An HTTP/1.1 client connection that writes a request's head and a small body in one send.

    ``http.client`` sends them in two writes, so every POST would cost the server an extra read (and often an
    extra wake-up) that no real client causes: nginx-rtmp writes a hook request with one ``writev``, browsers
    and WeChat's gateway coalesce small requests too.
    """

    def _send_output(self, message_body=None, encode_chunked=False):
        if isinstance(message_body, bytes) and len(message_body) <= 16 * 1024 and not encode_chunked:
            self._buffer.extend((b"", message_body))
            message, self._buffer[:] = b"\r\n".join(self._buffer), []
            self.send(message)
            return
        super()._send_output(message_body, encode_chunked)


class _Process(NamedTuple):
    pid: int
    ppid: int
    ticks: int
    title: str


class CpuMeter:
    """CPU seconds used by the server under test: a process tree (gunicorn's master and workers) and the
    PostgreSQL backends connected to one database.

    Requests per second on a shared machine move with whatever else runs there; the CPU time the server
    and its database spend per request does not (much), so a ratio of CPU per request is the steadier
    estimate of the same capacity ratio. The load generator's own CPU is left out: real clients are
    elsewhere.
    """

    def __init__(self, server_pid: int | None, database: str | None = None) -> None:
        self.server_pid = server_pid
        self.database = database
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _processes(self) -> list[_Process]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    title = cmdline.read().decode(errors="replace").replace("\0", " ")
            except OSError:
                continue
            # After the command name: state, ppid, ..., utime (14th field of stat) and stime (15th).
            found.append(_Process(int(entry), int(fields[1]), int(fields[11]) + int(fields[12]), title))
        return found

    def read(self) -> float:
        """CPU seconds used so far by the server's processes and the database's backends."""
        return sum(p.ticks for p in self._measured()) / self.ticks

    def waited(self) -> float:
        """Seconds the server's threads and the database's backends have spent so far runnable but waiting for
        a core (the scheduler's run-queue delay, /proc/PID/task/TID/schedstat): on a shared machine, the part
        of a request's latency that is other processes' CPU, not this server's work."""
        total = 0
        for process in self._measured():
            try:
                tasks = os.listdir(f"/proc/{process.pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    with open(f"/proc/{process.pid}/task/{task}/schedstat", "rb") as stat:
                        total += int(stat.read().split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        return total / 1e9

    def _measured(self) -> list[_Process]:
        processes = self._processes()
        tree = {self.server_pid} if self.server_pid is not None else set()  # None: the database's backends only
        grew = True
        while grew:
            grew = False
            for process in processes:
                if process.ppid in tree and process.pid not in tree:
                    tree.add(process.pid)
                    grew = True
        backend = f" {self.database} " if self.database else None
        return [p for p in processes
                if p.pid in tree or (backend and p.title.startswith("postgres: ") and backend in p.title)]


@dataclass
class LoadResult:
    """What one load run measured."""

    label: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float | None = None
    client_cpu_seconds: float | None = None
    server_wait_seconds: float | None = None
    database_cpu_seconds: float | None = None  # the database's backends' share of server_cpu_seconds

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def line(self) -> str:
        """One printable summary line."""
        return (f"{self.label:<28} {self.rps:9.1f} req/s   p50 {self.percentile(50):7.2f} ms   "
                f"p99 {self.percentile(99):7.2f} ms   errors {self.errors}")


def _worker(url: str, method: str, headers_list: Sequence[dict[str, str]], body: bytes | None, threads: int,
            deadline: float, expect: int, queue: multiprocessing.Queue) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    results: list[tuple[int, int, list[float]]] = []
    lock = threading.Lock()

    def loop(index: int) -> None:
        connection = OneWriteConnection(parts.hostname, parts.port, timeout=10)
        count = errors = 0
        latencies: list[float] = []
        headers = headers_list[index % len(headers_list)] if headers_list else {}
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != expect:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = OneWriteConnection(parts.hostname, parts.port, timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
            count += 1
        connection.close()
        with lock:
            results.append((count, errors, latencies))

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    queue.put((sum(r[0] for r in results), sum(r[1] for r in results), [x for r in results for x in r[2]]))


def run_load(label: str, url: str, *, seconds: float = 5.0, concurrency: int = 16, processes: int = 2,
             method: str = "GET", headers_list: Sequence[dict[str, str]] = (), body: bytes | None = None,
             expect: int = 200, meter: CpuMeter | None = None) -> LoadResult:
    """Drive ``url`` with ``concurrency`` keep-alive connections spread over ``processes`` for ``seconds``
    (with ``meter``, also the server's CPU seconds over the run)."""
    cpu_before = meter.read() if meter else None
    wait_before = meter.waited() if meter else None
    client_before = _children_cpu()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per_process = max(1, concurrency // processes)
    started = time.monotonic()
    deadline = started + seconds
    children = [multiprocessing.Process(target=_worker, args=(url, method, list(headers_list), body, per_process,
                                                              deadline, expect, queue)) for _ in range(processes)]
    for child in children:
        child.start()
    parts = [queue.get() for _ in children]
    for child in children:
        child.join()
    elapsed = time.monotonic() - started
    cpu = meter.read() - cpu_before if meter and cpu_before is not None else None
    wait = meter.waited() - wait_before if meter and wait_before is not None else None
    return LoadResult(label, sum(p[0] for p in parts), sum(p[1] for p in parts), elapsed,
                      [x for p in parts for x in p[2]], cpu, _children_cpu() - client_before, wait)


def _children_cpu() -> float:
    """CPU seconds of this process's children reaped so far: after ``run_load`` joined its client processes,
    the load generator's own share (a server started by the bench is a child too, but is reaped only when it
    stops, so it is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def interleaved(runs: Sequence[tuple[str, dict]], rounds: int = 3,
                meter: CpuMeter | None = None) -> dict[str, list[LoadResult]]:
    """Run each (label, kwargs) in turn, ``rounds`` times, so drifts in machine load hit every side."""
    results: dict[str, list[LoadResult]] = {label: [] for label, _ in runs}
    for _ in range(rounds):
        for label, kwargs in runs:
            results[label].append(run_load(label, meter=meter, **kwargs))
    return results


def print_lines(results: dict[str, list[LoadResult]]) -> None:
    """Print every run's line, label by label."""
    for runs in results.values():
        for result in runs:
            print(result.line())


def median_rps(results: list[LoadResult]) -> float:
    """The median of several runs' throughput."""
    return statistics.median(r.rps for r in results)


def _ms_per_request(results: list[LoadResult], seconds: str) -> float:
    total = sum(getattr(r, seconds) or 0.0 for r in results)
    done = sum(r.requests - r.errors for r in results)
    return total * 1000 / done if done else float("nan")


def database_cpu_ms_per_request(results: list[LoadResult]) -> float:
    """The database backends' CPU milliseconds per successful request over several runs (when measured)."""
    return _ms_per_request(results, "database_cpu_seconds")


def cpu_ms_per_request(results: list[LoadResult]) -> float:
    """The server's CPU milliseconds per successful request over several runs (needs a meter)."""
    return _ms_per_request(results, "server_cpu_seconds")


def wait_ms_per_request(results: list[LoadResult]) -> float:
    """Milliseconds per successful request the server and its database spent waiting for a core."""
    return _ms_per_request(results, "server_wait_seconds")


def client_cpu_ms_per_request(results: list[LoadResult]) -> float:
    """The load generator's own CPU milliseconds per successful request over several runs."""
    return _ms_per_request(results, "client_cpu_seconds")


def print_ratio(name: str, base: str, results: dict[str, list[LoadResult]], target: float) -> float:
    """Print the throughput ratio of ``name`` to ``base`` and, when measured, the CPU-per-request ratio."""
    served, reference = median_rps(results[name]), median_rps(results[base])
    errors = sum(r.errors for runs in results.values() for r in runs)
    print(f"\nmedian {base} {reference:.1f} req/s, median {name} {served:.1f} req/s, errors {errors}")
    ratio = served / reference
    print(f"ratio {name}/{base} requests/s = {ratio:.2f}  (target ≥ {target:g})")
    if all(r.server_cpu_seconds is not None for runs in results.values() for r in runs):
        cost, base_cost = cpu_ms_per_request(results[name]), cpu_ms_per_request(results[base])
        print(f"server + database CPU per request: {base} {base_cost:.3f} ms, {name} {cost:.3f} ms; "
              f"capacity ratio {base_cost / cost:.2f} (the same ratio from CPU time: steadier on a busy machine)")
    return ratio
