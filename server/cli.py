"""`mlflow-compat serve`: flags follow `mlflow server`; each also reads MLFLOW_COMPAT_<NAME>.
`mlflow-compat check`: the conformance suite (conformance/) against a server.
`mlflow-compat fuzz`: schemathesis and the spec against a server (conformance/fuzz/)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings

from server.settings import DIALECTS, ENV_PREFIX, Settings

log = logging.getLogger("mlflow_compat")


def _parser() -> argparse.ArgumentParser:
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="mlflow-compat", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    # Parsed by conformance.cli and conformance.fuzz.cli (see main): listed for --help.
    sub.add_parser(
        "check",
        add_help=False,
        help="run the conformance suite against a server: mlflow-compat check [URL] [options] "
        "(see mlflow-compat check --help)",
    )
    sub.add_parser(
        "fuzz",
        add_help=False,
        help="fuzz a server with schemathesis and the spec: mlflow-compat fuzz URL [options] "
        "(needs the `fuzz` extra; see mlflow-compat fuzz --help)",
    )
    serve = sub.add_parser(
        "serve",
        help="run the reference MLflow 2.7.1 server",
        description="Run the reference server. Every flag can also be set with the environment "
        f"variable {ENV_PREFIX}<FLAG> (e.g. {ENV_PREFIX}BACKEND_STORE_URI).",
    )
    serve.add_argument(
        "--backend-store-uri",
        default=defaults.backend_store_uri,
        help="sqlite:///path.db (default: ./mlflow-compat.db) or postgresql://user:pw@host/db",
    )
    serve.add_argument(
        "--artifacts-destination",
        default=defaults.artifacts_destination,
        help="where artifacts go: a local folder (default: ./mlartifacts) or s3://bucket/prefix "
        "(needs the `s3` extra; MLFLOW_S3_ENDPOINT_URL, AWS_* as for mlflow server)",
    )
    serve.add_argument("--host", default=defaults.host, help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=defaults.port, help="default: 5000")
    serve.add_argument("--workers", type=int, default=defaults.workers, help="worker processes")
    serve.add_argument("--dialect", choices=DIALECTS, default=defaults.dialect)
    serve.add_argument(
        "--gitlab-config",
        default=defaults.gitlab_config,
        metavar="FILE",
        help="gitlab dialect: YAML file of projects and tokens (see README, 'GitLab dialect'); "
        f"a single token may come from {ENV_PREFIX}GITLAB_TOKEN instead",
    )
    return parser


def serve(settings: Settings) -> int:
    import uvicorn

    from server.compose import compose
    from server.dialects import prepare_settings

    settings = prepare_settings(settings)
    # Built once here, before any worker starts: settings, the dialect's config, the contract
    # and its handlers are checked, and the database schema is created or migrated.
    server = compose(settings)
    server.close()
    url = f"http://{settings.host}:{settings.port}"
    log.info("backend store: %s", settings.backend_store_uri)
    log.info("artifacts: %s", settings.artifacts_destination)
    log.info("dialect: %s", settings.dialect)
    for line in server.dialect.startup_lines(url):
        log.info("%s", line)
    # Workers are separate processes: they rebuild the same settings from the environment.
    os.environ.update(settings.to_env())
    uvicorn.run(
        "server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        log_level="warning",
        access_log=False,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("connexion").setLevel(logging.WARNING)
    # connexion imports starlette's test client at start-up; its deprecation notice is noise here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        from conformance.cli import main as check

        return check(argv[1:])
    if argv[:1] == ["fuzz"]:
        from conformance.fuzz.cli import main as fuzz

        return fuzz(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "serve":
        settings = Settings(
            backend_store_uri=args.backend_store_uri,
            artifacts_destination=args.artifacts_destination,
            host=args.host,
            port=args.port,
            workers=args.workers,
            dialect=args.dialect,
            gitlab_config=args.gitlab_config,
            gitlab_token=Settings.from_env().gitlab_token,
        )
        try:
            return serve(settings)
        except ValueError as e:
            log.error("mlflow-compat: %s", e)
            return 2
    return 2
