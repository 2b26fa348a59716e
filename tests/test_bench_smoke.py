"""`python -m tools.bench --quick` runs each workload on the three peers (the reference server,
`mlflow server` 2.7.1, FastTrackML) and gets right answers; the scale and soak parts run too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pg import admin_url
from tools.pgdb import server_pid

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.oracle


def run_bench(tmp_path, *args: str, timeout: float) -> tuple[subprocess.CompletedProcess, dict]:
    """`python -m tools.bench --quick ARGS`, and the report it wrote (its --json)."""
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "tools.bench", "--quick", *args, "--json", str(out)]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert out.exists(), proc.stdout + proc.stderr
    return proc, json.loads(out.read_text())


def test_bench_quick_returns_correct_data(tmp_path):
    proc, report = run_bench(
        tmp_path, "--workers", "2", "--scale", "100", "--soak", "3", timeout=300
    )
    assert set(report["peers"]) == {"reference", "mlflow", "fasttrackml"}
    results = report["results"]
    workloads = {r["workload"] for r in results}
    assert len(workloads) == 8, workloads
    wrong = [f"{r['peer']} {r['workload']}: {r['error']}" for r in results if not r["correct"]]
    assert not wrong, "\n".join(wrong)
    assert all(r["ops"] > 0 for r in results), results
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ours/mlflow" in proc.stdout and "ours/fasttrackml" in proc.stdout
    # Each server's CPU per operation, read from its processes: some for every workload (a
    # single-op window can fall between two clock ticks, so not each round's).
    for peer in ("reference", "mlflow", "fasttrackml"):
        spent = [r["server_cpu_ms_per_op"] for r in results if r["peer"] == peer]
        assert None not in spent and sum(spent) > 0, (peer, spent)
    assert sum(r["client_cpu_ms_per_op"] for r in results) > 0, results
    assert "fasttrackml/ours" in proc.stdout
    scale = report["scale"]
    assert not scale["wrong"], scale["wrong"]
    for peer in ("reference", "mlflow", "fasttrackml"):
        figures = scale["peers"][peer]
        assert figures["runs"] == 100 and figures["search top 100"]["p50_ms"] > 0, figures
        assert figures["history 100 points"]["p50_ms"] > 0, figures
    soak = report["soak"]
    assert set(soak) == {"reference", "mlflow", "fasttrackml"}
    assert all(s["ops"] > 0 and s["largest_process_mib"] > 0 for s in soak.values()), soak


def test_bench_runs_the_current_mlflow_server_on_postgresql(tmp_path):
    """`--peers ...,mlflow3 --database postgresql`: the current mlflow server runs from its own
    virtualenv (made on first use, with the psycopg driver its SQLAlchemy picks for
    postgresql://) on a fresh PostgreSQL database, and answers right."""
    admin = admin_url()  # skips, or fails under MLFLOW_COMPAT_REQUIRE_POSTGRES=1, without one
    proc, report = run_bench(
        tmp_path,
        *["--peers", "reference,mlflow3", "--database", "postgresql", "--postgres-url", admin],
        *["--only", "runs/get"],
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["database"] == "postgresql", report
    results = {r["peer"]: r for r in report["results"]}
    assert set(results) == {"reference", "mlflow3"}, results
    assert all(r["correct"] and r["ops"] > 0 for r in results.values()), results
    assert "mlflow server 3." in proc.stdout, proc.stdout
    # The PostgreSQL server runs here: its CPU per operation is read from its processes too,
    # for each peer (some for each: a short window can fall between two clock ticks).
    assert "PostgreSQL server CPU per operation" in proc.stdout, proc.stdout
    spent = [r["database_cpu_ms_per_op"] for r in results.values()]
    assert None not in spent and sum(spent) > 0, spent


def test_the_postgresql_server_process_is_found_on_this_machine():
    """tools.pgdb.server_pid: the postmaster of the server the URL reaches, whose processes
    (every connection's backend among them) are its children."""
    pid = server_pid(admin_url())
    assert pid is not None
    assert Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster")
