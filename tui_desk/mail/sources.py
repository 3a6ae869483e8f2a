"""Where imported mail comes from: an mbox file, a Maildir, or a folder of message files."""

from __future__ import annotations

import calendar
import mailbox
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


class SourceError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RawMail:
    source: str  # where it came from, for the user: "path" or "path#n"
    data: bytes
    # when it arrived (unix seconds; None: unknown) and how we know: the store falls back to
    # it when the Date field is missing or not believable
    arrived: int | None = None
    arrived_by: str = ""
    whole_file: bool = False  # a file of its own (not one message of an mbox): the importer checks it is mail


_MONTHS = {m.lower(): n for n, m in enumerate(calendar.month_abbr) if m}
# "From ann@x Sat Jan  3 01:05:34 1996" (asctime; some writers put a zone before the year)
_FROM_LINE_DATE = re.compile(
    rb"([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:[A-Z]{2,5}\s+|[+-]\d{4}\s+)?(\d{4})\b")


def from_line_date(line: bytes) -> int | None:
    """The date of an mbox From_ line, as UTC unix seconds; None when it has none."""
    for m in _FROM_LINE_DATE.finditer(line[:200]):
        month = _MONTHS.get(m.group(1).decode("ascii").lower())
        if month is None:
            continue
        try:
            return calendar.timegm((int(m.group(6)), month, int(m.group(2)), int(m.group(3)),
                                    int(m.group(4)), int(m.group(5) or 0), 0, 0, 0))
        except (ValueError, OverflowError):
            return None
    return None


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _looks_like_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def _plan(paths: list[Path]) -> Iterator[tuple[str, Path]]:
    for path in paths:
        if not path.exists():
            raise SourceError(f"{path}: no such file or directory")
        if path.is_file():
            yield ("mbox" if _looks_like_mbox(path) else "file"), path
            continue
        for root, dirs, files in os.walk(path):
            dirs.sort()
            root_path = Path(root)
            if root_path.name == "tmp" and is_maildir(root_path.parent):
                dirs.clear()  # Maildir tmp/ holds half-delivered mail
                continue
            for name in sorted(files):
                if name.startswith(".") or name in {"dovecot-uidlist", "dovecot-keywords", "maildirfolder",
                                                    "subscriptions", "dovecot-uidvalidity", "maildirsize"}:
                    continue
                # (courier: courierimapuiddb, courierimapsubscribed, ... beside a Maildir's folders)
                if name.startswith(("dovecot.", "courier")) or name.endswith((".json", ".yaml", ".yml", ".md")):
                    continue
                p = root_path / name
                yield ("mbox" if _looks_like_mbox(p) else "file"), p


def read_sources(paths: list[Path]) -> Iterator[RawMail]:
    for kind, path in _plan(paths):
        if kind == "file":
            try:
                data = path.read_bytes()
                mtime = int(path.stat().st_mtime)
            except OSError as e:
                raise SourceError(f"{path}: {e.strerror}") from None
            # every file, an empty one too: the importer says which are not mail (desk.importer)
            yield RawMail(str(path), data, mtime, "the file's modification time", whole_file=True)
        else:
            box = mailbox.mbox(path, create=False)
            try:
                for n, key in enumerate(box.iterkeys()):
                    with box.get_file(key, from_=True) as f:
                        arrived = from_line_date(f.readline())
                    yield RawMail(f"{path}#{n + 1}", box.get_bytes(key), arrived,
                                  "the mbox From_ line date" if arrived is not None else "")
            finally:
                box.close()
