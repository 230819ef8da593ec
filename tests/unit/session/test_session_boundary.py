"""The Session library's boundary, read from the source (AST, nothing imported but the package itself):
``agent_tui.session`` imports nothing else from agent-tui, front ends import it only through its public
surface (``agent_tui.session`` and the fakes in ``agent_tui.session.testing``), and that surface is one list
that type checkers and the lazy loader agree on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import agent_tui.session as library
from tests.support.source_imports import PACKAGE, import_statements, source_of

LIBRARY = PACKAGE / "session"
PUBLIC_MODULES = {"agent_tui.session", "agent_tui.session.testing"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (relative imports resolved), with its line."""
    found: list[tuple[int, str]] = []
    for node in import_statements(path):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        else:
            found.append((node.lineno, source_of(node, path)))
    return found


def test_the_library_imports_nothing_else_from_agent_tui() -> None:
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for path in sorted(LIBRARY.rglob("*.py"))
        for line, name in _imports(path)
        if name.split(".")[0] == "agent_tui" and not name.startswith("agent_tui.session")
    ]
    assert outside == []


def test_front_ends_import_only_the_public_surface() -> None:
    private = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if LIBRARY not in path.parents
        for line, name in _imports(path)
        if name.startswith("agent_tui.session.") and name not in PUBLIC_MODULES
    ]
    assert private == []


def test_the_type_checkers_names_are_the_surface() -> None:
    tree = ast.parse((LIBRARY / "__init__.py").read_text())
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    typed = {
        alias.asname or alias.name
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert typed == set(library.__all__)


def test_every_public_name_resolves() -> None:
    missing = [name for name in library.__all__ if getattr(library, name, None) is None]
    assert missing == []


def test_a_light_module_does_not_load_the_rtc_sdk() -> None:
    code = (
        "import sys\n"
        "from agent_tui.session import SessionLibraryError, SessionOptions, redact\n"
        "print('livekit.rtc' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_no_public_name_is_also_a_submodule() -> None:
    # Importing agent_tui.session.X sets the package's attribute X to that module, so a public name that
    # is also a submodule's name means the function one moment and the module the next, depending on what
    # was imported first (``redact`` did this: 'module' object is not callable, in some test orders only).
    submodules = {
        path.stem for path in LIBRARY.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()
    }
    assert sorted(set(library.__all__) & submodules) == []
