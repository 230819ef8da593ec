"""agent_tui's modules import one another one way: no cycles, read from the source (AST).

A cycle between two modules — even one only type checkers follow, under ``if TYPE_CHECKING`` — means
neither can be understood, tested or moved without the other; the dev server's participant and room
were such a pair until the participant declared what it needs of its room as a protocol. Imports inside
functions are left out on purpose: they are the deliberate lazy loads (the CLI loading a subcommand,
the wiring loading the app) that keep start-up light, and they run only after both modules exist.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.support.source_imports import PACKAGE, import_statements, module_name, source_of

MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(module: str) -> set[str]:
    """The agent_tui modules ``module`` imports at module level (a name imported from a package that is
    itself a submodule counts as that submodule)."""
    path = MODULES[module]
    found: set[str] = set()
    for node in import_statements(path, module_level_only=True):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        source = source_of(node, path)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            found.add(submodule if submodule in MODULES else source)
    return {name for name in found if name in MODULES and name != module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycles_finds_a_cycle_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_agent_tui_has_no_import_cycles() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    assert sum(len(edges) for edges in graph.values()) > 100  # the reader sees the real imports
    assert cycles(graph) == []
