"""agent_tui's imports read from its source (AST: nothing is imported), for the tests that check how
the package hangs together — the Session library's boundary and the import graph's lack of cycles."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "agent_tui"

ImportNode = ast.Import | ast.ImportFrom


def module_name(path: Path) -> str:
    """The dotted name of the module at ``path`` (a package's ``__init__.py`` is the package)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """The statements that run at import (or that a type checker reads there): the top level and the
    bodies of top-level ``if`` / ``try`` blocks, not functions or classes."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If | ast.Try):
            pending += node.body + node.orelse
            if isinstance(node, ast.Try):
                pending += node.finalbody + [stmt for handler in node.handlers for stmt in handler.body]


def import_statements(path: Path, *, module_level_only: bool = False) -> Iterator[ImportNode]:
    """The import statements of ``path``: all of them, or only those that run when it is imported."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = _module_level(tree) if module_level_only else ast.walk(tree)
    yield from (node for node in nodes if isinstance(node, ast.Import | ast.ImportFrom))


def source_of(node: ast.ImportFrom, path: Path) -> str:
    """The module a ``from … import`` takes its names from, a relative one resolved against ``path``."""
    if not node.level:
        return node.module or ""
    module = module_name(path)
    package = (module if path.name == "__init__.py" else module.rpartition(".")[0]).split(".")
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)
