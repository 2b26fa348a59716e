"""The composition root: the contract, the dialect, the store, the artifact store and the
handler table, each built once per process, in the order the architecture reads.

    spec/mlflow-2.7.1.yaml --dialect.adapt_spec--> contract --connexion--> routes + validation
    database URL --open_store(**dialect.store_options)--> store (unbound; bound per project)
    store + artifacts --dialect.handlers--> operationId -> handler

A contract operation without a handler is a refusal to start, not a 501 at run time.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from pathlib import Path

from server.artifacts import ArtifactStore, open_artifact_store
from server.contract import Contract, snake_case
from server.dialects import MlflowDialect, dialect_for
from server.settings import DIALECTS, Settings
from server.store import TrackingStore, open_store

# Runs' artifact URIs: the artifact proxy of whichever server the client talks to.
ARTIFACT_ROOT = "mlflow-artifacts:"


@dataclass(frozen=True, eq=False)
class Server:
    settings: Settings
    dialect: MlflowDialect
    contract: Contract  # the contract as the dialect serves it
    store: TrackingStore  # unbound: the dialect binds it to a project per request
    artifacts: ArtifactStore  # a local folder or an S3 bucket, by the destination's scheme
    handlers: dict[str, t.Callable]  # snake_case operationId -> handler

    def close(self) -> None:
        self.store.close()


def check_settings(settings: Settings) -> None:
    """Reject settings the server cannot honour, before binding a port."""
    if settings.dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {settings.dialect!r}; choose from {DIALECTS}")
    scheme = settings.backend_store_uri.split("://", 1)[0].split("+", 1)[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(
            f"unsupported database URL {settings.backend_store_uri!r}: "
            "use sqlite:///path.db or postgresql://user:password@host:port/database"
        )
    if not Path(settings.spec_path).is_file():
        raise ValueError(f"OpenAPI document not found at {settings.spec_path}")


def compose(settings: Settings) -> Server:
    """Everything the app serves, built from `settings`; raises ValueError on settings it
    cannot honour (a bad dialect config) and on an operation without a handler."""
    check_settings(settings)
    dialect = dialect_for(settings)
    contract = Contract.load(settings.spec_path).adapted(dialect.adapt_spec)
    store = open_store(
        settings.backend_store_uri, artifact_root=ARTIFACT_ROOT, **dialect.store_options
    )
    try:
        artifacts = open_artifact_store(settings.artifacts_destination)
        handlers = dialect.handlers(store, artifacts)
        missing = sorted(
            op.operation_id
            for op in contract.operations
            if snake_case(op.operation_id) not in handlers
        )
        if missing:
            raise ValueError(f"no handler for the operations {', '.join(missing)}")
    except BaseException:
        store.close()
        raise
    return Server(settings, dialect, contract, store, artifacts, handlers)
