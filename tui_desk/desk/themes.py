"""Colour themes as TOML files, and the remembered choice.

Each file holds the fields of ``textual.theme.Theme``; this module only reads and checks them
and hands plain dicts to the UI, which builds ``Theme(**spec)`` (nothing here imports Textual).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from platformdirs import user_state_dir

from tui_desk.config import default_config_path
from tui_desk.desk.snippets import bundled_dir

COLOUR_KEYS = frozenset(
    {"primary", "secondary", "warning", "error", "success", "accent",
     "foreground", "background", "surface", "panel", "boost"}
)  # fmt: skip
BOOL_KEYS = frozenset({"dark", "ansi"})
FLOAT_KEYS = frozenset({"luminosity_spread", "text_alpha"})
THEME_KEYS = COLOUR_KEYS | BOOL_KEYS | FLOAT_KEYS | {"name", "variables"}
# What Textual's Color.parse accepts: #hex, rgb()/hsl() forms, or a colour name.
COLOUR_RE = re.compile(
    r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|(?:rgba?|hsla?)\([^()]*\)|[a-z][a-z0-9_]*"
)


class ThemeError(ValueError):
    """A theme file that cannot be used; names the file and, when known, the key."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        super().__init__(path, key, message)
        self.path, self.key, self.message = path, key, message

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else self.path
        return f"{where}: {self.message}"


def default_theme_dirs() -> list[Path]:
    """Bundled themes first, then the user's; a user theme with the same name wins."""
    bundled = bundled_dir("themes")
    return [*([bundled] if bundled else []), default_config_path().parent / "themes"]


def load_theme_specs(
    dirs: list[Path], errors: list[ThemeError] | None = None
) -> list[dict[str, Any]]:
    """Theme specs from ``*.toml`` in ``dirs``, ready for ``Theme(**spec)``.

    A bad file raises ThemeError, or, when ``errors`` is given, is skipped and appended there.
    """
    by_name: dict[str, dict[str, Any]] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                spec = parse_theme(path)
            except ThemeError as exc:
                if errors is None:
                    raise
                errors.append(exc)
            else:
                by_name[spec["name"]] = spec
    return list(by_name.values())


def parse_theme(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(where, None, f"cannot read: {exc}") from exc
    spec.setdefault("name", path.stem)
    for key, value in spec.items():
        problem = _check(key, value)
        if problem:
            raise ThemeError(where, key, problem)
    if "primary" not in spec:
        raise ThemeError(where, "primary", "missing (required)")
    return spec


def _check(key: str, value: object) -> str | None:
    """What is wrong with one entry, or None."""
    if key not in THEME_KEYS:
        return f"unknown key (allowed: {', '.join(sorted(THEME_KEYS))})"
    if key == "name":
        return None if isinstance(value, str) and value.strip() else "must be a non-empty string"
    if key in COLOUR_KEYS:
        ok: object = isinstance(value, str) and COLOUR_RE.fullmatch(value.strip())
        return None if ok else f"not a colour: {value!r}"
    if key in BOOL_KEYS:
        return None if isinstance(value, bool) else "must be true or false"
    if key in FLOAT_KEYS:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1
        return None if ok else "must be a number from 0 to 1"
    ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return None if ok else "must be a table of string values"


def state_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    root = Path(base) / "tui-desk" if base else Path(user_state_dir("tui-desk"))
    return root / "state.json"


def _read_state() -> dict[str, Any]:
    try:
        state = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no state yet, or a damaged file: start fresh rather than refuse to run
    return state if isinstance(state, dict) else {}


def remember_theme(name: str) -> None:
    """Store the chosen theme, keeping any other state in the file."""
    path = state_file()
    state = _read_state() | {"theme": name}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a crash never leaves half a file


def remembered_theme() -> str | None:
    theme = _read_state().get("theme")
    return theme if isinstance(theme, str) and theme else None
