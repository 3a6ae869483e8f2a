"""Where imported mail comes from: an mbox file, a Maildir, or a folder of message files."""

from __future__ import annotations

import mailbox
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


class SourceError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RawMail:
    source: str  # where it came from, for the user: "path" or "path#n"
    data: bytes


def _is_maildir(path: Path) -> bool:
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
            if root_path.name == "tmp" and _is_maildir(root_path.parent):
                dirs.clear()  # Maildir tmp/ holds half-delivered mail
                continue
            for name in sorted(files):
                if name.startswith(".") or name in {"dovecot-uidlist", "dovecot-keywords", "maildirfolder",
                                                    "subscriptions", "dovecot-uidvalidity"}:
                    continue
                if name.startswith("dovecot.") or name.endswith((".json", ".yaml", ".yml", ".md")):
                    continue
                p = root_path / name
                yield ("mbox" if _looks_like_mbox(p) else "file"), p


def read_sources(paths: list[Path]) -> Iterator[RawMail]:
    for kind, path in _plan(paths):
        if kind == "file":
            try:
                yield RawMail(str(path), path.read_bytes())
            except OSError as e:
                raise SourceError(f"{path}: {e.strerror}") from None
        else:
            box = mailbox.mbox(path, create=False)
            try:
                for n, key in enumerate(box.iterkeys()):
                    yield RawMail(f"{path}#{n + 1}", box.get_bytes(key))
            finally:
                box.close()
