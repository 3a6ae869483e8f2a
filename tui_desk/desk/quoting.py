"""Where a reply's own words end and the quoted mail begins: a display heuristic of the
conversation view (desk/render.py), never applied to what is stored.

Moved from mail/parse.py: the parser gives the text as it came, this splits it for showing.
"""

from __future__ import annotations

import re

__all__ = ["split_quoted"]


# (how the line starts, how it ends); checked with str methods and a tail regex: linear.
_ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|написал|написала|написал\(а\)|写道|escribió|a\sécrit|schrieb[^:]*)"
    r"\s?[:：]\s*$",
    re.I,
)
_ATTRIBUTION_START = ("on ", "am ", "le ", "el ", "在")


def _is_attribution(line: str) -> bool:
    stripped = line.strip()
    m = _ATTRIBUTION_END.search(stripped[-120:])
    if not m:
        return False
    if "написал" in m.group().lower():
        return True  # Russian clients put the date and the name first, in many forms
    return stripped.lower().startswith(_ATTRIBUTION_START)


_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original\s+Message|Исходное\s+сообщение|"
    r"Ursprüngliche\s+Nachricht|"
    r"Message\s+d'origine|原始邮件)\s*-{2,}\s*$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\s*(?:From|От|Von|De|发件人)\s?[:：]\s*\S", re.I)
_OUTLOOK_NEXT = re.compile(
    r"^\s*(?:Sent|Date|Отправлено|Дата|Gesendet|Envoyé|发送时间)\s?[:：]", re.I
)
_QUOTE_LINE = re.compile(r"^[ \t]*>")


def split_quoted(text: str) -> list[tuple[str, bool]]:
    """Split a plain body into runs of (text, is_quoted).

    Quoted: lines starting with ``>``; an attribution line (``On ... wrote:``,
    ``... написал(а):``, ``在 ... 写道：``, ...) together with the quote under it; and
    everything from an ``-----Original Message-----`` line or an Outlook ``From:``/``Sent:``
    block to the end. When an ``On ... wrote:`` line is not followed by ``>`` lines
    (top-posting clients), the rest of the text is the quote. Blank lines between quoted
    lines are quoted. Runs keep their line ends: joining the texts gives ``text`` back.
    """
    if not text:
        return []
    lines = text.splitlines(keepends=True)
    n = len(lines)
    flags: list[bool | None] = [None] * n  # None: blank, decided from its neighbours
    rest_from = n
    i = 0
    while i < n:
        line = lines[i].rstrip("\r\n")
        if not line.strip():
            i += 1
            continue
        if _QUOTE_LINE.match(line):
            flags[i] = True
            i += 1
            continue
        span = _attribution_span(lines, i)
        if span:
            nxt = i + span
            while nxt < n and not lines[nxt].strip():
                nxt += 1
            for k in range(i, i + span):
                flags[k] = True
            if nxt < n and _QUOTE_LINE.match(lines[nxt]):
                i += span
                continue
            rest_from = i
            break
        if _ORIGINAL.match(line) or (
            _OUTLOOK_FROM.match(line) and i + 1 < n and _OUTLOOK_NEXT.match(lines[i + 1])
        ):
            rest_from = i
            break
        flags[i] = False
        i += 1
    for k in range(rest_from, n):
        flags[k] = True
    # A blank line is quoted when the nearest non-blank lines around it both are.
    prev: bool | None = None
    for k in range(n):
        if flags[k] is None:
            flags[k] = prev
        else:
            prev = flags[k]
    nxt_flag: bool | None = None
    for k in range(n - 1, -1, -1):
        if lines[k].strip():
            nxt_flag = flags[k]
        elif not (flags[k] and (nxt_flag is None or nxt_flag)):
            flags[k] = False
    runs: list[tuple[list[str], bool]] = []
    for line, flag in zip(lines, flags):
        quoted = bool(flag)
        if runs and runs[-1][1] == quoted:
            runs[-1][0].append(line)
        else:
            runs.append(([line], quoted))
    return [("".join(run), quoted) for run, quoted in runs]


def _attribution_span(lines: list[str], i: int) -> int:
    """1 or 2 when an attribution starts at line i (clients wrap long ones), else 0."""
    first = lines[i].rstrip("\r\n")
    if len(first) > 400:
        return 0
    if _is_attribution(first):
        return 1
    if i + 1 < len(lines):
        second = lines[i + 1].rstrip("\r\n")
        if second.strip() and len(second) < 400 and _is_attribution(first + " " + second):
            return 2
    return 0
