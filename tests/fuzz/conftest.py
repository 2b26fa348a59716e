"""Where the fuzz runs put their JUnit reports, and their one-line summaries at the end of the
pytest run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPORT_DIR_ENV = "MLFLOW_COMPAT_FUZZ_REPORT_DIR"
_summaries: list[str] = []


@pytest.fixture(scope="session")
def fuzz_report_dir(tmp_path_factory) -> Path:
    """MLFLOW_COMPAT_FUZZ_REPORT_DIR when set (CI keeps it), else a pytest temporary folder."""
    configured = os.environ.get(REPORT_DIR_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("fuzz-reports")


@pytest.fixture
def record_fuzz_summary():
    """Prints a run's summary line in the terminal summary (shown whatever the capture mode)."""
    return _summaries.append


def pytest_terminal_summary(terminalreporter):
    if _summaries:
        terminalreporter.section("schemathesis")
        for line in _summaries:
            terminalreporter.write_line(line)
