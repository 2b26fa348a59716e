"""The repository stands alone: what it reads, it carries.

A user's clone has nothing beside it, so no code, test, tool or CI script may reach for a folder
next to the repository; the pages the spec was built from live in spec/, with their provenance.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
import yaml

from tools.client_methods import DEFAULT_PATH, load_document, seed_path

REPO = Path(__file__).resolve().parent.parent
CHECKED = ("server", "conformance", "tests", "tools", ".ci")
# The sibling folder a development checkout may have beside it; spelt in parts so that this file
# does not name it in the forms it looks for.
SIBLING = "sha" + "red"
OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./" + SIBLING,  # ../<sibling>
            r"\.\.[\"']\)?\s*[/,]\s*[\"']" + SIBLING,  # ".." / "<sibling>", "..", "<sibling>"
        ]
    )
)


def _files() -> list[Path]:
    found = []
    for top in CHECKED:
        for folder, dirs, names in os.walk(REPO / top):  # links (conformance/spec) not followed
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            found += [Path(folder) / n for n in names if not n.endswith((".pyc", ".pyo"))]
    return found


@pytest.mark.parametrize(
    "text",
    [
        f'SEED = REPO / ".." / "{SIBLING}" / "seed"',
        f"os.path.join(REPO, '..', '{SIBLING}', 'seed')",
        f"cat ../{SIBLING}/seed/page.txt",
        f'Path("..")/"{SIBLING}"',
    ],
)
def test_the_pattern_finds_each_way_of_naming_the_sibling_folder(text):
    assert OUTSIDE.search(text)


@pytest.mark.parametrize("text", ['name = unique("shared-name")', "a shared fixture", "../spec"])
def test_the_pattern_leaves_other_text_alone(text):
    assert not OUTSIDE.search(text)


def test_nothing_refers_to_a_folder_beside_the_repository():
    files = _files()
    assert any(p.name == "run" and p.parent.name == ".ci" for p in files)
    assert len(files) > 100
    offenders = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_seed_page_is_in_spec_with_its_provenance():
    source = load_document()["source"]
    page = seed_path()
    assert page.parent == DEFAULT_PATH.parent == REPO / "spec"
    assert page.name == "gitlab-mlflow-client-compatibility.md"
    front_matter = yaml.safe_load(page.read_text(encoding="utf-8").split("---\n")[1])
    assert front_matter["title"] == source["title"] == "MLflow client compatibility"
    assert source["url"] == (
        "https://docs.gitlab.com/user/project/ml/experiment_tracking/mlflow_client/"
    )
    assert source["path"] == "doc/user/project/ml/experiment_tracking/mlflow_client.md"
    assert source["copied"] == "2026-12-02"
    assert source["licence"].startswith("CC BY-SA 4.0")
    sources = (REPO / "spec" / "SOURCES.md").read_text(encoding="utf-8")
    for fact in (page.name, source["url"], source["path"], "2026-12-02", "CC BY-SA 4.0"):
        assert fact in sources, fact


def _imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_conformance_package_imports_nothing_of_the_rest_of_the_repository():
    """conformance/ ships in the wheel without tools/ and tests/, and judges any server over HTTP:
    it starts the reference server as a process (`python -m server`), never imports it."""
    files = sorted((REPO / "conformance").rglob("*.py"))
    assert REPO / "conformance" / "fuzz" / "harness.py" in files
    imports = {path: _imported_modules(path) for path in files}
    assert "conformance.process" in imports[REPO / "conformance" / "target.py"]
    offenders = {
        f"{path.relative_to(REPO)}: {module}"
        for path, modules in imports.items()
        for module in modules
        if module.split(".")[0] in ("server", "tools", "tests")
    }
    assert not offenders, sorted(offenders)
