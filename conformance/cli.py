"""`mlflow-compat check [URL]`: the conformance suite from the installed package."""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlflow-compat check",
        description="Run the documented MLflow client methods, row by row, against a server and "
        "report Yes / Yes with caveat / Partial / No with evidence. Options not listed here "
        "(-k, -x, -v, --junitxml PATH, ...) pass on to pytest.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        help="tracking URI, path prefix included (default: start the reference server)",
    )
    parser.add_argument("--token", help="bearer token (or MLFLOW_TRACKING_TOKEN)")
    parser.add_argument("--username", help="basic auth user (or MLFLOW_TRACKING_USERNAME)")
    parser.add_argument("--password", help="basic auth password (or MLFLOW_TRACKING_PASSWORD)")
    parser.add_argument("--dialect", choices=("mlflow", "gitlab"), default="mlflow")
    parser.add_argument("--report", metavar="PATH", help="write the markdown report")
    parser.add_argument("--report-json", metavar="PATH", help="write the JSON report")
    parser.add_argument("--report-html", metavar="PATH", help="write the HTML report")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="VERSION",
        help="an mlflow client version (repeatable; default: the installed one, 2.7.1); "
        "another version runs in a virtualenv made on demand in the user's cache",
    )
    parser.add_argument(
        "--client-python",
        action="append",
        default=[],
        metavar="PATH",
        help="a python interpreter with an mlflow client installed, as one more client",
    )
    return parser


def pytest_args(argv: list[str] | None = None) -> list[str]:
    """The pytest command line that `check` runs."""
    args, rest = _parser().parse_known_args(argv)
    out = [str(HERE), "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE)]
    if args.target:
        out += ["--target", args.target]
    for flag in ("token", "username", "password", "report", "report_json", "report_html"):
        value = getattr(args, flag)
        if value is not None:
            out += [
                f"--{flag.replace('_', '-')}",
                str(Path(value).resolve()) if "report" in flag else value,
            ]
    for version in args.client:
        out += ["--client", version]
    for python in args.client_python:
        out += ["--client-python", python]
    return [*out, "--dialect", args.dialect, *rest]


def main(argv: list[str] | None = None) -> int:
    import pytest

    return int(pytest.main(pytest_args(argv)))
