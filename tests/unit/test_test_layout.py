"""The test tree itself: ``tests/unit`` mirrors ``agent_tui``, so the tests of a module are found where
the module is (``agent_tui/devserver/room.py`` → ``tests/unit/devserver/``); the top level holds the
tests of top-level modules (cli, config, logging) and of the project as a whole. Test modules are
imported by path (pytest's importlib mode), so two files may share a name in different folders, and
helpers are imported as packages (``tests.support.waiting``, ``tests.e2e.e2e_harness``)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
UNIT = TESTS / "unit"
PACKAGE = TESTS.parent / "agent_tui"


def test_every_unit_test_folder_names_a_package_of_agent_tui() -> None:
    folders = sorted(p.relative_to(UNIT) for p in UNIT.rglob("*") if p.is_dir() and p.name != "__pycache__")
    assert folders, "tests/unit has sub-folders"
    assert [str(f) for f in folders if not (PACKAGE / f / "__init__.py").exists()] == []


def test_helpers_are_imported_as_packages_not_by_basename() -> None:
    helpers = {
        p.stem for p in TESTS.rglob("*.py") if not p.name.startswith(("test_", "conftest", "__init__"))
    }
    by_basename = [
        f"{path.relative_to(TESTS)}:{node.lineno} imports {node.module}"
        for path in sorted(TESTS.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in helpers
    ]
    assert by_basename == []


def test_there_is_one_wait_until() -> None:
    defined = [
        str(path.relative_to(TESTS))
        for path in sorted(TESTS.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name in ("wait_until", "until")
    ]
    assert defined == ["support/waiting.py"]
