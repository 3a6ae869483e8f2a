r"""Saved replies: Markdown files with a small front matter, filtered and filled in the composer.

A snippet file looks like::

    ---
    title: Refund issued
    tags: [billing, refund]
    ---
    Hi {{customer_first_name}}, ...

Without front matter the first line is the title (a leading Markdown heading is taken out of
the body). The file stem is the snippet's name, typed as ``::name``. Title and body are read
through the one sanitizer (tui_desk.sanitize): shown and sent as every screen shows them.

Two more front-matter keys (issue 17):

    capture: {order_number: 'order\s*#?(\d+)'}
    kb: https://help.example.com/refunds

``capture`` fills ``{{order_number}}`` from the mail being answered (``captured_values``): the
regex's first group (the whole match without a group), case-insensitive. The regex is the
user's, run on a customer's mail: a catastrophic one must not hang the desk. So the text searched
has a length budget (each line cut at CAPTURE_LINE_CHARS, at most CAPTURE_TEXT_CHARS in all), and
two shapes are refused when the file is read: a group with a quantifier inside that is itself
repeated (``(a+)+``, ``(\w+\s?)*``: exponential), and more than CAPTURE_OPEN_REPEATS open-ended
repeats (``*``, ``+``, ``{n,}``): with at most two, a search costs at most about the cube of a
line's length, which the line budget keeps to a fraction of a second.
``kb`` is an FAQ link for the questions the snippet answers (``tui-desk snippets suggest``).

``auto: true`` marks a snippet written for mail the desk sends by itself (the CSAT survey, the
automatic acknowledgement, incident mail): its placeholders (``{{csat_great}}``, ``{{incident}}``)
are filled only there, and one that could be filled ({{expected_wait}}) would promise the customer
what nobody keeps. So every agent's picker leaves them out (``for_agents``: the compose box's ``::``
and Ctrl+O, F's follow-up, the snippet pane), and an agent's ``reply --snippet`` or follow-up with
one is refused in one line (``auto_only_refusal``; desk.followup.find_snippet); rules, incidents
and ``[csat] snippet`` still find them by name.

Which snippets a reply used is read from its text (``used_snippets``), one rule for every way a
reply goes: sent at once, undone and sent again, kept as a draft and sent later.
"""

from __future__ import annotations

import functools
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from tui_desk.config import default_config_path
from tui_desk.sanitize import sanitize, sanitize_line

FENCE = "---"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
FRONT_KEYS = ("title", "tags", "capture", "kb", "auto")
CAPTURE_TEXT_CHARS = 4000  # of the customer's mail searched by a capture regex ...
CAPTURE_LINE_CHARS = 240  # ... line by line, each cut at this length
CAPTURE_PATTERN_CHARS = 200
CAPTURE_OPEN_REPEATS = 2
CAPTURE_VALUE_CHARS = 100  # a captured value longer than this is cut
_CAPTURE_ENTRY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*('(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\")\s*(?:,|$)")
# a group holding a quantifier, itself quantified: (a+)+, (\w+\s?)*, (x|y*){2,}
_ESCAPE_OR_CLASS = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]")
_OPEN_REPEAT = re.compile(r"(?<![*+?}])[*+]|\{\d*,\}")
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?<!\\)[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,)")


@dataclass(frozen=True, slots=True)
class Snippet:
    name: str  # file stem, used as ::name
    title: str
    tags: tuple[str, ...]
    body: str  # Markdown with {{placeholders}}
    path: str = ""
    capture: tuple[tuple[str, str], ...] = ()  # (placeholder, regex) filled from the customer's mail
    kb: str | None = None  # an FAQ / knowledge-base URL the snippet answers with (self-service)
    auto: bool = False  # `auto: true`: written for mail the desk sends by itself; not in the agents' picker


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
    capture: tuple[tuple[str, str], ...] = ()
    kb: str | None = None
    auto = False
    if lines[0].strip() == FENCE:
        title, tags, capture, kb, auto, body_start = _front_matter(str(path), lines)
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
    # as every screen shows it and every mail sends it: a terminal string in the file is not obeyed
    # by a picker, a preview or the compose box, and what goes is what the agent saw
    title, body = sanitize_line(title), sanitize(body).strip("\n").rstrip()
    if not body:
        raise SnippetError(str(path), 0, "snippet has no body")
    return Snippet(name=name, title=title, tags=tags, body=body, path=str(path), capture=capture, kb=kb,
                   auto=auto)


def _front_matter(path: str, lines: list[str]
                  ) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], str | None, bool, int]:
    """(title, tags, capture, kb, auto, index of the first body line); ``lines[0]`` is the opening fence."""
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
        if key not in FRONT_KEYS:
            raise SnippetError(path, i, f"unknown key {key!r} (allowed: {', '.join(FRONT_KEYS)})")
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
    capture = _capture(path, *fields["capture"]) if "capture" in fields else ()
    kb = _kb(path, *fields["kb"]) if "kb" in fields else None
    auto = _flag(path, *fields["auto"]) if "auto" in fields else False
    return fields["title"][1], tags, capture, kb, auto, i


def _flag(path: str, line: int, value: str) -> bool:
    """``true`` or ``false`` (YAML's spelling, any case)."""
    if value.lower() not in ("true", "false"):
        raise SnippetError(path, line, f"auto is true or false, not {value!r}")
    return value.lower() == "true"


def _capture(path: str, line: int, value: str) -> tuple[tuple[str, str], ...]:
    """``{name: 'regex', other: "regex"}`` (single quotes: '' is a quote; double: \\" and \\\\)."""
    if not (value.startswith("{") and value.endswith("}")):
        raise SnippetError(path, line, "capture is {placeholder: 'regex', ...}")
    inner, pos = value[1:-1].strip(), 0
    out: list[tuple[str, str]] = []
    while pos < len(inner):
        m = _CAPTURE_ENTRY.match(inner, pos)
        if m is None or m.end() == pos:
            raise SnippetError(path, line, f"capture: expected name: 'regex' at {inner[pos:pos + 20]!r}")
        name, quoted = m.group(1), m.group(2)
        pattern = (quoted[1:-1].replace("''", "'") if quoted[0] == "'" else
                   re.sub(r'\\(["\\])', r"\1", quoted[1:-1]))
        if any(name == n for n, _ in out):
            raise SnippetError(path, line, f"capture: {name} is given twice")
        _check_capture(path, line, name, pattern)
        out.append((name, pattern))
        pos = m.end()
    if not out:
        raise SnippetError(path, line, "capture is empty")
    return tuple(out)


def _check_capture(path: str, line: int, name: str, pattern: str) -> None:
    if len(pattern) > CAPTURE_PATTERN_CHARS:
        raise SnippetError(path, line, f"capture {name}: the regex is over {CAPTURE_PATTERN_CHARS} characters")
    if _NESTED_QUANTIFIER.search(pattern):
        raise SnippetError(path, line, f"capture {name}: a repeated group with a repeat inside can take"
                                       " forever on some mail; write it without the nesting")
    if len(_OPEN_REPEAT.findall(_ESCAPE_OR_CLASS.sub("x", pattern))) > CAPTURE_OPEN_REPEATS:
        raise SnippetError(path, line, f"capture {name}: more than {CAPTURE_OPEN_REPEATS} open-ended repeats"
                                       " (*, +, {n,}) can take long on some mail; bound some, e.g. \\d{1,12}")
    try:
        compiled = compiled_capture(pattern)
    except re.error as exc:
        raise SnippetError(path, line, f"capture {name}: not a regex: {exc}") from None
    if compiled.match(""):
        raise SnippetError(path, line, f"capture {name}: the regex matches nothing at all (empty text)")


def _kb(path: str, line: int, value: str) -> str:
    url = value.strip("'\"")
    if not re.fullmatch(r"https?://[^\s\"'<>]+", url):
        raise SnippetError(path, line, f"kb is an http(s) URL, not {value!r}")
    return url


@functools.lru_cache(maxsize=256)
def compiled_capture(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def captured_values(snippets: list[Snippet], body: str, mail_text: str) -> dict[str, str]:
    """The values of ``body``'s placeholders that a snippet's ``capture`` finds in ``mail_text``
    (the mail being answered), searched within the length budget (module docstring). A name
    two snippets capture: the first snippet's regex that finds it. Nothing found: no value."""
    wanted = set(placeholders(body))
    specs = [(n, p) for s in snippets for n, p in s.capture if n in wanted]
    if not specs:
        return {}
    lines = [line[:CAPTURE_LINE_CHARS] for line in mail_text[:CAPTURE_TEXT_CHARS].splitlines()]
    out: dict[str, str] = {}
    for name, pattern in specs:
        if name in out:
            continue
        compiled = compiled_capture(pattern)
        for line in lines:
            m = compiled.search(line)
            if m is None:
                continue
            found = (m.group(1) if compiled.groups else m.group(0)) or ""
            found = " ".join(found.split())[:CAPTURE_VALUE_CHARS]
            if found:
                out[name] = found
                break
    return out


def capture_names(snippets: list[Snippet]) -> list[str]:
    """The placeholders some snippet captures, each once."""
    return list(dict.fromkeys(n for s in snippets for n, _ in s.capture))


def first_name(name: str) -> str:
    """{{agent_first_name}}: the first word of a name ("alice", "Alice Smith" -> "Alice")."""
    return name.split()[0] if name.strip() else ""


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


@dataclass(frozen=True, slots=True)
class Fill:
    """One placeholder of a reply as it would be filled now (the compose box's Fills line)."""
    name: str
    value: str | None  # as the reply fills it: one line of plain text through the one sanitizer
    why: str = ""  # no value: why, and what sending does then


def fills(body: str, values: dict[str, str], captured: set[str] | frozenset[str] = frozenset()) -> list[Fill]:
    """Each placeholder of ``body`` with the value ``fill`` would put there (``values``: what the
    reply fills with), or, where ``fill`` leaves it as ``{{name}}``, why: ``captured`` are the names
    some snippet's capture looks for in the customer's mail. The desk refuses to send a reply
    with one left, so each reason says so."""
    out: list[Fill] = []
    for name in placeholders(body):
        value = values.get(name)
        if value is not None and value.strip():
            out.append(Fill(name, sanitize_line(value)))
        elif name in captured:
            out.append(Fill(name, None, "not in the customer's mail: type it; the send waits for it"))
        elif name in values:
            out.append(Fill(name, None, "empty for this conversation: type it; the send waits for it"))
        else:
            out.append(Fill(name, None, "unknown, nothing fills it: the send waits until it is replaced"))
    return out


def for_agents(snippets: list[Snippet]) -> list[Snippet]:
    """The snippets an agent may pick and send: all but the auto-only ones (module docstring).
    Every picker lists these: the compose box's ``::`` and Ctrl+O, F's follow-up, the pane."""
    return [s for s in snippets if not s.auto]


def auto_only_refusal(name: str) -> str:
    """The one line an agent's reply or follow-up with an auto-only snippet is refused with."""
    return (f"snippet '{name}' is only for mail the desk sends by itself (auto: true in its front matter): "
            "an agent's reply or follow-up cannot use it")


USED_RUN_WORDS = 4  # a snippet's text is looked for as runs of this many words ...
USED_SHARE = 0.5  # ... and counts as used while at least this share of its runs is still there
_USED_WORD = re.compile(r"\{\{\s*\w+\s*\}\}|\w+")


def _word_runs(text: str) -> list[tuple[str, ...]]:
    words = [w.replace(" ", "").casefold() for w in _USED_WORD.findall(text)]
    if len(words) < USED_RUN_WORDS:
        return [tuple(words)] if words else []
    return [tuple(words[i:i + USED_RUN_WORDS]) for i in range(len(words) - USED_RUN_WORDS + 1)]


def used_snippets(snippets: list[Snippet], text: str) -> list[str]:
    """The names of the snippets whose text ``text`` (a reply's Markdown) still holds, in the order
    they come in it: the one rule for which snippets a reply used (its history event records them;
    ``snippets stats`` and CSAT by snippet count them). It reads the text itself, so a reply sent at
    once, one undone and sent again, and a draft sent a day later all count alike, and a snippet
    whose text was deleted before sending does not. A snippet counts while at least USED_SHARE of
    its runs of USED_RUN_WORDS words (placeholders are words, Markdown marks are not) are still
    there: filled in or edited a little, it still counts. A snippet shorter than a run counts when
    its words are there in a row."""
    at: dict[tuple[str, ...], int] = {}
    words = [w.replace(" ", "").casefold() for w in _USED_WORD.findall(sanitize(text))]
    for n in range(1, USED_RUN_WORDS + 1):  # the runs of the text, and the shorter ones for short snippets
        for i in range(len(words) - n + 1):
            at.setdefault(tuple(words[i:i + n]), i)
    found: list[tuple[int, str]] = []
    for snippet in snippets:
        runs = _word_runs(sanitize(snippet.body))  # as a compose box shows it (ui.compose.BodyArea)
        here = [at[r] for r in runs if r in at]
        if runs and len(here) >= USED_SHARE * len(runs):
            found.append((min(here), snippet.name))
    return [name for _, name in sorted(found)]
