"""Repairs before parsing: RFC 5322 obs-syntax header lines the stdlib stops at."""

from __future__ import annotations

import re


# --------------------------------------------------------------------------------------
# Repairs before parsing


_HEADER_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+:|[ \t]")
_OBS_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]+:")
# a field name with 8-bit bytes: the leading run of non-space, non-colon bytes, then a colon.
# Matched as that run and a search in it: `[^\s:]*[\x80-\xff][^\s:]*:` backtracks
# quadratically on a long line of 8-bit bytes without a colon (an 80 KB line: a minute).
_NAME_BEFORE_COLON = re.compile(rb"([^\s:]*)[ \t]*:")
_EIGHT_BIT = re.compile(rb"[\x80-\xff]")


def _bad_name(line: bytes) -> bool:
    name = _NAME_BEFORE_COLON.match(line)
    return name is not None and _EIGHT_BIT.search(name.group(1)) is not None


def _repair_header_block(raw: bytes) -> bytes | None:
    """Fix the RFC 5322 obs-syntax header lines the stdlib stops at; None when none.

    ``Subject :`` (space before the colon) loses its spaces, a field whose name has 8-bit
    bytes is dropped. Stops at the first blank or other non-header line, like the parser.
    """
    out: list[bytes] = []
    fixed = False
    pos = 0
    limit = min(len(raw), 1 << 20)
    while pos < limit:
        nl = raw.find(b"\n", pos, limit)
        if nl < 0:
            break
        line = raw[pos : nl + 1]
        if not line.strip(b"\r\n"):
            break
        is_envelope = pos == 0 and line.startswith(b"From ")  # mbox "From " line
        if not is_envelope and not _HEADER_LINE.match(line):
            obs = _OBS_NAME.match(line)
            if obs:
                line = obs.group(1) + b":" + line[obs.end() :]
            elif _bad_name(line):
                line = b""
            else:
                break
            fixed = True
        out.append(line)
        pos = nl + 1
    return b"".join(out) + raw[pos:] if fixed else None
