"""The test tree itself: pytest imports test modules by basename (rootdir/prepend mode, which the e2e
helpers rely on for ``from e2e_harness import …``), so two test files with one name in different folders
break collection of the whole suite. Caught here, with the names, rather than as a collection error."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_module_basenames_are_unique() -> None:
    names = Counter(
        path.name for path in TESTS.rglob("*.py") if path.name not in ("conftest.py", "__init__.py")
    )
    assert [name for name, count in names.items() if count > 1] == []
