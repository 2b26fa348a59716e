"""Search and history at scale, and memory under a steady load: the parts of `tools.bench` that
need a big experiment or a long time (`--scale N`, `--soak SECONDS`).

Scale: one experiment of N runs, each with 3 metrics, 3 params and 1 tag, loaded over HTTP by 8
clients; then, one request at a time, a search that filters on a metric, a param and a tag and
orders by a metric (top 100), a page of 1000 runs, and the history of one metric of N points and
of N/10 points (the 2.7.1 client fetches a history in one request), each checked. A figure is
the server's: from the request sent to the answer's last byte, over a keep-alive connection
(`LeanSession`). Decoding the answer's JSON and checking it come after, and the decoding's own
time has a row of its own (for a page of 1000 runs, 10-16 ms of the client's CPU in Python's
json). Soak: one client logs metrics for the given time while each server's resident memory is
sampled.
"""

from __future__ import annotations

import functools
import json
import threading
import time

import requests

from tools.benchlib import (
    T0,
    LeanSession,
    call,
    check,
    fetch,
    format_table,
    history_run,
    load_runs,
    metric,
    percentile,
    process_rss,
)

# p50 goals for the reference server, in milliseconds.
SCALE_GOALS_MS = {"search top 100": 20.0, "search page of 1000": 60.0}
# Resident memory goals for the reference server: per worker, and growth over the soak's
# second half (after warm-up), in MiB.
RSS_GOAL_MIB = 100.0
SOAK_GROWTH_GOAL_MIB = 5.0


def _sample(answer_of, verify, times: int) -> tuple[list[float], list[float]]:
    """Latencies of `answer_of()` (the server's answer, as bytes) and of decoding its JSON, in ms;
    `verify` checks every decoded answer, outside both."""
    served, decoded = [], []
    for _ in range(times):
        t0 = time.perf_counter()
        content = answer_of()
        t1 = time.perf_counter()
        answer = json.loads(content)
        decoded.append((time.perf_counter() - t1) * 1000)
        served.append((t1 - t0) * 1000)
        verify(answer)
    return served, decoded


def _p50_p99(latencies: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def _figures(figures: dict, name: str, served: list[float], decoded: list[float]) -> None:
    figures[name] = _p50_p99(served)
    figures[f"{name}, client's JSON decode"] = _p50_p99(decoded)


def measure_peer(url: str, n: int, samples: int) -> dict:
    exp, load_s = load_runs(url, n)
    s, lean = requests.Session(), LeanSession()
    top = [i for i in range(n - 1, n // 4 - 1, -1) if i % 6 == 0][:100]
    search_top = functools.partial(
        fetch,
        lean,
        url,
        "POST",
        "runs/search",
        json={
            "experiment_ids": [exp],
            "filter": f"metrics.score >= {n // 4} AND params.parity = 'even' AND tags.group = 'a'",
            "order_by": ["metrics.score DESC"],
            "max_results": 100,
        },
    )

    def verify_top(answer):
        scores = [int(metric(r, "score")) for r in answer.get("runs", [])]
        check(scores == top, f"top 100 scores {scores[:4]}..., expected {top[:4]}...")

    search_page = functools.partial(
        fetch, lean, url, "POST", "runs/search", json={"experiment_ids": [exp], "max_results": 1000}
    )

    def verify_page(answer):
        starts = [r["info"]["start_time"] for r in answer.get("runs", [])]
        check(starts == list(range(n - 1, max(n - 1001, -1), -1)), "page of 1000: wrong runs")

    figures = {"runs": n, "load_s": round(load_s, 1), "load_runs_per_s": round(n / load_s, 1)}
    searches = (
        ("search top 100", search_top, verify_top),
        ("search page of 1000", search_page, verify_page),
    )
    for name, search, verify in searches:
        _sample(search, verify, 1)  # warm
        _figures(figures, name, *_sample(search, verify, samples))
    for points in (max(n // 10, 1), n):
        run = history_run(s, url, points)
        query = {"run_id": run, "metric_key": "curve"}
        get_history = functools.partial(
            fetch, lean, url, "GET", "metrics/get-history", params=query
        )

        def verify(answer, points=points):
            got = answer.get("metrics", [])
            check(len(got) == points, f"history of {len(got)} points, expected {points}")

        _figures(
            figures, f"history {points} points", *_sample(get_history, verify, max(samples // 5, 3))
        )
    small, big = figures[f"history {max(n // 10, 1)} points"], figures[f"history {n} points"]
    figures["history growth x10 points"] = round(big["p50_ms"] / max(small["p50_ms"], 1e-9), 2)
    s.close()
    lean.close()
    return figures


def run(peers: dict, n: int, quick: bool = False) -> dict:
    """The scale figures of each peer ({name: Peer}); a wrong answer is recorded, not raised."""
    samples = 5 if quick else 30
    report: dict = {"runs": n, "peers": {}, "wrong": {}}
    for name, peer in peers.items():
        print(f"  scale: loading {n} runs into {name} ...", flush=True)
        try:
            report["peers"][name] = measure_peer(peer.url, n, samples)
        except Exception as e:  # noqa: BLE001 - reported in the table
            report["wrong"][name] = f"{type(e).__name__}: {e}"[:500]
    return report


def table(report: dict) -> str:
    lines = [
        f"at scale: one experiment of {report['runs']} runs (p50 / p99 ms; the server's: request"
        " sent to the last byte of its answer)"
    ]
    names = list(report["peers"])
    keys = [
        k
        for k in next(iter(report["peers"].values()), {})
        if isinstance(next(iter(report["peers"].values()))[k], dict)
    ]
    rows = [["load (runs/s)", *[str(report["peers"][p]["load_runs_per_s"]) for p in names]]]
    for k in keys:
        rows.append(
            [
                k,
                *[
                    f"{report['peers'][p][k]['p50_ms']} / {report['peers'][p][k]['p99_ms']}"
                    for p in names
                ],
            ]
        )
    rows.append(
        [
            "history time for x10 points",
            *[f"{report['peers'][p]['history growth x10 points']}x" for p in names],
        ]
    )
    lines.append(format_table(["", *names], rows))
    for p, err in report["wrong"].items():
        lines.append(f"{p}: WRONG {err}")
    return "\n".join(lines)


def missed_goals(report: dict) -> list[str]:
    ours = report["peers"].get("reference")
    if ours is None:
        return (
            ["scale: the reference server was not measured"]
            if "reference" in report["wrong"]
            else []
        )
    return [
        f"scale {report['runs']} runs, {k}: p50 {ours[k]['p50_ms']} ms, goal < {goal:g} ms"
        for k, goal in SCALE_GOALS_MS.items()
        if ours[k]["p50_ms"] >= goal
    ]


def soak(peers: dict, seconds: float) -> dict:
    """Log metrics from one client to every peer at once for `seconds`, sampling each server's
    resident memory 20 times. Returns {peer: {"samples_mib": [...], "growth_mib": ...}}."""
    stop = time.monotonic() + seconds
    counts = dict.fromkeys(peers, 0)

    def load(name: str, url: str) -> None:
        with requests.Session() as s:
            exp = call(
                s, url, "POST", "experiments/create", json={"name": f"soak-{time.time_ns()}"}
            )
            body = {"experiment_id": exp["experiment_id"], "start_time": 1}
            run = call(s, url, "POST", "runs/create", json=body)["run"]["info"]["run_id"]
            i = 0
            while time.monotonic() < stop:
                metric = {"run_id": run, "key": "loss", "value": i, "timestamp": T0 + i, "step": i}
                call(s, url, "POST", "runs/log-metric", json=metric)
                i += 1
            counts[name] = i

    threads = [threading.Thread(target=load, args=(n, p.url)) for n, p in peers.items()]
    for t in threads:
        t.start()
    samples = {n: [] for n in peers}
    while any(t.is_alive() for t in threads):
        for n, p in peers.items():
            samples[n].append(max(process_rss(p.proc.pid), default=0) / 2**20)
        time.sleep(seconds / 20)
    for t in threads:
        t.join()
    report = {}
    for n, series in samples.items():
        half = series[len(series) // 2 :] or series
        report[n] = {
            "ops": counts[n],
            "samples_mib": [round(x, 1) for x in series],
            "largest_process_mib": round(max(series, default=0), 1),
            "growth_mib": round(_trend(half) * max(len(half) - 1, 0), 2),
        }
    return report


def _trend(series: list[float]) -> float:
    """Least-squares slope of the series per sample."""
    n = len(series)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(series) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(series))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


def soak_table(report: dict) -> str:
    rows = [
        [
            n,
            str(r["ops"]),
            f"{r['samples_mib'][0]:.1f}",
            f"{r['largest_process_mib']:.1f}",
            f"{r['growth_mib']:+.2f}",
        ]
        for n, r in report.items()
    ]
    cols = ["steady log-metric", "ops", "first MiB", "largest process MiB", "trend, 2nd half MiB"]
    return format_table(cols, rows)


def soak_missed(report: dict) -> list[str]:
    ours = report.get("reference")
    if not ours:
        return []
    missed = []
    if ours["largest_process_mib"] >= RSS_GOAL_MIB:
        missed.append(
            f"soak: largest process {ours['largest_process_mib']} MiB, goal < {RSS_GOAL_MIB:g}"
        )
    if ours["growth_mib"] >= SOAK_GROWTH_GOAL_MIB:
        missed.append(
            f"soak: memory grew {ours['growth_mib']} MiB, goal < {SOAK_GROWTH_GOAL_MIB:g}"
        )
    return missed
