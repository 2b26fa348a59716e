"""Run the schemathesis CLI against an MLflow-speaking URL: `mlflow-compat fuzz` and the project's
own fuzz tests both run it this way.

One function builds the command line (`schemathesis_argv`), one runs it and reads the JUnit
report back (`run_schemathesis`). A target is a base URL (the MLflow tracking URI, a GitLab
project's MLflow prefix included) and the headers to send (a GitLab token), so each dialect is
one more target.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from conformance.fuzz.dictionaries import seeded_settings
from conformance.fuzz.seed import Seeder, served_operations
from conformance.fuzz.stateful import StatefulReach, stateful_reach
from conformance.resources import GITLAB_OPENAPI_PATH
from conformance.resources import OPENAPI_PATH as SPEC

# Loads the hooks as the module `conformance.fuzz.hooks`, from wherever this package is installed.
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
SEED = 20261126
ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
# Served at the host's root by an MLflow server, not under a GitLab project's MLflow prefix.
ROOT_ONLY_OPERATIONS = ("health", "version")


@dataclass(frozen=True)
class Target:
    """Where to fuzz: a name for reports, the tracking URI, headers for every request, the
    contract to fuzz with, operations it has that the target does not serve (by operationId),
    and checks that do not apply to the target."""

    name: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    spec: Path = SPEC
    exclude_operation_ids: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()


def gitlab_target(name: str, base_url: str, headers: dict[str, str]) -> Target:
    """A GitLab project's MLflow prefix: fuzzed with the GitLab dialect's contract (only the
    operations GitLab routes). GitLab answers a route's path with another method from its API's
    catch-all route, 404 (see server/dialects/gitlab_rules.py), not 405: schemathesis' check
    for undeclared methods does not apply."""
    return Target(
        name=name,
        base_url=base_url,
        headers=headers,
        spec=GITLAB_OPENAPI_PATH,
        exclude_operation_ids=ROOT_ONLY_OPERATIONS,
        exclude_checks=("unsupported_method",),
    )


@dataclass(frozen=True)
class Outcome:
    target: Target
    returncode: int
    output: str
    junit_path: Path
    operations: int
    test_cases: int
    failures: int
    errors: int
    seconds: float
    failed_operations: tuple[str, ...]
    # Read from the NDJSON report; None when the run had no stateful phase or wrote no report.
    stateful: StatefulReach | None = None
    mostly_rejected: int = 0

    def summary(self) -> str:
        """One line: what ran, what it found, where the report is."""
        verdict = "passed" if self.returncode == 0 else "FAILED"
        reach = f"; {self.stateful.summary()}" if self.stateful else ""
        return (
            f"schemathesis {self.target.name}: {verdict}, {self.operations} operations, "
            f"{self.test_cases} test cases, {self.failures} failures, {self.errors} errors, "
            f"{self.mostly_rejected} mostly rejected{reach} in {self.seconds:.0f}s (seed {SEED}); "
            f"JUnit: {self.junit_path}"
        )


def ndjson_path(junit_path: Path) -> Path:
    """Where a run writes its NDJSON event stream: beside its JUnit report."""
    return junit_path.with_suffix(".ndjson")


def seeded_config(target: Target, junit_path: Path) -> Path:
    """Seed the target (see seed.py) and write, beside the JUnit report, the settings file that
    draws on what was seeded."""
    served = served_operations(target.spec) - set(target.exclude_operation_ids)
    seeds = Seeder(target.base_url, target.headers, served).seed()
    config = junit_path.with_suffix(".toml")
    config.write_text(seeded_settings(CONFIG, seeds, served), encoding="utf-8")
    return config


def schemathesis_argv(
    target: Target,
    junit_path: Path,
    max_examples: int,
    phases: tuple[str, ...] = ALL_PHASES,
    extra: tuple[str, ...] = (),
    config: Path = CONFIG,
) -> list[str]:
    """The `st run` command line: every default check, a fixed seed, a JUnit report."""
    # schemathesis of this interpreter's environment, which imports the hooks from this package.
    st = Path(sys.executable).parent / "st"
    argv = [
        *([str(st)] if st.exists() else [sys.executable, "-m", "schemathesis.cli"]),
        "--config-file",
        str(config),
        "run",
        str(target.spec),
        "--url",
        target.base_url,
        "--phases",
        ",".join(phases),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        # One worker: the run is short, and it keeps hypothesis' source inspection (not thread
        # safe on Python 3.11) out of concurrent threads.
        "--workers",
        "1",
        # No example database: the same seed gives the same run, whatever ran before.
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "junit,ndjson",
        "--report-junit-path",
        str(junit_path),
        # Every event, the stateful phase's scenarios among them: which links it followed.
        "--report-ndjson-path",
        str(ndjson_path(junit_path)),
    ]
    for name, value in target.headers.items():
        argv += ["--header", f"{name}: {value}"]
    for operation_id in target.exclude_operation_ids:
        argv += ["--exclude-operation-id", operation_id]
    if target.exclude_checks:
        argv += ["--exclude-checks", ",".join(target.exclude_checks)]
    return [*argv, *extra]


def run_schemathesis(
    target: Target,
    junit_path: Path,
    max_examples: int,
    phases: tuple[str, ...] = ALL_PHASES,
    extra: tuple[str, ...] = (),
    timeout: float = 600,
    config: Path | None = None,
) -> Outcome:
    """Run schemathesis with `config` (by default: seed the target, see `seeded_config`) and read
    its JUnit report back."""
    config = config or seeded_config(target, junit_path)
    argv = schemathesis_argv(target, junit_path, max_examples, phases, extra, config)
    ndjson_path(junit_path).unlink(missing_ok=True)
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    tests = failures = errors = 0
    failed: list[str] = []
    if junit_path.exists():
        suite = ET.parse(junit_path).getroot()
        tests = int(suite.get("tests", 0))
        failures = int(suite.get("failures", 0))
        errors = int(suite.get("errors", 0))
        failed = [
            case.get("name", "")
            for case in suite.iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None
        ]
    generated = re.search(r"(\d+) generated", output)
    selected = re.search(r"Tested: (\d+)", output)
    rejected = re.search(r"(\d+) operations? mostly rejected", output)
    events = ndjson_path(junit_path)
    return Outcome(
        target=target,
        returncode=result.returncode,
        output=output,
        junit_path=junit_path,
        operations=int(selected.group(1)) if selected else tests,
        test_cases=int(generated.group(1)) if generated else 0,
        failures=failures,
        errors=errors,
        seconds=seconds,
        failed_operations=tuple(failed),
        stateful=(
            stateful_reach(events, target.spec)
            if "stateful" in phases and events.exists()
            else None
        ),
        mostly_rejected=int(rejected.group(1)) if rejected else 0,
    )
