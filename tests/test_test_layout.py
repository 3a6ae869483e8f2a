"""Test modules share helpers through support modules (tests/accounts.py, mailfactory.py,
processes.py, ...), never by importing one another: a test module is run, not used."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent

# (importer, imported) pairs still to be moved; each needs its reason.
KNOWN: set[tuple[str, str]] = set()


def imported_test_modules(path: Path) -> set[str]:
    """The test_* modules `path` imports, as `tests.test_x` or `test_x`, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == "tests" else [])
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "tests":
                parts = parts[1:]
            if parts and parts[0].startswith("test_"):
                found.add(parts[0])
    return found


def test_no_test_module_imports_another():
    pairs = {(path.stem, imported) for path in TESTS.rglob("test_*.py")
             for imported in imported_test_modules(path) if imported != path.stem}
    assert pairs - KNOWN == set()


def test_the_check_sees_each_way_of_importing(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import test_a\nimport tests.test_b as b\nfrom tests.test_c import x\nfrom test_d import y\n"
                      "from tests import test_e\nfrom tests.mailfactory import make_mail\nimport os\n"
                      "def f():\n    from tests.test_f import z\n", encoding="utf-8")
    assert imported_test_modules(sample) == {"test_a", "test_b", "test_c", "test_d", "test_e", "test_f"}


def test_the_known_exceptions_are_still_needed():
    """An exception whose import is gone is taken off the list."""
    for importer, imported in KNOWN:
        assert imported in imported_test_modules(TESTS / f"{importer}.py"), (importer, imported)
