"""`python -m tools.bench --quick` runs each workload on both servers and gets right answers."""

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
        [sys.executable, "-m", "tools.bench", "--quick", "--workers", "2", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    assert set(report["peers"]) == {"reference", "mlflow"}
    results = report["results"]
    workloads = {r["workload"] for r in results}
    assert len(workloads) == 7, workloads
    wrong = [f"{r['peer']} {r['workload']}: {r['error']}" for r in results if not r["correct"]]
    assert not wrong, "\n".join(wrong)
    assert all(r["ops"] > 0 for r in results), results
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ours/mlflow" in proc.stdout
