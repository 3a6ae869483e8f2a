"""The house's floors, checked: every module imports only from its own floor or below, there
are no cycles between packages, and Textual is imported in ui/ alone.

    cli, demo            (top: the command line and the bundled demo)
    ui                   Textual screens and widgets
    desk                 helpdesk logic: priority, commands, replies, rendering to text
    sync                 engines moving mail between servers and store (IMAP sync, SMTP delivery)
    store                SQLite: schema, ingest, queries
    mail                 protocols and formats: MIME parsing, threading, IMAP, SMTP, compose
    config, secrets, sanitize   (the ground floor)

Lazy imports inside functions count as much as those at the top: a layer is about what the
code needs, not when it loads it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "tui_desk"
FLOORS = {"cli": 7, "__main__": 7, "demo": 6, "ui": 5, "desk": 4, "sync": 3, "store": 2, "mail": 1,
          "secrets": 0, "config": 0, "sanitize": 0, "__init__": 0}
GROUND = {"config", "secrets", "sanitize"}  # may import each other only downwards: secrets -> config


def room_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "tui_desk":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> list[tuple[str, str, str, int]]:
    """(file, its room, the room it imports, line) for every tui_desk import in the package."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        room = rel.parts[0].removesuffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "tui_desk"]
            for name in names:
                target = room_of(name)
                if target and target != room and not (name == "tui_desk" and node.__class__ is ast.ImportFrom):
                    out.append((str(rel), room, target, node.lineno))
    return out


def test_every_import_points_down_or_sideways_within_its_room():
    upward = [f"{f}:{line} ({room}, floor {FLOORS[room]}) imports {target} (floor {FLOORS[target]})"
              for f, room, target, line in imports() if FLOORS[target] > FLOORS[room]
              or (room in GROUND and target in GROUND and (room, target) != ("secrets", "config"))]
    assert upward == []


def test_no_cycles_between_rooms():
    edges: dict[str, set[str]] = {}
    for _, room, target, _ in imports():
        edges.setdefault(room, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False
    cycles = sorted(f"{a} -> {b} -> ... -> {a}" for a, targets in edges.items() for b in targets
                    if reaches(b, a, {b}))
    assert cycles == []


def test_textual_and_rich_only_in_ui():
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{rel}:{node.lineno} {m}" for m in mods if m.split(".")[0] == "textual"]
    assert offenders == []
