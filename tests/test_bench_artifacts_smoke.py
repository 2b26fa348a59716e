"""`python -m tools.bench_artifacts` on a small file: it moves the bytes intact both ways and
measures the reference server's memory, with artifacts in a local folder and in S3 (the 1 GiB
runs are `tox -e bench-artifacts [-- --destination s3://bucket/prefix]`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "destination", [[], ["--destination", "s3://bench/smoke"]], ids=["local", "s3"]
)
def test_bench_artifacts_small_file_round_trip(tmp_path, destination):
    """With S3 (moto's server, which the tool starts), 16 MiB is two multipart parts."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_S3_ENDPOINT_URL"}
    proc = subprocess.run(
        [sys.executable, "-m", "tools.bench_artifacts", "--size-mib", "16", "--peers",
         "reference", "--json", str(out), *destination],
        env=env,
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
