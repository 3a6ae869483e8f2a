"""Fuzzing (issue 13): hostile and mutated mail through the parser, the sanitizer, threading and
rendering, with Hypothesis (strategies in tests/fuzz_mail.py).

Properties:
* parse_message / parse_header_block / parse_body never raise, no exception reaches their last
  line of defence (a "parser failed" record), and no string in a record holds NUL or a lone
  surrogate; a header block reads as parse_message reads it, and parse_body gives what
  parse_message gives (the sync relies on both: tests/test_parse.py checks them on the corpus).
* sanitize / sanitize_line of any text leave no ESC, C0 (but \\n \\t), DEL, C1, bidi override
  or isolate, and are idempotent; html_to_text never raises.
* Threading a set of messages in a store gives the same conversations all at once and one at
  a time in another order (tests/test_threading.py's approach), and rendering each
  conversation as `tui-desk show` does never raises and prints no control character.
* Parsed in ParsePool workers under PARSE_BUDGET, no message comes back "parse budget exceeded".

Bounded: the "ci" profile (the default, in `make test`) runs a fixed, derandomized number of
examples with no deadline (no timed assertions). `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs
many more, random, remembering failures in .hypothesis/.

Every input that ever failed is kept in tests/fuzz_corpus/ and replayed by
test_fuzz_corpus_entry: a failing example is written there (named by its hash) on Hypothesis'
final replay of it; commit it with the fix.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz_mail import HOSTILE_CHARS, any_message, message, mutated_message, mutated_structured_message
from tui_desk.desk.quoting import split_quoted
from tui_desk.mail.model import Address, Attachment, ParsedBody, ParsedMessage
from tui_desk.mail.parse import parse_body, parse_header_block, parse_message
from tui_desk.mail.threading import ticket_number
from tui_desk.sanitize import UNSAFE, cell_safe, sanitize, sanitize_line
from tui_desk.store.ingest import DUPLICATE_MARK

FUZZ_CORPUS = Path(__file__).parent / "fuzz_corpus"
# the stdlib decodes a payload with its declared charset, unicode_escape included, which warns
# about the hostile backslashes in it
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # ESC, C0 but \n \t, DEL, C1
_HEADER_FIELDS = ("message_id", "synthetic_id", "in_reply_to", "references", "sender", "to", "cc", "reply_to",
                  "date", "subject", "auto_submitted")

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                      HealthCheck.filter_too_much], print_blob=True)
settings.register_profile("ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", **_COMMON)  # random, and failures remembered in .hypothesis/
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3000"))


def examples(ci: int) -> settings:
    """ci examples in `make test`; in `make fuzz`, FUZZ_EXAMPLES for the parser's properties
    (ci=150) and as many more for the others."""
    return settings(max_examples=ci if PROFILE == "ci" else max(ci, FUZZ_EXAMPLES * ci // 150))


# --------------------------------------------------------------------------------------
# Keeping failing inputs


def _save_if_final(kind: str, payload: bytes | list[bytes]) -> Path | None:
    """On Hypothesis' final replay of a failing example, keep it in tests/fuzz_corpus/."""
    try:
        from hypothesis.control import current_build_context
        final = current_build_context().is_final
    except Exception:  # not under @given (the corpus replay): nothing new to keep
        return None
    if not final:
        return None
    blobs = payload if isinstance(payload, list) else [payload]
    FUZZ_CORPUS.mkdir(exist_ok=True)
    if kind == "thread":  # a set of messages: a folder of them
        digest = hashlib.sha256(b"\0".join(blobs)).hexdigest()[:16]
        where = FUZZ_CORPUS / f"thread-{digest}"
        where.mkdir(exist_ok=True)
        for n, blob in enumerate(blobs):
            (where / f"{n:02d}.eml").write_bytes(blob)
        return where
    for blob in blobs:
        where = FUZZ_CORPUS / f"{kind}-{hashlib.sha256(blob).hexdigest()[:16]}.{'txt' if kind == 'text' else 'eml'}"
        where.write_bytes(blob)
    return where if len(blobs) == 1 else FUZZ_CORPUS


def _keeping(kind: str, payload: bytes | list[bytes], check: Callable[[], None]) -> None:
    try:
        check()
    except BaseException as exc:
        where = _save_if_final(kind, payload)
        if where is not None:
            exc.add_note(f"failing input saved as {where.relative_to(Path(__file__).parent.parent)}")
        raise


# --------------------------------------------------------------------------------------
# Parser


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, (ParsedMessage, ParsedBody, Address, Attachment)):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))


def _assert_clean_record(record, reader: str) -> None:
    assert isinstance(record, (ParsedMessage, ParsedBody)), reader
    for s in _strings(record):
        assert "\x00" not in s, (reader, s[:200])
        assert not any("\ud800" <= c <= "\udfff" for c in s), (reader, s[:200])
    for defect in record.defects:  # our words quoting the mail's: a control in a quote would
        assert not _CONTROL.search(defect), (reader, defect)  # take our words with it
    # the readers catch everything as a last resort; reaching it means a step is not guarded
    assert not any(d.startswith("parser failed") for d in record.defects), (reader, record.defects)


def _header_block(raw: bytes) -> bytes:
    """What IMAP's BODY[HEADER] gives: up to and including the first empty line."""
    ends = [(at, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (at := raw.find(sep)) >= 0]
    if not ends:
        return raw
    at, n = min(ends)
    return raw[: at + n]


def check_parse(raw: bytes) -> None:
    whole = parse_message(raw)
    _assert_clean_record(whole, "parse_message")
    check_split(whole.text)
    head = parse_header_block(_header_block(raw))
    _assert_clean_record(head, "parse_header_block")
    got = parse_body(raw)
    _assert_clean_record(got, "parse_body")
    if head.defects:
        return  # a sync reads those whole (parse_message): no promise between the readers
    if isinstance(got, ParsedBody):
        assert (got.text, got.text_from_html, got.attachments, got.defects, got.size) == (
            whole.text, whole.text_from_html, whole.attachments, whole.defects, whole.size)
        assert [getattr(head, f) for f in _HEADER_FIELDS] == [getattr(whole, f) for f in _HEADER_FIELDS]
    else:
        assert got == whole


@examples(150)
@given(message())
def test_structured_mail_parses(raw: bytes) -> None:
    _keeping("mail", raw, lambda: check_parse(raw))


@examples(150)
@given(st.one_of(mutated_message(), mutated_structured_message()))
def test_mutated_mail_parses(raw: bytes) -> None:
    _keeping("mail", raw, lambda: check_parse(raw))


# --------------------------------------------------------------------------------------
# Sanitizer and HTML


def check_text(text: str) -> None:
    from tui_desk.mail.html_text import html_to_text
    for clean in (sanitize, sanitize_line):
        out = clean(text)
        assert not UNSAFE.search(out), (clean.__name__, out[:200])
        assert "\x1b" not in out
        assert clean(out) == out, clean.__name__
    assert "\n" not in sanitize_line(text) and "\t" not in sanitize_line(text)
    assert isinstance(html_to_text(text), str)
    check_split(text)


def check_split(text: str) -> None:
    """The conversation view's quote runs (split_quoted) give the text back, joined."""
    assert "".join(run for run, _ in split_quoted(text)) == text


hostile_strings = st.lists(st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE_CHARS),
                                     st.sampled_from(["\x1b[", "\x1b]", "\x9b", "\x9d", "\x1bP", "\x07", "\x9c",
                                                      "\x1b\\", "<p>", "&#x1b;", "\r\n", "\n> ", "\nOn Mon, Ann wrote:\n",
                                                      "\n-----Original Message-----\n", "\nFrom: x\nSent: y\n", "\r"])),
                           max_size=30).map("".join)


@examples(300)
@given(hostile_strings)
def test_sanitized_text_is_safe_and_stable(text: str) -> None:
    _keeping("text", text.encode("utf-8", "surrogatepass"), lambda: check_text(text))


# --------------------------------------------------------------------------------------
# Threading and rendering, in a store


def _assert_terminal_safe(text: str, where: str) -> None:
    bad = UNSAFE.search(text)
    assert bad is None, (where, repr(bad.group()), text[max(0, bad.start() - 200):bad.start() + 100])
    # emoji glue terminals draw at other widths than Rich counts (tui_desk.sanitize.cell_safe)
    assert cell_safe(text) == text, (where, text[:300])


async def _partition_and_render(raws: list[bytes], db: Path, batch: int | None) -> set[frozenset[str]]:
    from tests.conversations import add, partition
    from tui_desk.cli import TerminalJSON, message_json
    from tui_desk.desk.render import conversation_text
    from tui_desk.desk.service import Desk
    from tui_desk.store.queries import thread_message_ids

    desk = await Desk.open(db)
    try:
        await add(desk, raws, batch=batch)
        conv_ids = list(await thread_message_ids(desk.store))
        for conv_id in conv_ids:
            view = await desk.conversation(conv_id)  # what `tui-desk show` prints
            assert view is not None
            _assert_terminal_safe(conversation_text(view, NOW), f"show {conv_id}")
            shown = json.dumps([message_json(m) for m in view.messages], ensure_ascii=False, cls=TerminalJSON)
            _assert_terminal_safe(shown, f"show --json {conv_id}")
        for row in await desk.queue_rows(conv_ids):  # the queue's lines: one-line fields
            for name in ("customer", "customer_addr", "subject", "assignee", "tags", "reasons"):
                for s in _strings(getattr(row, name)):
                    _assert_terminal_safe(s, f"queue {name}")
                    assert "\n" not in s, (name, s)
        return await partition(desk)
    finally:
        await desk.close()


def _unnamed_duplicates(parts: set[frozenset[str]]) -> set[frozenset[str]]:
    """Two different mails with one Message-ID: the first stored keeps it and the other gets
    `<id>#dup-<hash of itself>` (store.ingest), so which one is which follows the order they came
    in; both are in the same conversation whatever the order, and that is what is compared."""
    return {frozenset(i.split(DUPLICATE_MARK)[0] + (DUPLICATE_MARK if DUPLICATE_MARK in i else "") for i in part)
            for part in parts}


def check_threads(raws: list[bytes], order: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="tui-desk-fuzz-") as tmp:
        together = asyncio.run(_partition_and_render(raws, Path(tmp) / "all.db", None))
        apart = asyncio.run(_partition_and_render([raws[i] for i in order], Path(tmp) / "one.db", 1))
    assert _unnamed_duplicates(together) == _unnamed_duplicates(apart)


@st.composite
def thread_sets(draw) -> tuple[list[bytes], list[int]]:
    raws = draw(st.lists(st.one_of(message(depth=1), mutated_message(), mutated_structured_message()),
                         min_size=2, max_size=5))
    order = draw(st.permutations(range(len(raws))))
    return raws, list(order)


def _no_ticket_markers(raws: list[bytes]) -> bool:
    # a [#N] marker joins conversation N, whose number depends on arrival order (by design)
    return all(ticket_number(parse_message(r).subject) is None for r in raws)


@examples(40)
@given(thread_sets().filter(lambda t: _no_ticket_markers(t[0])))
def test_threading_is_order_independent_and_renders_safely(case) -> None:
    raws, order = case
    _keeping("thread", raws, lambda: check_threads(raws, order))


# --------------------------------------------------------------------------------------
# The parse budget, in the worker processes


@pytest.fixture(scope="module")
def pool_runner():
    """A ParsePool (one worker, the default budget) on an event loop of its own thread, shared by
    the examples: a worker takes ~0.2 s to start."""
    from tui_desk.sync.parse_pool import ParsePool

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    pool = ParsePool(workers=1, min_parallel=1000)
    asyncio.run_coroutine_threadsafe(pool.__aenter__(), loop).result()

    async def parse(raws: list[bytes]):
        return await pool.parse(raws)

    yield lambda raws: asyncio.run_coroutine_threadsafe(parse(raws), loop).result()
    asyncio.run_coroutine_threadsafe(pool.__aexit__(None, None, None), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def check_budget(run, raws: list[bytes]) -> None:
    from tui_desk.sync.parse_pool import PARSE_BUDGET
    for raw, (record, error) in zip(raws, run(raws)):
        assert not (error or "").startswith("parse budget exceeded"), (PARSE_BUDGET, error)
        assert error is None, error
        assert record == parse_message(raw)  # the workers' record is the parser's


@examples(25)
@given(st.lists(any_message, min_size=1, max_size=6))
def test_no_parse_runs_over_the_budget(pool_runner, raws: list[bytes]) -> None:
    _keeping("budget", raws, lambda: check_budget(pool_runner, raws))


# --------------------------------------------------------------------------------------
# Every input that ever failed stays fixed


#: Corpus entries that still fail, each with why (a fix outside the parser, sanitizer or
#: threading, for the lead to decide); strict: the day one passes, it must move out of here.
KNOWN_FAILURES: dict[str, str] = {}


def _corpus_entries() -> list:
    entries = sorted(p for p in FUZZ_CORPUS.iterdir() if p.name != "README.md")
    return [pytest.param(p, id=p.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[p.name])]
                         if p.name in KNOWN_FAILURES else []) for p in entries] or [None]  # none yet: not a skip


@pytest.mark.parametrize("entry", _corpus_entries())
def test_fuzz_corpus_entry(entry: Path | None) -> None:
    if entry is None:
        assert (FUZZ_CORPUS / "README.md").is_file() and not KNOWN_FAILURES
    elif entry.name.startswith("budget-"):  # ran over the budget, or the workers read it otherwise
        from tui_desk.sync.parse_pool import parse_one
        raw = entry.read_bytes()
        record, error = asyncio.run(parse_one(raw))
        assert error is None and record == parse_message(raw)
        check_parse(raw)
    elif entry.is_dir():
        raws = [p.read_bytes() for p in sorted(entry.glob("*.eml"))]
        for raw in raws:
            check_parse(raw)
        check_threads(raws, list(reversed(range(len(raws)))))
    elif entry.suffix == ".txt":
        check_text(entry.read_bytes().decode("utf-8", "surrogatepass"))
    else:
        check_parse(entry.read_bytes())
