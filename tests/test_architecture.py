"""The layering the README's map describes, checked on the source: imports run one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SERVER = REPO / "server"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SERVER.rglob("*.py")}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The server modules `name` imports, at module level or inside functions. `from pkg import
    x` is an edge to pkg.x when that is a module, else to pkg (the implicit import of a
    submodule's parent package is not an edge of the design)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                child = f"{source}.{alias.name}"
                found.add(child if child in modules else source)
    return {m for m in found if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph`, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_the_graph_is_read(graph):
    # The walk sees the edges it is meant to judge (a parser that found none would pass).
    assert "server.compose" in graph["server.app"]
    assert "server.dialects.gitlab_rules" in graph["server.dialects.gitlab_handlers"]
    assert "server.store.base" in graph["server.store.search"]


def test_no_import_cycle_in_server(graph):
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_layers_import_one_way(graph):
    """The store knows no HTTP, handlers no dialect, and GitLab's rules module is a leaf."""
    for name, imported in graph.items():
        if name.startswith("server.store"):
            assert not {m for m in imported if not m.startswith("server.store")} - {
                "server.errors"
            }, name
        if name.startswith("server.handlers"):
            assert not any(m.startswith(("server.dialects", "server.compose")) for m in imported)
    assert {
        m for m in graph["server.dialects.gitlab_rules"] if m.startswith("server.dialects")
    } == set()
