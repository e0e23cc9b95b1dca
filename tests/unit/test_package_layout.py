"""The package's layout holds: every module imports, and the sub-packages (reference, ingest,
warehouse, quality, reporting, orchestration, ui, samples, cli) import one another without a
cycle, so each can be read — and changed — knowing only those below it."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import poverty_pipeline

PACKAGE = Path(poverty_pipeline.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE)], "poverty_pipeline."))


def test_every_module_imports():
    failed = {}
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # every failure named, not only the first
            failed[name] = repr(exc)
    assert len(MODULES) > 50 and failed == {}


def part_of(module: str) -> str | None:
    """The sub-package (or top-level module) a dotted name of the package lies in."""
    parts = module.split(".")
    return parts[1] if parts[0] == "poverty_pipeline" and len(parts) > 1 else None


def imports_between_parts() -> dict[str, set[str]]:
    """part → the other parts it imports, at module level or inside a function."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        here = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        targets = graph.setdefault(here, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                names = names if node.module != "poverty_pipeline" else names[1:]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            targets |= {p for n in names if (p := part_of(n)) and p != here}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the path around it, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_sub_packages_import_one_another_without_a_cycle():
    graph = imports_between_parts()
    assert {"reference", "ingest", "warehouse", "quality", "reporting", "orchestration", "cli"} <= set(graph)
    assert cycle(graph) is None


def test_a_cycle_is_found():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
