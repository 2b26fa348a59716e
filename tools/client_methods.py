"""Read spec/client-methods.yaml and the seed page's "Supported MLflow client methods" tables.

spec/client-methods.yaml holds one row per MLflow client method GitLab documents: its documented
status, version and caveats, and the operationIds of spec/mlflow-2.7.1.yaml the 2.7.1 client
calls for it. It was built from GitLab's page "MLflow client compatibility" (the seed), which
this repository carries unmodified beside it (`source.file`; see spec/SOURCES.md): `seed_path`
finds that copy, `seed_rows` parses the page's two markdown tables.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO / "spec" / "client-methods.yaml"
SEED_SECTION = "## Supported MLflow client methods and caveats"

# The seed spells one status two ways ("Yes with caveat" / "Yes with caveats").
_STATUS_SPELLINGS = {"Yes with caveats": "Yes with caveat"}


def load_document(path: str | Path | None = None) -> dict:
    """The whole client-methods document."""
    with open(path or DEFAULT_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def seed_path(path: str | Path | None = None) -> Path:
    """The repository's copy of the seed page, `source.file` next to the document."""
    document = Path(path or DEFAULT_PATH)
    return document.parent / load_document(document)["source"]["file"]


def load_methods(path: str | Path | None = None) -> list[dict]:
    """The rows (`methods`) of the client-methods document, in document order."""
    return load_document(path)["methods"]


def normalise_status(status: str) -> str:
    """A seed status in the spelling of the document's `statuses` list."""
    return _STATUS_SPELLINGS.get(status, status)


def seed_tables(seed_path: str | Path) -> list[list[tuple[str, str, str, str]]]:
    """Each markdown table of the seed's supported-methods section, as raw rows."""
    text = Path(seed_path).read_text(encoding="utf-8")
    start = text.index(SEED_SECTION) + len(SEED_SECTION)
    end = text.find("\n## ", start)
    tables: list[list[tuple[str, str, str, str]]] = []
    in_table = False
    for line in text[start : end if end != -1 else None].splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not in_table:  # header row opens a table
            tables.append([])
            in_table = True
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        method, status, version, comments = cells
        tables[-1].append((method.strip("`"), status, version, comments))
    return tables


def seed_rows(seed_path: str | Path) -> list[tuple[str, str, str, str]]:
    """(method, status, version, comments) for every row of the seed's tables, not deduplicated."""
    return [row for table in seed_tables(seed_path) for row in table]
