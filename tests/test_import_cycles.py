"""Issue 14: no two files of tui_desk import each other, straight or round a loop.

tests/test_layers.py keeps the packages in floors; this keeps the files inside them one way.
Every import counts, wherever it stands: at the top, inside a function (a lazy import is still a
need), under ``if TYPE_CHECKING:`` (a type is a need too). An import is resolved to the file it
loads: ``import a.b`` and ``from a import b`` (b a module) to a/b.py, or to a/b/__init__.py when
a.b is a package; ``from a.b import name`` to a/b.py (or a/b/__init__.py); relative imports
(``from . import x``, ``from .x import y``, ``from .. import z``) from the importing file's
package. Importing a submodule is not counted as importing its parent packages' __init__.py:
the file depends on the submodule, not on what the package hands on.

One case per package of tui_desk (its own files' loops) and one for the whole tree (loops that
cross packages too). A failure names the files of each loop and the imports that tie them,
with their lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tui_desk"
ROOT = PACKAGE.parent


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> its file, for every module of ``package`` (a package by its
    __init__.py), named from the folder that holds it: tui_desk.ui.app."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported_modules(path: Path, module: str, known: set[str]) -> list[tuple[str, int]]:
    """(module of the tree, line) for every import in ``path`` (the file of ``module``) that
    loads a module of the tree, resolved as the docstring says; others are left out."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # the package a relative import starts from: the file's own for an __init__.py
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                out.append((submodule if submodule in known else source, node.lineno))
    return [(loaded, line) for name, line in out if (loaded := _known_module(name, known))]


def _known_module(name: str, known: set[str]) -> str | None:
    """The module of the tree that importing ``name`` loads last: ``name`` itself, or the
    longest known part of it (``import a.b.c`` where c is no module of a.b loads a.b)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph(package: Path = PACKAGE, tree: Path = PACKAGE) -> dict[Path, dict[Path, list[int]]]:
    """file -> {file it imports: the lines of those imports}, over the files of ``package``
    (a folder of ``tree``: its imports of other parts of the tree are left out)."""
    files = module_files(tree)
    known = set(files)
    inside = {module: path for module, path in files.items() if path.is_relative_to(package)}
    graph: dict[Path, dict[Path, list[int]]] = {}
    for module, path in inside.items():
        targets = graph.setdefault(path, {})
        for name, line in imported_modules(path, module, known):
            target = files[name]
            if target != path and target.is_relative_to(package):
                targets.setdefault(target, []).append(line)
    return graph


def cycles(graph: dict[Path, dict[Path, list[int]]]) -> list[list[Path]]:
    """The loops of the graph: each a set of two files or more that all reach each other
    (strongly connected components, Tarjan's algorithm), its files sorted; largest first."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on_stack: set[Path] = set()
    found: list[list[Path]] = []

    def visit(node: Path) -> None:
        # iterative: a deep chain of imports must not reach Python's recursion limit
        work = [(node, iter(graph.get(node, ())))]
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        while work:
            current, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(graph.get(target, ()))))
                    break
                if target in on_stack:
                    low[current] = min(low[current], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[current])
                if low[current] == index[current]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == current:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found, key=lambda c: (-len(c), c))


def describe(graph: dict[Path, dict[Path, list[int]]], loops: list[list[Path]], root: Path = ROOT) -> str:
    """Each loop's files, then the imports that tie them: a -> b (the lines in a)."""
    lines = []
    for number, loop in enumerate(loops, 1):
        members = set(loop)
        names = [str(p.relative_to(root)) for p in loop]
        lines.append(f"loop {number}: {len(loop)} files: {', '.join(names)}")
        for source in loop:
            for target, at in sorted(graph[source].items()):
                if target in members:
                    at = sorted(set(at))  # one line can import several names
                    lines.append(f"  {source.relative_to(root)} -> {target.relative_to(root)} "
                                 f"(line{'s' if len(at) > 1 else ''} {', '.join(map(str, at))})")
    return "\n".join(lines)


PACKAGES = sorted(p.parent for p in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("package", [*PACKAGES, PACKAGE], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_loops(package: Path) -> None:
    graph = import_graph(package)
    assert graph, f"no modules found under {package}"
    loops = cycles(graph)
    if loops:
        pytest.fail(f"files of {package.relative_to(ROOT)} import each other in a loop:\n{describe(graph, loops)}",
                    pytrace=False)


# --- the checker itself, on small trees of its own ------------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _edges(package: Path) -> set[tuple[str, str]]:
    """(module, module it imports) over a small tree."""
    files = module_files(package)
    return {(module, name) for module, path in files.items() for name, _ in imported_modules(path, module, set(files))}


def test_every_kind_of_import_is_resolved_to_its_file(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": (
            "from typing import TYPE_CHECKING\n"
            "import pkg.b\n"                      # a module
            "from pkg import c\n"                 # a module, from its package
            "from pkg.d import name\n"            # a name, from a module
            "from . import e\n"                   # relative, a module
            "from .sub import thing\n"            # relative, a name from a package: its __init__
            "from .sub.deep import other\n"       # relative, a module of a subpackage
            "import os\n"                         # not of the tree
            "if TYPE_CHECKING:\n"
            "    from pkg.f import F\n"           # for the type checker only: a need all the same
            "def later():\n"
            "    from pkg.g import G\n"           # inside a function
        ),
        "pkg/b.py": "", "pkg/c.py": "", "pkg/d.py": "", "pkg/f.py": "", "pkg/g.py": "",
        "pkg/e.py": "import pkg.d.nothing\n",  # no module: the longest known part of the name
        "pkg/sub/__init__.py": "from ..b import x\nfrom .. import c\n",   # relative from an __init__
        "pkg/sub/deep.py": "from .. import d\n",
    })
    edges = _edges(root / "pkg")
    assert {target for source, target in edges if source == "pkg.a"} == {
        "pkg.b", "pkg.c", "pkg.d", "pkg.e", "pkg.sub", "pkg.sub.deep", "pkg.f", "pkg.g"}
    assert {target for source, target in edges if source == "pkg.sub"} == {"pkg.b", "pkg.c"}
    assert {target for source, target in edges if source == "pkg.sub.deep"} == {"pkg.d"}
    assert {target for source, target in edges if source == "pkg.e"} == {"pkg.d"}


def test_loops_are_found_and_chains_are_not() -> None:
    a, b, c, d, e = (Path(f"/x/{n}.py") for n in "abcde")
    graph = {a: {b: [1]}, b: {c: [2]}, c: {a: [3]}, d: {e: [1]}, e: {d: [9], a: [4]}}
    assert cycles(graph) == [[a, b, c], [d, e]]
    assert cycles({a: {b: [1]}, b: {c: [1]}, c: {}}) == []  # a chain is no loop


def test_a_loop_through_a_lazy_and_a_type_only_import_is_a_loop(tmp_path: Path) -> None:
    package = _tree(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/screen.py": "def open():\n    from pkg.app import App\n",
        "pkg/app.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.screen import open\n",
        "pkg/other.py": "import pkg.app\n",
    }) / "pkg"
    graph = import_graph(package, tree=package)
    loops = cycles(graph)
    assert loops == [[package / "app.py", package / "screen.py"]]
    assert describe(graph, loops, root=tmp_path).splitlines() == [
        "loop 1: 2 files: pkg/app.py, pkg/screen.py",
        "  pkg/app.py -> pkg/screen.py (line 3)",
        "  pkg/screen.py -> pkg/app.py (line 2)",
    ]
