"""What the benchmarks share: one checked API call, and resident memory read from /proc."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

API = "/api/2.0/mlflow/"
# Timestamps as a client sends them, in ms since the epoch: FastTrackML refuses a timestamp of 0
# ("Missing value for required parameter 'timestamp'"), which MLflow accepts.
T0 = 1_700_000_000_000


class WrongAnswer(AssertionError):
    """A server answered, but not what MLflow 2.7.1 answers."""


def fetch(session, url: str, method: str, path: str, **kw) -> bytes:
    """The body of a 200 answer to `method` API `path` (a session of `CLIENTS`); any other
    status is a WrongAnswer."""
    resp = session.request(method, url + API + path, timeout=300, **kw)
    if resp.status_code != 200:
        raise WrongAnswer(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
    return resp.content


def call(session, url: str, method: str, path: str, **kw) -> dict:
    """`fetch`, decoded."""
    return json.loads(fetch(session, url, method, path, **kw))


class LeanResponse:
    def __init__(self, status_code: int, content: bytes):
        self.status_code, self.content = status_code, content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Connection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        # As urllib3 does: a request's head and body are two writes, which Nagle's algorithm
        # would hold back for the server's delayed ACK (tens of ms a call).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class LeanSession:
    """The part of `requests.Session` the workloads use (`request` with `params` or `json`),
    over one keep-alive `http.client` connection per server. It costs the client about 0.3 ms
    of CPU a call where requests costs 1.2-1.5 ms, more than the reference server's whole share
    of a small call: on a machine whose cores the client shares with the server, the figures
    are then the servers' rather than the client's.

    A connection the server has closed since its last answer (mlflow server's gunicorn closes
    each one; idle ones time out) is seen readable before a request is sent, and replaced:
    a request is sent once, never retried."""

    def __init__(self):
        self._connections: dict[str, http.client.HTTPConnection] = {}

    def _connection(self, netloc: str) -> http.client.HTTPConnection:
        conn = self._connections.get(netloc)
        if conn is not None and conn.sock is not None:
            readable, _, _ = select.select([conn.sock], [], [], 0)
            if readable:  # closed by the server (an answer would not come unasked)
                conn.close()
        if conn is None:
            host, _, port = netloc.rpartition(":")
            conn = self._connections[netloc] = _Connection(host, int(port))
        return conn

    def request(self, method: str, url: str, params=None, json=None, timeout=None):
        parts = urlsplit(url)
        target = parts.path + (f"?{urlencode(params, doseq=True)}" if params else "")
        conn = self._connection(parts.netloc)
        conn.timeout = timeout
        headers, body = {}, None
        if json is not None:
            body = _json_bytes(json)
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, target, body, headers)
            response = conn.getresponse()
            content = response.read()
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        return LeanResponse(response.status, content)

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _json_bytes(value) -> bytes:
    return json.dumps(value).encode()


CLIENTS = {"http": LeanSession, "requests": requests.Session}


def check(cond: bool, what: str) -> None:
    if not cond:
        raise WrongAnswer(what)


def load_runs(url: str, n: int, clients: int = 8) -> tuple[str, float]:
    """An experiment of `n` runs (run i: start_time i; metrics score=i, loss, acc; params
    parity, fold, model; tag group = "abc"[i % 3]). Returns (experiment id, seconds)."""
    with requests.Session() as s:
        name = f"scale-{n}-{time.time_ns()}"
        exp = call(s, url, "POST", "experiments/create", json={"name": name})["experiment_id"]
    local = threading.local()

    def one(i: int) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        s = local.session
        body = {"experiment_id": exp, "start_time": i}
        run = call(s, url, "POST", "runs/create", json=body)["run"]["info"]["run_id"]
        batch = {
            "run_id": run,
            "metrics": [
                {"key": "score", "value": i, "timestamp": T0, "step": 0},
                {"key": "loss", "value": 1 / (i + 1), "timestamp": T0, "step": 0},
                {"key": "acc", "value": (i % 100) / 100, "timestamp": T0, "step": 0},
            ],
            "params": [
                {"key": "parity", "value": "even" if i % 2 == 0 else "odd"},
                {"key": "fold", "value": str(i % 5)},
                {"key": "model", "value": f"m{i % 3}"},
            ],
            "tags": [{"key": "group", "value": "abc"[i % 3]}],
        }
        call(s, url, "POST", "runs/log-batch", json=batch)

    t0 = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    return exp, time.monotonic() - t0


def history_run(s: requests.Session, url: str, points: int) -> str:
    """A run of a new experiment whose metric "curve" holds `points` points (step j: j / 10),
    logged 1000 at a time."""
    exp = call(s, url, "POST", "experiments/create", json={"name": f"hist-{time.time_ns()}"})
    body = {"experiment_id": exp["experiment_id"], "start_time": 1}
    run = call(s, url, "POST", "runs/create", json=body)["run"]["info"]["run_id"]
    for start in range(0, points, 1000):
        metrics = [
            {"key": "curve", "value": j / 10, "timestamp": T0 + j, "step": j}
            for j in range(start, min(start + 1000, points))
        ]
        call(s, url, "POST", "runs/log-batch", json={"run_id": run, "metrics": metrics})
    return run


def metric(run: dict, key: str) -> float:
    """The latest value of metric `key` in a run as the API returns it."""
    return next(m["value"] for m in run["data"].get("metrics", []) if m["key"] == key)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (inclusive method), 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def format_table(cols: list[str], rows: list[list]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows, strict=True)]
    fmt = lambda r: " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(cols), "-+-".join("-" * w for w in widths), *map(fmt, rows)])


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command's name ("state ppid ..."); OSError when
    there is no such process here."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """A server process and each of its descendants (workers), from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int(proc_stat(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sorted(tree)


def process_rss(pid: int) -> list[int]:
    """Bytes resident of a server process and each of its descendants, from /proc."""
    sizes = []
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        rss = [
            int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")
        ]
        sizes += rss
    return sizes


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> dict[int, int]:
    """Clock ticks of CPU time (user + system) used so far by each of a process and its
    descendants."""
    ticks = {}
    for member in process_tree(pid):
        try:
            fields = proc_stat(member)
        except OSError:
            continue
        ticks[member] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a server process and its descendants: the
    server's own work, without its clients' nor a database server's."""
    return sum(_cpu_ticks(pid).values()) / _TICKS


def wait_quiet(pid: int, window: float = 0.25, busy: float = 0.05, timeout: float = 60.0) -> float:
    """Wait until a process and its descendants use less than `busy` of a core over `window`
    seconds, or `timeout` seconds have passed; returns the seconds waited. A database server
    goes on after a workload (PostgreSQL's autovacuum and checkpoints after many writes): the
    next peer's slice should not pay for them."""
    start = time.monotonic()
    while True:
        before = _cpu_ticks(pid)
        time.sleep(window)
        after = _cpu_ticks(pid)
        used = sum(t - before.get(p, 0) for p, t in after.items()) / _TICKS
        waited = time.monotonic() - start
        if used < busy * window or waited >= timeout:
            return waited
