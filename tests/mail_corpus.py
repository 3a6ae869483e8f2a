"""The copied public mail corpora under tests/corpus/<name>/ (licences in each ORIGIN.md): where
they are and which of their files are messages."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"
_NOT_MESSAGES = {"LICENSE", "LICENSE.txt", "NOTICE", "NOTICE.txt", "ORIGIN.md"}
MESSAGE_FILES = sorted(
    p
    for name in ("flanker", "mail-parser", "james-mime4j", "cpython")
    for p in (CORPUS / name).rglob("*")
    if p.is_file() and p.name not in _NOT_MESSAGES and "_decoded_" not in p.name
)
