"""One frozen settings object, from `serve` flags or MLFLOW_COMPAT_* environment variables."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

# server/spec links to the repository's spec/; an installed package carries a copy there.
SPEC_PATH = Path(__file__).resolve().parent / "spec" / "mlflow-2.7.1.yaml"
DIALECTS = ("mlflow", "gitlab")
ENV_PREFIX = "MLFLOW_COMPAT_"


@dataclass(frozen=True)
class Settings:
    backend_store_uri: str
    artifacts_destination: str
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    dialect: str = "mlflow"
    spec_path: str = str(SPEC_PATH)
    # GitLab dialect: the projects-and-tokens file, and/or one token (scope api, project 1).
    gitlab_config: str = ""
    gitlab_token: str = ""

    @classmethod
    def defaults(cls, cwd: Path | None = None) -> Settings:
        """The embedded default: a SQLite file and an artifact folder in the working directory."""
        cwd = Path(cwd or Path.cwd()).resolve()
        return cls(
            backend_store_uri=f"sqlite:///{cwd / 'mlflow-compat.db'}",
            artifacts_destination=str(cwd / "mlartifacts"),
        )

    def to_env(self) -> dict[str, str]:
        """Environment variables that reproduce these settings in a worker process."""
        return {ENV_PREFIX + k.upper(): str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        base = asdict(cls.defaults())
        for key, default in base.items():
            raw = environ.get(ENV_PREFIX + key.upper())
            if raw is not None:
                base[key] = type(default)(raw)
        return cls(**base)
