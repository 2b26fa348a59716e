"""The suite's scenarios cover spec/client-methods.yaml: every row has a core scenario (with the
fluent API and MlflowClient where the row lists both), every caveat has a probe."""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict

import conformance
from conformance import resources


def _scenarios() -> list[tuple[str, str, str | None, str]]:
    """(function name, row, caveat or None, docstring) of every scenario of the suite."""
    found = []
    for info in pkgutil.iter_modules(conformance.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"conformance.{info.name}")
        for name, fn in vars(module).items():
            if not name.startswith("test_"):
                continue
            marks = {m.name: m.args for m in getattr(fn, "pytestmark", [])}
            assert ("row" in marks) != ("probe" in marks), f"{name}: one of row/probe"
            doc = (fn.__doc__ or "").strip()
            assert doc, f"{name} has no description (the report shows it)"
            if "row" in marks:
                found.append((name, marks["row"][0], None, doc))
            else:
                caveat = marks["probe"][0]
                found.append((name, resources.caveats()[caveat]["row"], caveat, doc))
    return found


def test_every_row_has_a_core_scenario_and_every_caveat_a_probe():
    core = defaultdict(list)
    probed = set()
    for _name, row, caveat, doc in _scenarios():
        if caveat is None:
            core[row].append(doc)
        else:
            probed.add(caveat)
    rows = resources.rows()
    assert sorted(core) == sorted(r["id"] for r in rows)
    assert probed == set(resources.caveats())


def test_rows_the_client_offers_both_ways_are_exercised_both_ways():
    docs = defaultdict(list)
    for _, row, caveat, doc in _scenarios():
        if caveat is None:
            docs[row].append(doc)
    for row in resources.rows():
        apis = row["apis"]
        if "fluent" in apis and "client" in apis:
            assert any(d.startswith("mlflow.") for d in docs[row["id"]]), row["id"]
            assert any(d.startswith("MlflowClient.") for d in docs[row["id"]]), row["id"]


def test_the_spec_files_are_the_repository_ones():
    from tools.client_methods import DEFAULT_PATH

    assert resources.client_methods() == __import__("yaml").safe_load(DEFAULT_PATH.read_text())
    assert (
        resources.OPENAPI_PATH.read_bytes()
        == (DEFAULT_PATH.parent / "mlflow-2.7.1.yaml").read_bytes()
    )
