"""schemathesis drives the spec against the reference server over real HTTP.

Positive and negative cases generated from every tracking, model-registry, artifact-proxy and
service operation, plus stateful sequences that follow the spec's links (experiment -> run ->
log/get ...). A 5xx, an undeclared status, a wrong content type or a body that does not
match the spec's response schema fails the test, with schemathesis' reproduction steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, start_reference_server

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec" / "mlflow-2.7.1.yaml"
SERVED_TAGS = [
    "experiments",
    "runs",
    "metrics",
    "artifacts",
    "artifacts-proxy",
    "registered-models",
    "model-versions",
    "server",
]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = int(os.environ.get("MLFLOW_COMPAT_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module", params=BACKENDS)
def fuzzed_server(request, tmp_path_factory):
    """A server of its own: fuzzing deletes and renames things (experiment "0" among them)."""
    return start_reference_server(request, tmp_path_factory, "fuzzed")


@pytest.mark.parametrize("phases", ["examples,coverage,fuzzing", "stateful"])
def test_spec_driven_fuzzing(fuzzed_server, tmp_path, phases):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    argv = [
        str(schemathesis),
        "run",
        str(SPEC),
        "--url",
        fuzzed_server.url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "2",
        "--seed",
        "20261126",
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        *[arg for tag in SERVED_TAGS for arg in ("--include-tag", tag)],
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "No issues found" in output or "passed" in output, output[-5000:]
