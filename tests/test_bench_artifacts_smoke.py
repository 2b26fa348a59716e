"""`python -m tools.bench_artifacts` on a small file: it moves the bytes intact both ways and
measures the reference server's memory (the 1 GiB run is `tox -e bench-artifacts`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_bench_artifacts_small_file_round_trip(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.bench_artifacts", "--size-mib", "16", "--peers",
         "reference", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [result] = json.loads(out.read_text())
    assert result["peer"] == "reference" and result["correct"], result
    assert result["size_bytes"] == 16 * 1024 * 1024
    assert result["upload_mb_s"] > 0 and result["download_mb_s"] > 0
    assert result["rss_before_mib"] > 10  # a real server process tree was measured
    assert max(result["upload_peak_growth_mib"], result["download_peak_growth_mib"]) < 64
    assert "within the 64 MiB budget" in proc.stdout
