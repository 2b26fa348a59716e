"""Fuzz any MLflow-speaking server with the spec, exactly as CI fuzzes the reference server.

    python -m tests.fuzz --url http://127.0.0.1:5000
    python -m tests.fuzz --url https://gitlab.example.com/api/v4/projects/42/ml/mlflow \\
        --header "Authorization: Bearer $GITLAB_TOKEN" --gitlab

Run from the repository root. Prints the schemathesis command, its report, and one summary
line; exits non-zero when schemathesis found a failure. The run creates, renames and deletes
experiments, runs and registered models: point it at a server (or project) you can spare.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tests.fuzz.harness import ALL_PHASES, Target, run_schemathesis, schemathesis_argv

# Served at the host's root by an MLflow server, not under a GitLab project's MLflow prefix.
ROOT_ONLY_OPERATIONS = ("health", "version")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", required=True, help="the MLflow tracking URI of the server")
    parser.add_argument(
        "--header", action="append", default=[], help="'Name: value' sent with every request"
    )
    parser.add_argument(
        "--gitlab",
        action="store_true",
        help="the URL is a GitLab project's MLflow prefix (skips /health and /version)",
    )
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation")
    parser.add_argument("--phases", default=",".join(ALL_PHASES))
    parser.add_argument("--junit", type=Path, default=Path("fuzz-junit.xml"))
    args = parser.parse_args(argv)

    headers = {}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    target = Target(
        name=args.url,
        base_url=args.url.rstrip("/"),
        headers=headers,
        exclude_operation_ids=ROOT_ONLY_OPERATIONS if args.gitlab else (),
    )
    phases = tuple(args.phases.split(","))
    command = schemathesis_argv(target, args.junit.resolve(), args.max_examples, phases)
    shown = [
        "Authorization: <redacted>" if a.lower().startswith("authorization:") else a
        for a in command
    ]
    print("$", shlex.join(shown), flush=True)
    outcome = run_schemathesis(
        target, args.junit.resolve(), args.max_examples, phases, timeout=24 * 3600
    )
    print(outcome.output)
    print(outcome.summary())
    return outcome.returncode


if __name__ == "__main__":
    sys.exit(main())
