"""What came from one customer, made general: the one rule for a text that will speak for many
conversations (a snippet draft of `tui-desk snippets suggest`, a frequent question's label).

Pure, no IO. Taken out, in this order, each span once:
- links with a token (a query, a fragment, a run of 3+ digits or a 16+ character piece):
  ``fill_link``; a plain link (https://help.example/refunds) stays;
- e-mail addresses: ``fill_email`` (the team's own, ``is_ours``, stay);
- what a capture rule of the snippets finds (``capture: {order_id: '...'}``), when the value
  holds a run of 3+ digits: that rule's placeholder ({{order_id}}), filled by the desk from the
  mail being answered;
- dates (2026-11-24, 24.11.2026, November 24, 2026, 24 ноября 2026 г., 2026年11月24日): ``fill_date``;
- amounts with a currency ($129.99, 4 500 ₽, ¥299, 12 EUR): ``fill_amount``;
- phone numbers (7+ digits with a + or separators): ``fill_phone``;
- any other run of 3+ digits: a token with letters (INV-36129) ``fill_id``, digits alone
  ``fill_number``;
- names: the first customer's full name ``customer_name``, first name ``customer_first_name``,
  other customers' names and name parts (a last name) ``fill_name``; the agent's name
  ``agent_name``, first name ``agent_first_name``.

A ``fill_*`` placeholder has no value anywhere, so the desk refuses to send a reply that still
holds one ("fill these before sending"): the agent writes this customer's value in its place.
``mark`` says how a placeholder is written: ``{{name}}`` by default; a label (``label``) shows
``…`` (Refund for order #…).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

_MONTHS_EN = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
              "|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTHS_RU = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_NUMBER = r"\d{1,3}(?:[ \u00a0,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY_SIGN = r"US\$|[$€£¥₽₹]"
_CURRENCY_WORD = (r"(?:usd|eur|gbp|rub|cny|jpy|rmb|dollars?|euros?|руб(?:лей|ля|ль)?\.?|р\.|рублей)(?![^\W\d_])"
                  r"|元|円|块|美元|欧元")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"

LINK_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DATE_RE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    r"|(?:\d{2,4}年)?\d{1,2}月\d{1,2}[日号]|\d{4}年"
    rf"|(?<![^\W\d_])(?:{_ORDINAL}\s+(?:of\s+)?(?:{_MONTHS_EN})\.?(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTHS_EN})\.?\s+{_ORDINAL}(?:,?\s+\d{{4}})?)(?![^\W\d_])"
    rf"|\d{{1,2}}\s+(?:{_MONTHS_RU})(?:\s+\d{{4}}(?:\s*г\.?)?)?",
    re.IGNORECASE)
AMOUNT_RE = re.compile(rf"(?:{_CURRENCY_SIGN})\s?(?:{_NUMBER})|(?:{_NUMBER})\s?(?:{_CURRENCY_SIGN}|{_CURRENCY_WORD})",
                       re.IGNORECASE)
PHONE_RE = re.compile(r"(?<![\w+])\+?\(?\d[\d \u00a0().-]{5,20}\d(?!\w)")
ID_RE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]*\d{3,}[A-Za-z0-9_-]*|\d{3,}")
_DIGIT_RUN = re.compile(r"\d{3,}")
_TOKEN_PIECE = re.compile(r"[A-Za-z0-9_-]{16,}")
_CJK_RE = re.compile("[" + _CJK + "]")
_CJK_ADDRESS = "\u2060"  # after a surname in _names: it is only a name before a form of address
_CJK_ADDRESS_RE = "(?=您|你|先生|女士|小姐|老师)"
_SENTINEL = 0xE000  # placeholders wait as private-use characters while the other rules run
_SENTINEL_RE = re.compile("[\ue000-\uf8ff]")


@dataclass(frozen=True, slots=True)
class Generalised:
    text: str
    placeholders: tuple[str, ...]  # as placed, each once, in order of first use
    captures: tuple[tuple[str, str], ...]  # the capture rules (name, regex) of the placeholders they fill


def braces(name: str) -> str:
    return "{{" + name + "}}"


def generalise(text: str, *, customers: Sequence[str] = (), agent: str = "",
               captures: Iterable[tuple[str, str]] = (), is_ours: Callable[[str], bool] | None = None,
               mark: Callable[[str], str] = braces) -> Generalised:
    """``text`` without what came from one customer (module docstring). ``customers``: the names
    of the source conversation's customers, the one answered first; ``agent``: who wrote it."""
    placed: list[str] = []

    def hold(name: str) -> str:
        placed.append(name)
        return chr(_SENTINEL + len(placed) - 1)

    def sub(pattern: re.Pattern[str], name: Callable[[str], str | None], within: str) -> str:
        def one(m: re.Match[str]) -> str:
            found = name(m.group(0))
            return m.group(0) if found is None else hold(found)
        return pattern.sub(one, within)

    out = _SENTINEL_RE.sub("", text)
    out = sub(LINK_RE, _link, out)
    out = sub(EMAIL_RE, lambda a: None if is_ours is not None and is_ours(a) else "fill_email", out)
    used: list[tuple[str, str]] = []
    for name, pattern in captures:
        out, hit = _captured(out, name, pattern, hold)
        if hit and (name, pattern) not in used:
            used.append((name, pattern))
    out = sub(DATE_RE, lambda _: "fill_date", out)
    out = sub(AMOUNT_RE, lambda _: "fill_amount", out)
    out = sub(PHONE_RE, lambda p: "fill_phone" if sum(c.isdigit() for c in p) >= 7 and not p.isdigit() else None, out)
    out = sub(ID_RE, lambda t: "fill_number" if t.isdigit() else "fill_id", out)
    for name, placeholder in _names(customers, agent):
        out = sub(_name_re(name), functools.partial(_same, placeholder), out)
    order = list(dict.fromkeys(placed[ord(c) - _SENTINEL] for c in _SENTINEL_RE.findall(out)))
    out = _SENTINEL_RE.sub(lambda m: mark(placed[ord(m.group(0)) - _SENTINEL]), out)
    kept = tuple((n, p) for n, p in used if n in order)
    return Generalised(out, tuple(order), kept)


def _same(placeholder: str, _found: str) -> str:
    return placeholder


def label(text: str, customers: Sequence[str] = ()) -> str:
    """A text read as a label (a question, a snippet's title): each placeholder shown as …."""
    return generalise(text, customers=customers, mark=lambda _: "…").text


def _link(url: str) -> str | None:
    url = url.rstrip(".,;:!?)]}>")
    rest = url.split("://", 1)[-1]
    path = rest.partition("/")[2]
    if "?" in rest or "#" in rest or _DIGIT_RUN.search(path) or _TOKEN_PIECE.search(path):
        return "fill_link"
    return None


def _captured(text: str, name: str, pattern: str, hold: Callable[[str], str]) -> tuple[str, bool]:
    """``text`` with the values a capture rule finds (holding 3+ digits) held as its placeholder."""
    from tui_desk.desk.snippets import CAPTURE_LINE_CHARS, compiled_capture
    compiled = compiled_capture(pattern)
    lines, hit = [], False
    for line in text.split("\n"):
        pieces, at = [], 0
        for m in compiled.finditer(line[:CAPTURE_LINE_CHARS]):
            group = 1 if compiled.groups else 0
            start, end = m.span(group)
            if start < 0 or not _DIGIT_RUN.search(m.group(group)):
                continue
            pieces += [line[at:start], hold(name)]
            at, hit = end, True
        lines.append("".join(pieces) + line[at:])
    return "\n".join(lines), hit


def _names(customers: Sequence[str], agent: str) -> list[tuple[str, str]]:
    """(name, placeholder), longest first: a full name before its parts."""
    out: dict[str, str] = {}
    agent_words = agent.split()
    if agent_words:
        out.setdefault(" ".join(agent_words), "agent_name")
        out.setdefault(agent_words[0], "agent_first_name" if len(agent_words) > 1 else "agent_name")
    for i, customer in enumerate(customers):
        words = customer.split()
        if not words:
            continue
        if i == 0:
            out.setdefault(words[0], "customer_first_name")
            out.setdefault(" ".join(words), "customer_name" if len(words) > 1 else "customer_first_name")
        else:
            out.setdefault(" ".join(words), "fill_name")
        for word in words[1:]:
            out.setdefault(word, "fill_name")
        if i == 0 and len(words) == 1 and _CJK_RE.match(words[0]) and len(words[0]) in (2, 3):
            # a Chinese name's surname alone, as a greeting uses it (王先生, 王您好)
            out.setdefault(words[0][0] + _CJK_ADDRESS, "customer_first_name")
    found = [(n, p) for n, p in out.items() if len(n) > 1]
    return sorted(found, key=lambda np: -len(np[0].replace(_CJK_ADDRESS, "")))


@functools.lru_cache(maxsize=256)
def _name_re(name: str) -> re.Pattern[str]:
    """A name as a whole word; in Chinese or Japanese text, where words touch, anywhere."""
    if name.endswith(_CJK_ADDRESS):
        return re.compile(re.escape(name[:-1]) + _CJK_ADDRESS_RE)
    if _CJK_RE.search(name):
        return re.compile(re.escape(name))
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
