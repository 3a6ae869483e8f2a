"""The user's mailcap files (RFC 1524), read as the stdlib ``mailcap`` module read them.

The stdlib module is deprecated since Python 3.11 and gone in 3.13; this reader takes its
place for :mod:`tui_desk.desk.attachments`, with the same results on the same files
(tests/test_mailcap.py compares the two where the stdlib module still exists):

* files: the ``MAILCAPS`` variable (paths joined with ``os.pathsep``) when it is set, else
  ``$HOME/.mailcap``, ``/etc/mailcap``, ``/usr/etc/mailcap``, ``/usr/local/etc/mailcap``
  (``.`` for a missing ``HOME``); missing or unreadable files are skipped;
* lines: ``#`` comments and blank lines skipped, a trailing backslash joins the next line;
  fields split at ``;`` not escaped by a backslash (escapes are kept as written), each
  stripped; the first field is the type (lower case, spaces around ``/`` removed), the second
  the view command, the others ``name=value`` or flags (``needsterminal``: value ``""``); the
  first of two fields with the same name wins; a line with fewer than two fields is skipped;
* entries are numbered across all files in reading order (``lineno``), and a lookup returns
  the entries of the exact type, then of ``type/*``, by that number.

Reading only: nothing here runs a command. Which entry may be run, and how (never through a
shell with the file name in the command line), is decided in attachments.py.

One difference: a file that is not valid UTF-8 is skipped here, where the stdlib module
raised (and attachments.py then used no mailcap at all).
"""

from __future__ import annotations

import os

__all__ = ["Caps", "getcaps", "lookup", "mailcap_files", "read_mailcap"]

#: type -> its entries; an entry maps field names to values ("view", "test", flags, "lineno")
Caps = dict[str, list[dict[str, str | int]]]


def mailcap_files() -> list[str]:
    """The mailcap files to read, in order (they need not exist)."""
    if "MAILCAPS" in os.environ:
        return os.environ["MAILCAPS"].split(os.pathsep)
    home = os.environ.get("HOME", ".")
    return [home + "/.mailcap", "/etc/mailcap", "/usr/etc/mailcap", "/usr/local/etc/mailcap"]


def getcaps(files: list[str] | None = None) -> Caps:
    """Every entry of every readable file, by lower-case type."""
    caps: Caps = {}
    lineno = 0
    for path in mailcap_files() if files is None else files:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        more, lineno = read_mailcap(text, lineno)
        for key, entries in more.items():
            caps.setdefault(key, []).extend(entries)
    return caps


def read_mailcap(text: str, lineno: int = 0) -> tuple[Caps, int]:
    """The entries of one file's text, numbered from ``lineno``; and the next number."""
    caps: Caps = {}
    pieces = text.split("\n")  # lines as readline() gives them: only "\n" ends one
    lines = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line[0] == "#" or line.strip() == "":
            continue
        nextline = line
        while nextline[-2:] == "\\\n":  # a continuation: the next line (or an empty one) joins
            nextline = lines[i] if i < len(lines) else "\n"
            i += 1
            line = line[:-2] + nextline
        key, fields = _parse_line(line)
        if not key or not fields:
            continue
        fields["lineno"] = lineno
        lineno += 1
        key = "/".join(t.strip() for t in key.split("/")).lower()
        caps.setdefault(key, []).append(fields)
    return caps, lineno


def _parse_line(line: str) -> tuple[str | None, dict[str, str | int] | None]:
    found: list[str] = []
    i, n = 0, len(line)
    while i < n:
        start = i
        while i < n and line[i] != ";":
            i += 2 if line[i] == "\\" else 1
        found.append(line[start:i].strip())
        i += 1  # the ";"
    if len(found) < 2:
        return None, None
    fields: dict[str, str | int] = {"view": found[1]}
    for field in found[2:]:
        name, eq, value = field.partition("=")
        if eq:
            name, value = name.strip(), value.strip()
        fields.setdefault(name, value)
    return found[0], fields


def lookup(caps: Caps, content_type: str) -> list[dict[str, str | int]]:
    """The entries for ``content_type`` (lower case), then for its ``type/*``, in file order."""
    entries = list(caps.get(content_type, ()))
    entries += caps.get(content_type.split("/")[0] + "/*", ())
    return sorted(entries, key=lambda e: (0, e["lineno"]) if "lineno" in e else (1, 0))
