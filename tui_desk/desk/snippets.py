"""Saved replies: Markdown files with a small front matter, filtered and filled in the composer.

A snippet file looks like::

    ---
    title: Refund issued
    tags: [billing, refund]
    ---
    Hi {{customer_first_name}}, ...

Without front matter the first line is the title (a leading Markdown heading is taken out of
the body). The file stem is the snippet's name, typed as ``::name``.
"""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path

from tui_desk.config import default_config_path
from tui_desk.desk.views import Snippet

FENCE = "---"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class SnippetError(ValueError):
    """A snippet file that cannot be used; ``str()`` reads ``path:line: message``."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line  # 1-based; 0 when the problem is the whole file
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def bundled_dir(kind: str) -> Path | None:
    """Folder of files shipped with the app (``snippets``, ``themes``), or None.

    The repository's top-level folder is the source of truth (editable install, ``tui-desk
    demo``). A non-editable install can ship the same files as data files under
    ``<prefix>/share/tui-desk/<kind>``, which is looked at second.
    """
    checkout = Path(__file__).resolve().parents[2]
    candidates = (
        # Only a source checkout: an installed package's parents[2] is site-packages.
        *([checkout / kind] if (checkout / "pyproject.toml").is_file() else []),
        Path(sysconfig.get_path("data")) / "share" / "tui-desk" / kind,
    )
    return next((p for p in candidates if p.is_dir()), None)


def default_snippet_dirs() -> list[Path]:
    """Bundled snippets first, then the user's; a user file with the same name wins."""
    bundled = bundled_dir("snippets")
    return [*([bundled] if bundled else []), default_config_path().parent / "snippets"]


def load_snippets(dirs: list[Path]) -> tuple[list[Snippet], list[SnippetError]]:
    """All ``*.md`` snippets in ``dirs`` (missing dirs are fine), sorted by name.

    A broken file is skipped and reported in the error list; it never hides the others.
    """
    by_name: dict[str, Snippet] = {}
    errors: list[SnippetError] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.md")):
            try:
                snippet = parse_snippet(path)
            except SnippetError as exc:
                errors.append(exc)
            else:
                by_name[snippet.name] = snippet
    return sorted(by_name.values(), key=lambda s: s.name), errors


def parse_snippet(path: Path) -> Snippet:
    name = path.stem
    if not NAME_RE.fullmatch(name):
        raise SnippetError(str(path), 0, "file name must be a short slug (letters, digits, - or _)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnippetError(str(path), 0, f"cannot read: {exc}") from exc
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[0].strip() == FENCE:
        title, tags, body_start = _front_matter(str(path), lines)
        body = "\n".join(lines[body_start:]).strip("\n").rstrip()
    else:
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            raise SnippetError(str(path), 0, "empty snippet")
        title, tags = lines[first].strip(), ()
        body = text.strip()
        if title.startswith("#"):
            title = title.lstrip("#").strip()
            body = "\n".join(lines[first + 1 :]).strip()
    if not body:
        raise SnippetError(str(path), 0, "snippet has no body")
    return Snippet(name=name, title=title, tags=tags, body=body, path=str(path))


def _front_matter(path: str, lines: list[str]) -> tuple[str, tuple[str, ...], int]:
    """(title, tags, index of the first body line); ``lines[0]`` is the opening fence."""
    fields: dict[str, tuple[int, str]] = {}
    for i, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if line == FENCE:
            break
        if not line:
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if not sep:
            raise SnippetError(path, i, f"expected 'key: value', got {line!r}")
        if key not in ("title", "tags"):
            raise SnippetError(path, i, f"unknown key {key!r} (allowed: title, tags)")
        if key in fields:
            raise SnippetError(path, i, f"duplicate key {key!r}")
        if key == "title" and not value:
            raise SnippetError(path, i, "empty title")
        fields[key] = (i, value)
    else:
        raise SnippetError(path, 1, "front matter is not closed with '---'")
    if "title" not in fields:
        raise SnippetError(path, 1, "front matter has no title")
    tags = _tags(path, *fields["tags"]) if "tags" in fields else ()
    return fields["title"][1], tags, i


def _tags(path: str, line: int, value: str) -> tuple[str, ...]:
    """``[a, b]`` or ``a, b``."""
    if value.startswith("[") != value.endswith("]"):
        raise SnippetError(path, line, f"unbalanced brackets in tags: {value!r}")
    inner = value[1:-1] if value.startswith("[") else value
    tags = tuple(t.strip() for t in inner.split(",")) if inner.strip() else ()
    bad = [t for t in tags if not t or any(c in t for c in "[]{}:\"'")]
    if bad:
        raise SnippetError(path, line, f"bad tag in {value!r}")
    return tags


def filter_snippets(snippets: list[Snippet], text: str) -> list[Snippet]:
    """Snippets matching ``text`` (case-insensitive), best first.

    Order: name prefix, title prefix, name/title substring, tag prefix, body substring, then
    snippets containing every word of ``text`` somewhere. Ties keep the input order.
    """
    query = text.strip().casefold()
    if not query:
        return list(snippets)
    words = query.split()

    def rank(s: Snippet) -> int | None:
        name, title = s.name.casefold(), s.title.casefold()
        tags = [t.casefold() for t in s.tags]
        body = s.body.casefold()
        if name.startswith(query):
            return 0
        if title.startswith(query):
            return 1
        if query in name or query in title:
            return 2
        if any(t.startswith(query) for t in tags):
            return 3
        if query in body:
            return 4
        haystack = " ".join([name, title, *tags, body])
        return 5 if all(w in haystack for w in words) else None

    ranked = [(r, i, s) for i, s in enumerate(snippets) if (r := rank(s)) is not None]
    return [s for _, _, s in sorted(ranked, key=lambda t: (t[0], t[1]))]


def placeholders(body: str) -> list[str]:
    """Placeholder names in ``body``, each once, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER_RE.findall(body)))


def fill(body: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """(filled text, placeholders left unfilled).

    Unknown or empty values stay visible as ``{{name}}`` so nothing is silently dropped from
    a reply; values are inserted verbatim (a value containing ``{{x}}`` is not expanded).
    """
    missing: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        value = values.get(key)
        if value is None or not value.strip():
            missing[key] = None
            return "{{" + key + "}}"
        return value

    return PLACEHOLDER_RE.sub(replace, body), list(missing)
