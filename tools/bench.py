"""Benchmark the reference server against its peers, side by side in one run.

    python -m tools.bench [--quick] [--peers reference,mlflow,fasttrackml] [--database sqlite]
                          [--runs N] [--workers N] [--duration SECONDS] [--rounds N]
                          [--only NAME] [--scale N] [--soak SECONDS] [--check-goals] [--json PATH]

Peers: the reference server, `mlflow server` 2.7.1, FastTrackML (the Go peer) and, asked for
with `--peers ...,mlflow3`, the current `mlflow server` (3.x, in its own virtualenv). Each runs as a
real process on loopback with a fresh SQLite file (or, with `--database postgresql`, a fresh
PostgreSQL database on the server `--postgres-url` names) and the same number of workers where
it has workers. Every workload runs against each peer in turn (warm-up, then a fixed time), over
keep-alive connections of a lean HTTP client (`--client requests` for requests' sessions), and
checks the data the server returned; the table shows ops/s, p50/p99 latency and the ratio ours /
each peer. `--scale N` adds search and history at scale (tools/bench_scale.py), `--soak` a
steady load that watches resident memory. With `--check-goals` the exit status is 1 when a ratio
or a scale figure misses its goal.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conformance import clients
from tools import bench_scale
from tools.benchlib import (
    CLIENTS,
    T0,
    LeanSession,
    call,
    check,
    format_table,
    history_run,
    load_runs,
    metric,
    percentile,
    process_cpu_seconds,
    process_rss,
    wait_quiet,
)
from tools.peers import Peer, start_fasttrackml, start_oracle, start_reference
from tools.pgdb import make_database, server_pid, vacuum

# The current MLflow, whose server runs from a virtualenv of its own (conformance.clients, but
# not a client's of the version matrix), with the PostgreSQL driver its SQLAlchemy (2.1: psycopg
# 3 for postgresql://) needs.
CURRENT_MLFLOW = "3.17.2"
MLFLOW3_SERVER_EXTRA = ("psycopg[binary]>=3.1,<4",)
PEERS = {
    "reference": "ours (mlflow-compat)",
    "mlflow": "mlflow server 2.7.1",
    "fasttrackml": "FastTrackML (Go)",
    "mlflow3": f"mlflow server {CURRENT_MLFLOW} (uvicorn)",
}
# Throughput goals: ours / peer, per workload.
GOALS = {"mlflow": 5.0, "fasttrackml": 1.0}


@dataclass
class Workload:
    """setup(session, url) -> state; op(session, url, state, i) does one timed operation;
    verify(session, url, state, ops) checks what the server stored (ops = ops done)."""

    name: str
    setup: Callable
    op: Callable
    verify: Callable
    threads: int = 1


@dataclass
class Result:
    workload: str
    peer: str
    ops: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    # CPU time the server's processes spent in the measured time (not the client's, nor a
    # PostgreSQL server's), when /proc could tell.
    cpu_seconds: float | None = None
    # CPU time of the PostgreSQL server's processes in the same time (its backends, WAL writer
    # and the rest), when it runs on this machine.
    database_cpu_seconds: float | None = None
    client_cpu_seconds: float = 0.0  # the benchmark's own, all its client threads together
    correct: bool = False
    error: str | None = None

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_op(self) -> float | None:
        return (
            None if self.cpu_seconds is None or not self.ops else self.cpu_seconds * 1000 / self.ops
        )

    @property
    def client_cpu_ms_per_op(self) -> float | None:
        return self.client_cpu_seconds * 1000 / self.ops if self.ops else None

    @property
    def database_cpu_ms_per_op(self) -> float | None:
        if self.database_cpu_seconds is None or not self.ops:
            return None
        return self.database_cpu_seconds * 1000 / self.ops

    def percentile(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def to_dict(self) -> dict:
        return {
            "workload": self.workload,
            "peer": self.peer,
            "ops": self.ops,
            "seconds": round(self.seconds, 3),
            "ops_per_s": round(self.ops_per_s, 2),
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "server_cpu_ms_per_op": None
            if self.cpu_ms_per_op is None
            else round(self.cpu_ms_per_op, 4),
            "client_cpu_ms_per_op": None
            if self.client_cpu_ms_per_op is None
            else round(self.client_cpu_ms_per_op, 4),
            "database_cpu_ms_per_op": None
            if self.database_cpu_ms_per_op is None
            else round(self.database_cpu_ms_per_op, 4),
            "correct": self.correct,
            "error": self.error,
        }


# ---------------------------------------------------------------------------------------------
# Workloads

_counter = iter(range(10**9))


def _experiment(s, url) -> str:
    name = f"bench-{time.time_ns()}-{next(_counter)}"
    return call(s, url, "POST", "experiments/create", json={"name": name})["experiment_id"]


def _run(s, url, exp_id: str, **fields) -> str:
    body = {"experiment_id": exp_id, "start_time": 1, **fields}
    return call(s, url, "POST", "runs/create", json=body)["run"]["info"]["run_id"]


def _history(s, url, run_id: str, key: str) -> list:
    query = {"run_id": run_id, "metric_key": key}
    return call(s, url, "GET", "metrics/get-history", params=query).get("metrics", [])


def create_runs_workload() -> Workload:
    def setup(s, url):
        return {"exp": _experiment(s, url), "ids": []}

    def op(s, url, st, i):
        run = call(
            s, url, "POST", "runs/create", json={"experiment_id": st["exp"], "start_time": i}
        )
        check(run["run"]["info"]["experiment_id"] == st["exp"], "run in the wrong experiment")
        st["ids"].append(run["run"]["info"]["run_id"])

    def verify(s, url, st, ops):
        body = {"experiment_ids": [st["exp"]], "max_results": 50000}
        found = call(s, url, "POST", "runs/search", json=body).get("runs", [])
        check(len(found) == ops, f"search finds {len(found)} runs, {ops} were created")
        check(len(set(st["ids"])) == ops, "run ids are not unique")

    return Workload("runs/create", setup, op, verify)


def log_metric_workload(threads: int = 1) -> Workload:
    def setup(s, url):
        return {"run": _run(s, url, _experiment(s, url))}

    def op(s, url, st, i):
        body = {
            "run_id": st["run"],
            "key": "loss",
            "value": i * 0.5,
            "timestamp": T0 + i,
            "step": i,
        }
        check(call(s, url, "POST", "runs/log-metric", json=body) == {}, "log-metric answer not {}")

    def verify(s, url, st, ops):
        points = _history(s, url, st["run"], "loss")
        check(len(points) == ops, f"history holds {len(points)} points, {ops} were logged")

    name = "runs/log-metric" if threads == 1 else f"runs/log-metric x{threads} clients"
    return Workload(name, setup, op, verify, threads)


def log_batch_workload() -> Workload:
    def setup(s, url):
        return {"run": _run(s, url, _experiment(s, url))}

    def op(s, url, st, i):
        metrics = [
            {"key": f"m{k}", "value": k + i, "timestamp": T0 + i, "step": i} for k in range(1000)
        ]
        answer = call(
            s, url, "POST", "runs/log-batch", json={"run_id": st["run"], "metrics": metrics}
        )
        check(answer == {}, "log-batch answer not {}")

    def verify(s, url, st, ops):
        run = call(s, url, "GET", "runs/get", params={"run_id": st["run"]})["run"]
        latest = {m["key"]: m for m in run["data"].get("metrics", [])}
        check(len(latest) == 1000, f"run has {len(latest)} metric keys, expected 1000")
        check(latest["m7"]["step"] == ops - 1, "latest value is not the last logged step")
        check(len(_history(s, url, st["run"], "m999")) == ops, "m999 history length")

    return Workload("runs/log-batch 1000 metrics", setup, op, verify)


def get_run_workload() -> Workload:
    def setup(s, url):
        run = _run(s, url, _experiment(s, url), run_name="bench-get")
        batch = {
            "run_id": run,
            "metrics": [
                {"key": f"m{k}", "value": k, "timestamp": T0, "step": 0} for k in range(20)
            ],
            "params": [{"key": f"p{k}", "value": str(k)} for k in range(20)],
            "tags": [{"key": f"t{k}", "value": str(k)} for k in range(20)],
        }
        call(s, url, "POST", "runs/log-batch", json=batch)
        return {"run": run}

    def op(s, url, st, i):
        run = call(s, url, "GET", "runs/get", params={"run_id": st["run"]})["run"]
        data = run["data"]
        check(len(data["metrics"]) == 20 and len(data["params"]) == 20, "run data incomplete")
        check({"key": "p3", "value": "3"} in data["params"], "param p3 missing")

    def verify(s, url, st, ops):
        run = call(s, url, "GET", "runs/get", params={"run_id": st["run"]})["run"]
        check(run["info"]["run_name"] == "bench-get", "run name")
        check(len([t for t in run["data"]["tags"] if t["key"].startswith("t")]) == 20, "tags")

    return Workload("runs/get", setup, op, verify)


def history_workload(points: int = 2000) -> Workload:
    def setup(s, url):
        return {"run": history_run(s, url, points)}

    def op(s, url, st, i):
        got = _history(s, url, st["run"], "curve")
        check(len(got) == points, f"history has {len(got)} points, expected {points}")

    def verify(s, url, st, ops):
        got = sorted(_history(s, url, st["run"], "curve"), key=lambda m: m["step"])
        check([m["step"] for m in got] == list(range(points)), "history steps")
        check(got[-1]["value"] == (points - 1) / 10, "history values")

    return Workload(f"metrics/get-history {points} points", setup, op, verify)


def search_workload(n_runs: int) -> Workload:
    page = 100

    def setup(s, url):
        return {"exp": load_runs(url, n_runs)[0]}

    body_for = lambda st: {  # noqa: E731
        "experiment_ids": [st["exp"]],
        "filter": f"metrics.score >= {n_runs // 4} AND params.parity = 'even'",
        "order_by": ["metrics.score DESC"],
        "max_results": page,
    }

    def op(s, url, st, i):
        runs = call(s, url, "POST", "runs/search", json=body_for(st)).get("runs", [])
        expected = [i for i in range(n_runs - 1, n_runs // 4 - 1, -1) if i % 2 == 0][:page]
        scores = [int(metric(r, "score")) for r in runs]
        check(
            scores == expected,
            f"search returned scores {scores[:5]}..., expected {expected[:5]}...",
        )

    def verify(s, url, st, ops):
        op(s, url, st, 0)

    return Workload(f"runs/search filter+order over {n_runs} runs", setup, op, verify)


def search_page_workload(n_runs: int) -> Workload:
    """Every run of an experiment in one page, as the UI and `search_runs(max_results=...)` ask."""

    def setup(s, url):
        return {"exp": load_runs(url, n_runs)[0]}

    def op(s, url, st, i):
        body = {"experiment_ids": [st["exp"]], "max_results": 1000}
        runs = call(s, url, "POST", "runs/search", json=body).get("runs", [])
        check(len(runs) == n_runs, f"one page holds {len(runs)} runs, expected {n_runs}")
        starts = [r["info"]["start_time"] for r in runs]
        check(starts == sorted(starts, reverse=True), "runs not newest first")

    def verify(s, url, st, ops):
        op(s, url, st, 0)

    return Workload(f"runs/search all {n_runs} runs in one page", setup, op, verify)


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(
    peer: Peer,
    workload: Workload,
    warmup: float,
    duration: float,
    client=LeanSession,
    database_pid: int | None = None,
) -> Result:
    """`workload` on `peer`: warm-up, then `duration` seconds, each of its threads calling over
    a session of `client` (LeanSession or requests.Session). `database_pid`: a PostgreSQL
    server on this machine, whose CPU time is taken over the same seconds, once it has gone
    quiet after what came before."""
    result = Result(workload.name, peer.name)
    setup_session = client()
    try:
        state = workload.setup(setup_session, peer.url)
        if database_pid is not None:
            wait_quiet(database_pid)
        lock = threading.Lock()
        counter = iter(range(10**9))
        stop_warmup = time.monotonic() + warmup
        warmup_ops = [0]

        def worker(measuring: list[float], deadline: float):
            with client() as s:
                while time.monotonic() < deadline:
                    with lock:
                        i = next(counter)
                    t0 = time.perf_counter()
                    workload.op(s, peer.url, state, i)
                    measuring.append((time.perf_counter() - t0) * 1000)

        def run_phase(deadline: float) -> list[float]:
            lat: list[float] = []
            errors: list[BaseException] = []

            def guarded():
                try:
                    worker(lat, deadline)
                except BaseException as e:  # noqa: BLE001 - reported in the result
                    errors.append(e)

            threads = [threading.Thread(target=guarded) for _ in range(workload.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            return lat

        warm = run_phase(stop_warmup)
        warmup_ops[0] = len(warm)
        cpu0, client0 = process_cpu_seconds(peer.proc.pid), time.process_time()
        db0 = None if database_pid is None else process_cpu_seconds(database_pid)
        t0 = time.monotonic()
        lat = run_phase(t0 + duration)
        result.seconds = time.monotonic() - t0
        result.client_cpu_seconds = time.process_time() - client0
        result.cpu_seconds = process_cpu_seconds(peer.proc.pid) - cpu0
        if db0 is not None:
            result.database_cpu_seconds = process_cpu_seconds(database_pid) - db0
        result.ops = len(lat)
        result.latencies_ms = lat
        workload.verify(setup_session, peer.url, state, warmup_ops[0] + len(lat))
        result.correct = True
    except Exception as e:  # noqa: BLE001 - a wrong answer is a result, not a crash
        result.error = f"{type(e).__name__}: {e}"[:500]
    finally:
        setup_session.close()
    return result


def combine(parts: list[Result]) -> Result:
    """One result from the rounds of a workload on one peer: all ops over all measured time."""
    whole = Result(parts[0].workload, parts[0].peer)
    for part in parts:
        whole.ops += part.ops
        whole.seconds += part.seconds
        whole.latencies_ms.extend(part.latencies_ms)
    cpu = [part.cpu_seconds for part in parts]
    whole.cpu_seconds = None if None in cpu else sum(cpu)
    database = [part.database_cpu_seconds for part in parts]
    whole.database_cpu_seconds = None if None in database else sum(database)
    whole.client_cpu_seconds = sum(part.client_cpu_seconds for part in parts)
    whole.correct = all(part.correct for part in parts)
    whole.error = next((part.error for part in parts if part.error), None)
    return whole


def start(peer: str, workdir: Path, workers: int, database: str | None) -> Peer:
    """Start `peer` in `workdir`; `database` is a PostgreSQL URL, or None for a SQLite file."""
    if peer == "mlflow":
        return start_oracle(workdir, workers=workers, backend_store_uri=database, timeout=120)
    if peer == "reference":
        return start_reference(workdir, workers=workers, backend_store_uri=database, timeout=120)
    if peer == "mlflow3":
        python = clients.ensure(
            CURRENT_MLFLOW,
            root=clients.cache_home() / "peers" / "mlflow-server",
            installer=functools.partial(clients.install, extra=MLFLOW3_SERVER_EXTRA),
        )
        return start_oracle(
            workdir, workers=workers, python=python, backend_store_uri=database, timeout=180
        )
    if peer == "fasttrackml":
        uri = database and "postgres://" + database.split("://", 1)[1]
        return start_fasttrackml(workdir, database_uri=uri, timeout=120)
    raise SystemExit(f"unknown peer {peer!r}; choose from {sorted(PEERS)}")


@contextlib.contextmanager
def databases(kind: str, admin_url: str | None, peers: list[str]):
    """A fresh database per peer: None each for SQLite (the peer makes its own file), else a new
    PostgreSQL database on `admin_url`'s server, dropped afterwards."""
    if kind == "sqlite":
        yield dict.fromkeys(peers)
        return
    if not admin_url:
        raise SystemExit(
            "--database postgresql needs --postgres-url or MLFLOW_COMPAT_TEST_POSTGRES_URL"
        )
    with contextlib.ExitStack() as made:
        urls = {}
        for p in peers:
            urls[p], drop = make_database(admin_url, prefix=f"bench_{p}")
            made.callback(drop)
        yield urls


def ratio(results: dict, workload: str, peer: str) -> float | None:
    """ours / peer in ops per second, or None when either is missing or wrong."""
    ours, theirs = results.get((workload, "reference")), results.get((workload, peer))
    if not (ours and theirs and ours.correct and theirs.correct and theirs.ops_per_s):
        return None
    return ours.ops_per_s / theirs.ops_per_s


def table(results: list[Result], peers: list[str]) -> str:
    by = {(r.workload, r.peer): r for r in results}
    names = list(dict.fromkeys(r.workload for r in results))
    others = [p for p in peers if p != "reference"] if "reference" in peers else []
    cols = ["workload"]
    for p in peers:
        cols += [f"{p} ops/s", f"{p} p50 ms", f"{p} p99 ms"]
    cols += [f"ours/{p}" for p in others]
    rows = []
    for n in names:
        row = [n]
        for p in peers:
            r = by.get((n, p))
            if r is None or not r.correct:
                row += ["WRONG" if r else "-", "", ""]
            else:
                row += [f"{r.ops_per_s:.1f}", f"{r.percentile(50):.2f}", f"{r.percentile(99):.2f}"]
        for p in others:
            x = ratio(by, n, p)
            row.append("-" if x is None else f"{x:.2f}x")
        rows.append(row)
    return format_table(cols, rows)


def cpu_table(results: list[Result], peers: list[str], of: str = "server") -> str:
    """CPU per operation, each peer's and how many times ours it is. `of` "server": what the
    servers cost, apart from the client's share of the machine (its CPU per operation, in the
    first peer's run, bounds what any server can reach here: one process of Python threads).
    `of` "database": what the PostgreSQL server spent on each peer's operations."""
    by = {(r.workload, r.peer): r for r in results}
    others = [p for p in peers if p != "reference"] if "reference" in peers else []
    per_op = "cpu_ms_per_op" if of == "server" else "database_cpu_ms_per_op"
    cols = [
        "workload",
        *(f"{p} CPU ms/op" for p in peers),
        *(f"{p}/ours" for p in others),
        *(["client CPU ms/op"] if of == "server" else []),
    ]
    rows = []
    for n in dict.fromkeys(r.workload for r in results):
        cost = {}
        for p in peers:
            r = by.get((n, p))
            cost[p] = getattr(r, per_op) if r is not None and r.correct else None
        row = [n, *("-" if cost[p] is None else f"{cost[p]:.3f}" for p in peers)]
        ours = cost.get("reference")
        for p in others:
            row.append("-" if not (ours and cost[p]) else f"{cost[p] / ours:.2f}x")
        if of == "server":
            client = by.get((n, peers[0]))
            spent = client.client_cpu_ms_per_op if client is not None else None
            row.append("-" if spent is None else f"{spent:.3f}")
        rows.append(row)
    return format_table(cols, rows)


def missed_goals(results: list[Result], peers: list[str]) -> list[str]:
    """Each workload whose ratio ours / peer is under GOALS[peer] (or could not be measured)."""
    by = {(r.workload, r.peer): r for r in results}
    missed = []
    for n in dict.fromkeys(r.workload for r in results):
        for p in peers:
            if p not in GOALS or "reference" not in peers:
                continue
            x = ratio(by, n, p)
            if x is None or x < GOALS[p]:
                shown = "not measured" if x is None else f"{x:.2f}x"
                missed.append(f"{n}: ours/{p} {shown}, goal {GOALS[p]:g}x")
    return missed


def memory_lines(memory: dict[str, list[int]]) -> list[str]:
    lines = []
    for p, sizes in memory.items():
        if not sizes:
            continue
        lines.append(
            f"resident memory after the run: {p:12} {sum(sizes) / 2**20:7.1f} MiB in "
            f"{len(sizes)} processes, largest {max(sizes) / 2**20:6.1f} MiB"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--runs", type=int, help="runs in the filter+order search (default 300)")
    parser.add_argument("--page-runs", type=int, help="runs in the one-page search (default 500)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server")
    parser.add_argument("--peers", default="reference,mlflow,fasttrackml", help="comma-separated")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MLFLOW_COMPAT_TEST_POSTGRES_URL"),
        help="a PostgreSQL server (a role that may create databases) for --database postgresql",
    )
    parser.add_argument("--duration", type=float, help="seconds measured per workload")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each workload in this many slices, alternating the peers, so that a "
        "burst of load elsewhere on the machine falls on all alike",
    )
    parser.add_argument("--only", help="run only the workloads whose name contains this")
    parser.add_argument("--scale", type=int, help="also search an experiment of this many runs")
    parser.add_argument("--scale-peers", help="peers for --scale (default: --peers)")
    parser.add_argument("--soak", type=float, help="seconds of steady log-metric, RSS sampled")
    parser.add_argument("--check-goals", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="http",
        help="the workloads' HTTP client: http, a lean keep-alive client (http.client), whose "
        "CPU cost per call is small beside the servers'; requests, what many tools use",
    )
    args = parser.parse_args(argv)

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for p in peers:
        if p not in PEERS:
            parser.error(f"unknown peer {p!r}; choose from {sorted(PEERS)}")
    n_runs = args.runs or (60 if args.quick else 300)
    page_runs = args.page_runs or (50 if args.quick else 500)
    duration = args.duration or (0.3 if args.quick else 5.0)
    warmup = 0.1 if args.quick else 1.0
    workloads = [
        create_runs_workload(),
        log_metric_workload(),
        log_batch_workload(),
        get_run_workload(),
        history_workload(200 if args.quick else 2000),
        search_workload(n_runs),
        search_page_workload(page_runs),
        log_metric_workload(threads=8),
    ]
    if args.only:
        workloads = [w for w in workloads if args.only in w.name]
    print(
        f"peers: {', '.join(f'{p} = {PEERS[p]}' for p in peers)}; "
        f"{args.workers} worker processes each where the server has workers; "
        f"fresh {'SQLite files' if args.database == 'sqlite' else 'PostgreSQL databases'}; "
        f"{duration:g}s measured per workload after {warmup:g}s warm-up; "
        f"client: {args.client}"
        f"{f' in {args.rounds} alternating rounds' if args.rounds > 1 else ''}",
        flush=True,
    )
    results: list[Result] = []
    scale_report: dict = {}
    soak_report: dict = {}
    memory: dict[str, list[int]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="mlflow-compat-bench-") as tmp,
        databases(args.database, args.postgres_url, peers) as dbs,
    ):
        running: dict[str, Peer] = {}
        database_pid = None if args.database == "sqlite" else server_pid(args.postgres_url)
        try:
            for p in peers:
                running[p] = start(p, Path(tmp) / p, args.workers, dbs[p])
            for w in workloads:
                rounds = {p: [] for p in peers}
                for k in range(args.rounds):
                    # Each round starts with the next peer: none is always the first after the
                    # workload before, whose writes the database may still be busy with.
                    for p in peers[k % len(peers) :] + peers[: k % len(peers)]:
                        part = measure(
                            running[p],
                            w,
                            warmup,
                            duration / args.rounds,
                            CLIENTS[args.client],
                            database_pid,
                        )
                        rounds[p].append(part)
                for p in peers:
                    r = combine(rounds[p])
                    r.peer = p
                    results.append(r)
                    state = "ok" if r.correct else f"WRONG: {r.error}"
                    print(f"  {w.name:45} {p:12} {r.ops_per_s:9.1f} ops/s  {state}", flush=True)
                if args.database == "postgresql":
                    # Outside the measured time: else autovacuum would do it for this
                    # workload's writes in a later one's, on whichever peer's slice it fell.
                    for url in dbs.values():
                        vacuum(url)
            memory = {p: process_rss(running[p].proc.pid) for p in peers}
            if args.scale:
                scale_peers = (args.scale_peers or args.peers).split(",")
                scale_report = bench_scale.run(
                    {p: running[p] for p in scale_peers if p in running},
                    args.scale,
                    quick=args.quick,
                )
            if args.soak:
                soak_report = bench_scale.soak(running, args.soak)
        finally:
            for peer in running.values():
                peer.stop()
    print()
    print(table(results, peers))
    print()
    print(
        "server CPU per operation (user + system time of the server's processes over the "
        "measured time; the client's and a PostgreSQL server's own are not in it):"
    )
    print(cpu_table(results, peers))
    if any(r.database_cpu_seconds is not None for r in results):
        print()
        print(
            "PostgreSQL server CPU per operation (user + system time of its processes, each "
            "peer's connections and its WAL writer among them, over the same measured time):"
        )
        print(cpu_table(results, peers, of="database"))
    print()
    print("\n".join(memory_lines(memory)))
    missed = missed_goals(results, peers)
    if scale_report:
        print()
        print(bench_scale.table(scale_report))
        missed += bench_scale.missed_goals(scale_report)
    if soak_report:
        print()
        print(bench_scale.soak_table(soak_report))
        missed += bench_scale.soak_missed(soak_report)
    if missed:
        print("\ngoals missed:\n  " + "\n  ".join(missed))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "database": args.database,
                    "quick": args.quick,
                    "duration_s": duration,
                    "search_runs": n_runs,
                    "page_runs": page_runs,
                    "rounds": args.rounds,
                    "client": args.client,
                    "rss_bytes": {p: sum(sizes) for p, sizes in memory.items()},
                    "rss_process_bytes": memory,
                    "peers": {p: PEERS[p] for p in peers},
                    "results": [r.to_dict() for r in results],
                    "scale": scale_report,
                    "soak": soak_report,
                    "goals_missed": missed,
                },
                indent=2,
            )
        )
    if not all(r.correct for r in results) or scale_report.get("wrong"):
        return 1
    return 1 if args.check_goals and missed else 0


if __name__ == "__main__":
    sys.exit(main())
