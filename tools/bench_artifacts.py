"""Large artifacts through the proxy: upload and download one big file, watching server memory.

    python -m tools.bench_artifacts [--size-mib 1024] [--peers reference,mlflow] [--json PATH]
                                    [--destination s3://bucket/prefix]

Each peer runs as a real process on loopback (one worker, a fresh SQLite file and artifact
folder, or with --destination s3://... that bucket: the S3 API of MLFLOW_S3_ENDPOINT_URL and
AWS_* credentials from the environment, or, when MLFLOW_S3_ENDPOINT_URL is unset, moto's S3
server started here on a loopback port, the bucket created in it). The file goes up as the
MLflow client sends it (PUT with a Content-Length, streamed from a reader, never whole in memory
here either) and comes back streamed; both directions are checked byte for byte with SHA-256.
Meanwhile a thread samples the resident memory (RSS) of the server's whole process tree (its
process group) every 50 ms. The table shows MB/s each way (MB = 10^6 bytes), the RSS before, and
the peak growth over it during each transfer; with both peers, the ratios ours / mlflow.

The reference server must stream: its peak RSS growth has to stay under --max-growth-mib (64 by
default) or the run exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

import requests

from tools.peers import Peer, free_port, start_oracle, start_reference

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MIB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
PEERS = {"reference": "ours (mlflow-compat)", "mlflow": "mlflow server 2.7.1"}


class PatternReader:
    """`size` bytes of a repeated random block, read like a file (requests streams it and
    sends its length as Content-Length, as the MLflow client does with an open file)."""

    def __init__(self, size: int, block: bytes):
        self.size, self.block, self.sent = size, block, 0
        self.sha = hashlib.sha256()

    def __len__(self) -> int:
        return self.size - self.sent

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.sent
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        start = self.sent % len(self.block)
        chunk = self.block[start : start + n]  # may stop short at the block's end, as reads may
        self.sent += len(chunk)
        self.sha.update(chunk)
        return chunk


def group_rss(pgid: int) -> int:
    """Resident bytes of every process in process group `pgid` (a peer and its workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            # Fields after the command name (which may hold spaces) start after the last ')'.
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[2]) != pgid:  # pgrp
                continue
            with open(f"/proc/{entry}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


class RssSampler:
    """Samples a process group's RSS in the background; `peak` is the largest seen."""

    def __init__(self, pgid: int, interval: float = 0.05):
        self.pgid, self.interval = pgid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_rss(self.pgid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = group_rss(self.pgid)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, group_rss(self.pgid))


@dataclass
class Result:
    peer: str
    size_bytes: int
    upload_mb_s: float
    download_mb_s: float
    rss_before_mib: float
    upload_peak_growth_mib: float
    download_peak_growth_mib: float
    correct: bool
    error: str = ""


def measure(peer_name: str, peer: Peer, size: int, block: bytes) -> Result:
    pgid = peer.proc.pid  # each peer leads a session (and process group) of its own
    path = f"{PROXY}/0/bench-{os.getpid()}/artifacts/big.bin"
    url = peer.url + path
    with requests.Session() as session:
        # Warm up: one small round trip, so that lazy imports do not count as growth.
        session.put(url, data=b"warm-up", timeout=60).raise_for_status()
        session.get(url, timeout=60).raise_for_status()
        before = group_rss(pgid)

        body = PatternReader(size, block)
        with RssSampler(pgid) as up:
            start = time.perf_counter()
            try:
                put = session.put(url, data=body, timeout=3600)
            except requests.RequestException as e:
                return _failed(peer_name, size, f"PUT: {e}\n{peer.log()[-2000:]}")
            upload_s = time.perf_counter() - start
        if put.status_code != 200:
            return _failed(peer_name, size, f"PUT {put.status_code}: {put.text[:200]}")

        sha, received = hashlib.sha256(), 0
        with RssSampler(pgid) as down:
            start = time.perf_counter()
            try:
                with session.get(url, stream=True, timeout=3600) as got:
                    if got.status_code != 200:
                        return _failed(peer_name, size, f"GET {got.status_code}")
                    for chunk in got.iter_content(MIB):
                        sha.update(chunk)
                        received += len(chunk)
            except requests.RequestException as e:
                return _failed(peer_name, size, f"GET: {e}\n{peer.log()[-2000:]}")
            download_s = time.perf_counter() - start
        session.delete(url, timeout=600)

    correct = received == size and sha.digest() == body.sha.digest()
    return Result(
        peer=peer_name,
        size_bytes=size,
        upload_mb_s=size / upload_s / 1e6,
        download_mb_s=size / download_s / 1e6,
        rss_before_mib=before / MIB,
        upload_peak_growth_mib=max(0, up.peak - before) / MIB,
        download_peak_growth_mib=max(0, down.peak - before) / MIB,
        correct=correct,
        error="" if correct else f"downloaded {received} bytes, digest mismatch or short",
    )


def _failed(peer: str, size: int, error: str) -> Result:
    return Result(peer, size, 0.0, 0.0, 0.0, 0.0, 0.0, False, error)


def start(peer: str, workdir: Path, destination: str | None, env: dict[str, str]) -> Peer:
    """`peer` with its artifacts in a folder of `workdir`, or under `destination` (a prefix of
    its own in the bucket)."""
    if destination:
        destination = f"{destination.rstrip('/')}/{peer}"
    starter = start_reference if peer == "reference" else start_oracle
    return starter(workdir / peer, workers=1, artifacts_destination=destination, env=env)


@contextlib.contextmanager
def s3_endpoint(destination: str | None, workdir: Path):
    """The environment the peers need to reach `destination`'s bucket: this one's, or moto's S3
    server started here (a process of its own, with the bucket) when MLFLOW_S3_ENDPOINT_URL is
    unset."""
    if not destination or os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
        yield {}
        return
    from server.artifacts.s3 import client_from_env

    port = free_port()
    env = {
        "MLFLOW_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    moto_server = str(Path(sys.executable).parent / "moto_server")
    with open(workdir / "moto.log", "wb") as log:
        moto = subprocess.Popen(
            [moto_server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
        )
    try:
        client = client_from_env(env)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket=urlparse(destination).netloc)
                break
            except Exception:  # not listening yet
                if time.monotonic() > deadline or moto.poll() is not None:
                    raise
                time.sleep(0.2)
        print(f"moto's S3 server on {env['MLFLOW_S3_ENDPOINT_URL']}", flush=True)
        yield env
    finally:
        moto.terminate()
        moto.wait(30)


def table(results: list[Result]) -> str:
    head = (
        f"{'peer':<22} {'size MiB':>9} {'up MB/s':>9} {'down MB/s':>10} "
        f"{'RSS MiB':>8} {'up +MiB':>8} {'down +MiB':>10} {'ok':>3}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{PEERS[r.peer]:<22} {r.size_bytes / MIB:>9.0f} {r.upload_mb_s:>9.1f} "
            f"{r.download_mb_s:>10.1f} {r.rss_before_mib:>8.1f} {r.upload_peak_growth_mib:>8.1f} "
            f"{r.download_peak_growth_mib:>10.1f} {'yes' if r.correct else 'NO':>3}"
        )
    by_peer = {r.peer: r for r in results}
    ours, theirs = by_peer.get("reference"), by_peer.get("mlflow")
    if ours and theirs and ours.correct and theirs.correct:
        lines.append(
            f"ours/mlflow: upload x{ours.upload_mb_s / theirs.upload_mb_s:.2f}, "
            f"download x{ours.download_mb_s / theirs.download_mb_s:.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1 GiB)")
    parser.add_argument("--peers", default="reference,mlflow", help="reference,mlflow")
    parser.add_argument("--max-growth-mib", type=float, default=64.0)
    parser.add_argument("--json", help="write the results as JSON here")
    parser.add_argument(
        "--destination",
        help="s3://bucket/prefix: artifacts in S3 (default: a local folder per peer)",
    )
    args = parser.parse_args(argv)
    if args.destination and not args.destination.startswith("s3://"):
        parser.error("--destination takes s3://bucket/prefix")
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers {sorted(unknown)}; choose from {sorted(PEERS)}")

    size = args.size_mib * MIB
    block = os.urandom(MIB + 7)  # not a divisor of the chunk sizes: no aligned repeats
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp,
        s3_endpoint(args.destination, Path(tmp)) as env,
    ):
        for name in peers:
            peer = start(name, Path(tmp), args.destination, env)
            try:
                results.append(measure(name, peer, size, block))
            finally:
                peer.stop()
            print(table(results[-1:]).splitlines()[-1], flush=True)

    print()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    failures = [f"{r.peer}: {r.error}" for r in results if not r.correct]
    ours = next((r for r in results if r.peer == "reference"), None)
    if ours and ours.correct:
        growth = max(ours.upload_peak_growth_mib, ours.download_peak_growth_mib)
        verdict = "within" if growth < args.max_growth_mib else "OVER"
        print(f"reference server peak RSS growth {growth:.1f} MiB: {verdict} the "
              f"{args.max_growth_mib:g} MiB budget")  # fmt: skip
        if growth >= args.max_growth_mib:
            failures.append(f"reference: RSS grew {growth:.1f} MiB")
    for failure in failures:
        print("FAILED", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
