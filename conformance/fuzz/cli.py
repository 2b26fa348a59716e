"""`mlflow-compat fuzz URL`: fuzz any MLflow-speaking server with the spec, as the project's tests
fuzz the reference server.

    mlflow-compat fuzz http://127.0.0.1:5000
    mlflow-compat fuzz https://gitlab.example.com/api/v4/projects/42/ml/mlflow \\
        --header "Authorization: Bearer $GITLAB_TOKEN" --gitlab

Seeds the server first (experiments, runs, registered models and their versions, named
`fuzz-seed-...`, see seed.py), so that schemathesis can draw live ids and names; then prints the
schemathesis command, its report, and one summary line; exits non-zero when schemathesis found a
failure. The run creates, renames and deletes experiments, runs and registered models: point it
at a server (or project) you can spare.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

from conformance.fuzz.harness import (
    ALL_PHASES,
    Target,
    gitlab_target,
    run_schemathesis,
    schemathesis_argv,
    seeded_config,
)
from conformance.fuzz.seed import SeedingError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-compat fuzz",
        description="Fuzz an MLflow-speaking server with schemathesis and the MLflow 2.7.1 spec: "
        "every default check, a fixed seed, a JUnit report. It first seeds the server with "
        "experiments, runs, registered models and model versions (named fuzz-seed-...) whose ids "
        "the generated requests draw on; the run then creates, renames and deletes experiments, "
        "runs and registered models: use a server or project you can spare.",
    )
    parser.add_argument("url", help="the MLflow tracking URI of the server")
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="sent with every request (repeatable)",
    )
    parser.add_argument(
        "--gitlab",
        action="store_true",
        help="the URL is a GitLab project's MLflow prefix: fuzz with the GitLab dialect's "
        "contract (spec/mlflow-2.7.1-gitlab.yaml), without /health and /version",
    )
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation")
    parser.add_argument(
        "--phases",
        default=",".join(ALL_PHASES),
        help=f"comma-separated, among {','.join(ALL_PHASES)} (default: all)",
    )
    parser.add_argument(
        "--junit", type=Path, default=Path("fuzz-junit.xml"), help="default: fuzz-junit.xml"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if importlib.util.find_spec("schemathesis") is None:
        print(
            "mlflow-compat fuzz: schemathesis is not installed (pip install 'mlflow-compat[fuzz]')",
            file=sys.stderr,
        )
        return 2
    headers = {}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    url = args.url.rstrip("/")
    if args.gitlab:
        target = gitlab_target(args.url, url, headers)
    else:
        target = Target(name=args.url, base_url=url, headers=headers)
    phases = tuple(args.phases.split(","))
    junit = args.junit.resolve()
    try:
        config = seeded_config(target, junit)
    except (SeedingError, OSError) as error:
        print(f"mlflow-compat fuzz: seeding {args.url} failed: {error}", file=sys.stderr)
        return 2
    print(f"seeded {args.url}; settings: {config}", flush=True)
    command = schemathesis_argv(target, junit, args.max_examples, phases, config=config)
    # Headers carry credentials (Authorization, GitLab's PRIVATE-TOKEN): their values stay out.
    shown = [
        f"{a.partition(':')[0]}: <redacted>" if before == "--header" else a
        for before, a in zip(["", *command], command, strict=False)
    ]
    print("$", shlex.join(shown), flush=True)
    outcome = run_schemathesis(
        target, junit, args.max_examples, phases, timeout=24 * 3600, config=config
    )
    print(outcome.output)
    print(outcome.summary())
    return outcome.returncode
