"""Benchmark the reference server against `mlflow server` 2.7.1, side by side.

    python -m tools.bench [--quick] [--runs N] [--workers N] [--peers reference,mlflow]
                          [--duration SECONDS] [--rounds N] [--only NAME] [--json PATH]

Each peer runs as a real process on loopback with a fresh SQLite file and the same number of
workers. Every workload runs against each peer in turn (warm-up, then a fixed time), over
keep-alive `requests.Session`s, and checks the data the server returned; the table shows ops/s,
p50/p95 latency and the ratio ours / mlflow.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tools.peers import Peer, start_oracle, start_reference

API = "/api/2.0/mlflow/"
PEERS = {"reference": "ours (mlflow-compat)", "mlflow": "mlflow server 2.7.1"}


class WrongAnswer(AssertionError):
    """A server answered, but not what MLflow 2.7.1 answers."""


def call(session: requests.Session, url: str, method: str, path: str, **kw) -> dict:
    resp = session.request(method, url + API + path, timeout=120, **kw)
    if resp.status_code != 200:
        raise WrongAnswer(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
    return resp.json()


def check(cond: bool, what: str) -> None:
    if not cond:
        raise WrongAnswer(what)


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
    correct: bool = False
    error: str | None = None

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return 0.0
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]

    def to_dict(self) -> dict:
        return {
            "workload": self.workload,
            "peer": self.peer,
            "ops": self.ops,
            "seconds": round(self.seconds, 3),
            "ops_per_s": round(self.ops_per_s, 2),
            "p50_ms": round(self.percentile(50), 3),
            "p95_ms": round(self.percentile(95), 3),
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
        body = {"run_id": st["run"], "key": "loss", "value": i * 0.5, "timestamp": i, "step": i}
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
        metrics = [{"key": f"m{k}", "value": k + i, "timestamp": i, "step": i} for k in range(1000)]
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
            "metrics": [{"key": f"m{k}", "value": k, "timestamp": 1, "step": 0} for k in range(20)],
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
        run = _run(s, url, _experiment(s, url))
        for start in range(0, points, 1000):
            metrics = [
                {"key": "curve", "value": j / 10, "timestamp": j, "step": j}
                for j in range(start, min(start + 1000, points))
            ]
            call(s, url, "POST", "runs/log-batch", json={"run_id": run, "metrics": metrics})
        return {"run": run}

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
        exp = _experiment(s, url)
        for i in range(n_runs):
            run = _run(s, url, exp, start_time=i)
            batch = {
                "run_id": run,
                "metrics": [{"key": "score", "value": i, "timestamp": 1, "step": 0}],
                "params": [{"key": "parity", "value": "even" if i % 2 == 0 else "odd"}],
            }
            call(s, url, "POST", "runs/log-batch", json=batch)
        return {"exp": exp}

    body_for = lambda st: {  # noqa: E731
        "experiment_ids": [st["exp"]],
        "filter": f"metrics.score >= {n_runs // 4} AND params.parity = 'even'",
        "order_by": ["metrics.score DESC"],
        "max_results": page,
    }

    def op(s, url, st, i):
        runs = call(s, url, "POST", "runs/search", json=body_for(st)).get("runs", [])
        expected = [i for i in range(n_runs - 1, n_runs // 4 - 1, -1) if i % 2 == 0][:page]
        scores = [int(r["data"]["metrics"][0]["value"]) for r in runs]
        check(
            scores == expected,
            f"search returned scores {scores[:5]}..., expected {expected[:5]}...",
        )

    def verify(s, url, st, ops):
        op(s, url, st, 0)

    return Workload(f"runs/search filter+order over {n_runs} runs", setup, op, verify)


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(peer: Peer, workload: Workload, warmup: float, duration: float) -> Result:
    result = Result(workload.name, peer.name)
    setup_session = requests.Session()
    try:
        state = workload.setup(setup_session, peer.url)
        lock = threading.Lock()
        counter = iter(range(10**9))
        stop_warmup = time.monotonic() + warmup
        warmup_ops = [0]

        def worker(measuring: list[float], deadline: float):
            with requests.Session() as s:
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
        t0 = time.monotonic()
        lat = run_phase(t0 + duration)
        result.seconds = time.monotonic() - t0
        result.ops = len(lat)
        result.latencies_ms = lat
        workload.verify(setup_session, peer.url, state, warmup_ops[0] + len(lat))
        result.correct = True
    except Exception as e:  # noqa: BLE001 - a wrong answer is a result, not a crash
        result.error = f"{type(e).__name__}: {e}"[:500]
    finally:
        setup_session.close()
    return result


def process_tree_rss(pid: int) -> tuple[int, int]:
    """(bytes resident, processes) of a server process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for member in tree:
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total, len(tree)


def combine(parts: list[Result]) -> Result:
    """One result from the rounds of a workload on one peer: all ops over all measured time."""
    whole = Result(parts[0].workload, parts[0].peer)
    for part in parts:
        whole.ops += part.ops
        whole.seconds += part.seconds
        whole.latencies_ms.extend(part.latencies_ms)
    whole.correct = all(part.correct for part in parts)
    whole.error = next((part.error for part in parts if part.error), None)
    return whole


def start(peer: str, workdir: Path, workers: int) -> Peer:
    if peer == "mlflow":
        return start_oracle(workdir / "mlflow", workers=workers, timeout=120)
    if peer == "reference":
        return start_reference(workdir / "reference", workers=workers, timeout=120)
    raise SystemExit(f"unknown peer {peer!r}; choose from {sorted(PEERS)}")


def table(results: list[Result], peers: list[str]) -> str:
    by = {(r.workload, r.peer): r for r in results}
    names = list(dict.fromkeys(r.workload for r in results))
    cols = ["workload"]
    for p in peers:
        cols += [f"{p} ops/s", f"{p} p50 ms", f"{p} p95 ms"]
    if {"reference", "mlflow"} <= set(peers):
        cols.append("ours/mlflow")
    rows = []
    for n in names:
        row = [n]
        for p in peers:
            r = by.get((n, p))
            if r is None or not r.correct:
                row += ["WRONG" if r else "-", "", ""]
            else:
                row += [f"{r.ops_per_s:.1f}", f"{r.percentile(50):.2f}", f"{r.percentile(95):.2f}"]
        if "ours/mlflow" in cols:
            a, b = by.get((n, "reference")), by.get((n, "mlflow"))
            ok = a and b and a.correct and b.correct and b.ops_per_s
            row.append(f"{a.ops_per_s / b.ops_per_s:.2f}x" if ok else "-")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(cols, *rows, strict=True)]
    fmt = lambda r: " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(cols), "-+-".join("-" * w for w in widths), *map(fmt, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--runs", type=int, help="runs in the search workload (default 1200)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes per server")
    parser.add_argument("--peers", default="reference,mlflow", help="comma-separated")
    parser.add_argument("--duration", type=float, help="seconds measured per workload")
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each workload in this many slices, alternating the peers, so that a "
        "burst of load elsewhere on the machine falls on both alike",
    )
    parser.add_argument("--only", help="run only the workloads whose name contains this")
    args = parser.parse_args(argv)

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    for p in peers:
        if p not in PEERS:
            parser.error(f"unknown peer {p!r}; choose from {sorted(PEERS)}")
    n_runs = args.runs or (60 if args.quick else 1200)
    duration = args.duration or (0.5 if args.quick else 5.0)
    warmup = 0.2 if args.quick else 1.0
    workloads = [
        create_runs_workload(),
        log_metric_workload(),
        log_batch_workload(),
        get_run_workload(),
        history_workload(200 if args.quick else 2000),
        search_workload(n_runs),
        log_metric_workload(threads=8),
    ]
    if args.only:
        workloads = [w for w in workloads if args.only in w.name]
    print(
        f"peers: {', '.join(f'{p} = {PEERS[p]}' for p in peers)}; "
        f"{args.workers} worker processes each, fresh SQLite files; "
        f"{duration:g}s measured per workload after {warmup:g}s warm-up"
        f"{f' in {args.rounds} alternating rounds' if args.rounds > 1 else ''}; "
        f"search over {n_runs} runs",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mlflow-compat-bench-") as tmp:
        running: dict[str, Peer] = {}
        memory: dict[str, tuple[int, int]] = {}
        try:
            for p in peers:
                running[p] = start(p, Path(tmp), args.workers)
            for w in workloads:
                rounds = {p: [] for p in peers}
                for _ in range(args.rounds):
                    for p in peers:
                        rounds[p].append(measure(running[p], w, warmup, duration / args.rounds))
                for p in peers:
                    r = combine(rounds[p])
                    r.peer = p
                    results.append(r)
                    state = "ok" if r.correct else f"WRONG: {r.error}"
                    print(f"  {w.name:45} {p:10} {r.ops_per_s:9.1f} ops/s  {state}", flush=True)
            memory = {p: process_tree_rss(running[p].proc.pid) for p in peers}
        finally:
            for peer in running.values():
                peer.stop()
    print()
    print(table(results, peers))
    print()
    for p, (rss, count) in memory.items():
        print(f"resident memory after the run: {p:10} {rss / 2**20:7.1f} MiB in {count} processes")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workers": args.workers,
                    "quick": args.quick,
                    "duration_s": duration,
                    "search_runs": n_runs,
                    "rounds": args.rounds,
                    "rss_bytes": {p: rss for p, (rss, _) in memory.items()},
                    "peers": {p: PEERS[p] for p in peers},
                    "results": [r.to_dict() for r in results],
                },
                indent=2,
            )
        )
    return 0 if all(r.correct for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
