"""`python -m tools.bench --quick` runs each workload on the three peers (the reference server,
`mlflow server` 2.7.1, FastTrackML) and gets right answers; the scale and soak parts run too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.oracle


def test_bench_quick_returns_correct_data(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            *[sys.executable, "-m", "tools.bench", "--quick", "--workers", "2"],
            *["--scale", "100", "--soak", "3", "--json", str(out)],
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stdout + proc.stderr
    report = json.loads(out.read_text())
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
