"""Hostile mail never stops intake (issue 13): the parser finishes on every pathological
shape and keeps what it can read; whatever still hangs costs a bounded time per message.

pytest-timeout is the guard here: these tests check that things finish, never how fast."""

from __future__ import annotations

import pytest

from hostile_mail import folding_trap, head, pathological, terminal_senders
from tui_desk.mail.model import ParsedMessage
from tui_desk.mail.parse import attachment_payloads, parse_body, parse_header_block, parse_message
from tui_desk.sanitize import UNSAFE, sanitize

PATHOLOGICAL = list(pathological())
TERMINAL_SENDERS = list(terminal_senders())


def _strings(msg: ParsedMessage) -> list[str]:
    out = [msg.message_id, msg.subject, msg.text, *msg.references, *msg.defects]
    for addr in [msg.sender, *msg.to, *msg.cc, *msg.reply_to]:
        if addr is not None:
            out += [addr.name, addr.addr]
    for att in msg.attachments:
        out += [att.filename, att.content_type, att.part_path]
    return out


@pytest.mark.timeout(20)
def test_the_folding_trap_is_read_without_re_serialising() -> None:
    """The attached message's size and content come from the raw bytes, never from the
    stdlib's generator, whose header folding loops forever on this message."""
    raw = folding_trap()
    msg = parse_message(raw)
    assert msg.message_id == "hostile-fold@customer.test" and msg.subject == "hostile fold"
    (att,) = msg.attachments
    assert att.content_type == "message/rfc822" and att.size > 0
    ((_, data),) = attachment_payloads(raw)
    assert len(data) == att.size and b"inner text" in data and b'"bbbb bbbb' in data
    assert parse_message(data).text == "inner text"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name, raw", PATHOLOGICAL, ids=[n for n, _ in PATHOLOGICAL])
def test_pathological_mail_is_read_and_keeps_its_header_fields(name: str, raw: bytes) -> None:
    for reader in (parse_message, parse_header_block, parse_body):
        reader(raw)
    attachment_payloads(raw)
    msg = parse_message(raw)
    assert not msg.synthetic_id or "Message-ID" in name, msg.defects
    if "Message-ID" not in name:
        assert msg.message_id.startswith("hostile-")
    if "From" not in name:
        assert msg.sender is not None and msg.sender.addr.startswith("sender"), msg.defects
    if "Subject" not in name and "encoded-word" not in name:
        assert msg.subject.startswith("hostile "), msg.defects
    if "Date" not in name:
        assert msg.date is not None, msg.defects
    assert not any("parser failed" in d for d in msg.defects), msg.defects
    for s in _strings(msg):
        assert "\x00" not in s


@pytest.mark.parametrize("name, raw, shown", TERMINAL_SENDERS, ids=[n for n, _, _ in TERMINAL_SENDERS])
def test_a_from_with_terminal_controls_keeps_its_address_and_reads_clean(name: str, raw: bytes, shown: str | None) -> None:
    """The address is kept (the conversation can be answered), the name is the words without
    the controls, and the defect saying so reads whole once sanitized: the sanitizer takes
    nothing out of it (a quoted ESC once swallowed the defect's own words)."""
    for reader in (parse_message, parse_header_block):
        msg = reader(raw)
        assert msg.sender is not None and msg.sender.addr == "evil@bad.example", (msg.sender, msg.defects)
        assert not UNSAFE.search(msg.sender.name), msg.sender
        if shown is not None:
            assert msg.sender.name == shown, msg.sender
        assert any(d.startswith("From:") for d in msg.defects), msg.defects
        for defect in msg.defects:
            assert sanitize(defect) == defect, msg.defects


@pytest.mark.parametrize("header", [b"Content-Type: text/plain; a*", b"Content-Type: text/plain; " + b"(" * 400,
                                    b"Content-Disposition: attachment; filename*"])
def test_one_bad_header_gets_a_defect_and_the_rest_survives(header: bytes) -> None:
    raw = head(1) + header + b"\r\n\r\nthe body\r\n"
    msg = parse_message(raw)
    assert (msg.message_id, msg.subject, msg.sender.addr) == (
        "hostile-1@customer.test", "hostile 1", "sender1@customer.test")
    assert msg.text == "the body"
    assert not any("parser failed" in d for d in msg.defects)


def test_an_unreadable_content_type_is_named_in_the_defects() -> None:
    msg = parse_message(head(1) + b"Content-Type: text/plain; a*\r\n\r\nthe body\r\n")
    assert any("Content-Type" in d for d in msg.defects), msg.defects


def test_when_the_parser_fails_anyway_the_plain_header_scan_keeps_the_fields(monkeypatch) -> None:
    from tui_desk.mail.parse import entry  # where parse_message looks _read (and its quick route) up

    def broken(*args, **kwargs):
        raise RuntimeError("a parser bug")
    monkeypatch.setattr(entry, "_read", broken)
    monkeypatch.setattr(entry, "_read_quick", broken)  # (its failure sends the mail to _read)
    raw = head(1) + b"Content-Type: text/plain\r\n\r\nthe body\r\n"
    for reader in (parse_message, parse_header_block):
        msg = reader(raw)
        assert (msg.message_id, msg.synthetic_id, msg.subject, msg.sender.addr, msg.date.year) == (
            "hostile-1@customer.test", False, "hostile 1", "sender1@customer.test", 2026)
        assert msg.defects == ["parser failed: RuntimeError: a parser bug"]
    assert parse_message(b"no header at all").synthetic_id


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "raw_unicode_escape", "unicode_escape",
                                     "rot13", "rot_13", "zlib", "base64_codec", "hex", "uu", "bz2", "quopri"])
def test_codecs_that_are_not_text_encodings_are_refused(charset: str) -> None:
    raw = head(1) + f"Content-Type: text/plain; charset={charset}\r\n\r\nplain words \\u0041\r\n".encode()
    msg = parse_message(raw)
    assert msg.message_id == "hostile-1@customer.test" and msg.subject == "hostile 1"
    assert msg.text == "plain words \\u0041"  # not decoded by the codec
    assert any(charset in d for d in msg.defects), msg.defects


@pytest.mark.timeout(30)
def test_a_big_punycode_body_is_not_decoded_as_punycode() -> None:
    body = b"ab-" + b"a" * 1_000_000  # punycode decoding is quadratic: ~110 s for this
    msg = parse_message(head(1) + b"Content-Type: text/plain; charset=punycode\r\n\r\n" + body)
    assert msg.text.startswith("ab-aaaa")


def test_no_nul_in_any_field() -> None:
    (_, raw), = [(n, r) for n, r in PATHOLOGICAL if n == "NUL in part type"]
    msg = parse_message(raw)
    (att,) = msg.attachments
    assert att.content_type == "application/octet" and "\x00" not in att.filename
    nul_everywhere = (b"From: A\0B <a\0b@x.test>\r\nMessage-ID: <n\0ul@x>\r\nSubject: s\0s\r\n"
                      b"Content-Type: text/plain\r\n\r\nte\0xt\r\n")
    for s in _strings(parse_message(nul_everywhere)):
        assert "\x00" not in s


def test_a_raw_iso_2022_jp_subject_reads_as_japanese() -> None:
    subject = "テスト件名です"
    raw = (b"From: a@x.test\r\nMessage-ID: <jp@x>\r\nSubject: " + subject.encode("iso2022_jp")
           + b"\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n" + "本文".encode("iso2022_jp") + b"\r\n")
    msg = parse_message(raw)
    assert msg.subject == subject and msg.text == "本文"
    # also without any charset declared anywhere
    raw = raw.replace(b"; charset=iso-2022-jp", b"")
    assert parse_message(raw).subject == subject


def test_a_raw_8bit_subject_in_the_declared_body_charset() -> None:
    raw = (b"From: a@x.test\r\nMessage-ID: <k@x>\r\nSubject: " + "Привет".encode("koi8-r")
           + b"\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\nx\r\n")
    assert parse_message(raw).subject == "Привет"


# --- the time budget: a message that still hangs costs its budget, and intake moves on -------

HANG = "x-test-parse-hangs-here"  # with TUI_DESK_TEST_PARSE_HANG set, a worker never returns on it
CRASH = "x-test-parse-crashes-here"


def _hanging(n: int | str, marker: str = HANG) -> bytes:
    """A message whose parse never ends (the test hook stands in for a stdlib endless loop)."""
    return head(n, "hanging") + f"Content-Type: text/plain\r\n\r\n{marker}\r\n".encode()


def _normal(n: int) -> bytes:
    return head(n, "normal") + f"Content-Type: text/plain\r\n\r\nbody {n}\r\n".encode()


@pytest.fixture
def hang_hook(monkeypatch):
    """Workers started from now on hang on HANG and crash on CRASH (spawned workers read the
    environment when they start)."""
    monkeypatch.setenv("TUI_DESK_TEST_PARSE_HANG", HANG)
    monkeypatch.setenv("TUI_DESK_TEST_PARSE_CRASH", CRASH)


def _check_batch(raws: list[bytes], results: list, stuck: set[int], why: str = "parse budget exceeded") -> None:
    assert len(results) == len(raws)
    for i, (raw, (record, error)) in enumerate(zip(raws, results)):
        if i in stuck:
            assert error and why in error and any(why in d for d in record.defects)
            # the plain header scan keeps what the index and the queue need
            assert (record.message_id, record.synthetic_id) == (f"hostile-{i}@customer.test", False)
            assert record.sender.addr == f"sender{i}@customer.test" and record.subject == f"hanging {i}"
            assert record.date is not None and record.size == len(raw)
        else:
            assert error is None and record == parse_message(raw)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("workers, size, stuck", [
    (2, 200, {3, 150}),  # split over the workers; two culprits, in different chunks
    (2, 5, {1}),  # a small batch: one worker
    (1, 70, {0, 69}),  # one worker: first and last
])
async def test_a_hanging_message_costs_its_budget_and_the_batch_is_parsed(hang_hook, workers, size, stuck) -> None:
    from tui_desk.sync.parse_pool import ParsePool
    raws = [_hanging(i) if i in stuck else _normal(i) for i in range(size)]
    async with ParsePool(workers=workers, budget=1.0) as pool:
        results = await pool.parse(raws)
        _check_batch(raws, results, stuck)
        assert 1 <= pool.restarts <= len(stuck)  # culprits stuck at the same time go in one restart
        # the fresh workers parse the next batch as usual
        again = [_normal(i) for i in range(size)]
        _check_batch(again, await pool.parse(again), set())


@pytest.mark.timeout(120)
async def test_batches_parsed_alongside_a_hanging_one_are_parsed_too(hang_hook) -> None:
    """The sync parses batch n+1 while batch n is out: killing the workers for one batch's
    culprit must not lose, or blame, the other batch's messages."""
    import asyncio

    from tui_desk.sync.parse_pool import ParsePool
    first = [_hanging(i) if i == 30 else _normal(i) for i in range(100)]
    second = [_normal(i) for i in range(100)]
    third = [_hanging(i) if i == 2 else _normal(i) for i in range(5)]
    async with ParsePool(workers=2, budget=1.0) as pool:
        got = await asyncio.gather(pool.parse(first), pool.parse(second), pool.parse(third))
    _check_batch(first, got[0], {30})
    _check_batch(second, got[1], set())
    _check_batch(third, got[2], {2})


@pytest.mark.timeout(60)
async def test_leaving_the_pool_while_a_message_hangs_does_not_wait_for_it(hang_hook) -> None:
    import asyncio

    from tui_desk.sync.parse_pool import ParsePool
    async with ParsePool(workers=2, budget=3600) as pool:
        parsing = pool.parse([_hanging(0)])
        await asyncio.sleep(0)  # sent to the workers; then the sync stops mid-batch
        parsing.cancel()


@pytest.mark.timeout(120)
async def test_packed_results_of_a_hanging_message(hang_hook) -> None:
    from tui_desk.sync.parse_pool import ParsePool
    from tui_desk.store.ingest import pack_raw
    import zlib
    raws = [_normal(0), _hanging(1), _normal(2)]
    parts = ["message", "header", "body"]
    async with ParsePool(workers=2, budget=1.0) as pool:
        got = await pool.parse_packed(raws, parts)
    # a header block, which the body phase replaces, is stored uncompressed (zlib level 0)
    assert [packed for _, _, packed in got] == [pack_raw(r, kept=part != "header") for r, part in zip(raws, parts)]
    assert [zlib.decompress(packed) for _, _, packed in got] == raws
    assert got[1][1] and "parse budget exceeded" in got[1][1] and got[1][0].message_id == "hostile-1@customer.test"
    assert got[0][1] is None and got[2][1] is None


@pytest.mark.timeout(120)
async def test_a_worker_that_dies_costs_its_message_only(hang_hook) -> None:
    from tui_desk.sync.parse_pool import ParsePool
    raws = [_hanging(i, CRASH) if i == 7 else _normal(i) for i in range(100)]
    async with ParsePool(workers=2, budget=30.0) as pool:
        results = await pool.parse(raws)
    _check_batch(raws, results, {7}, why="parser crashed")


@pytest.mark.timeout(180)
def test_import_moves_on_past_a_hanging_message_and_a_second_run_does_not_parse_forever(
        hang_hook, tmp_path, monkeypatch, capsys) -> None:
    from tui_desk.cli import main
    from tui_desk.sync import parse_pool
    monkeypatch.setattr(parse_pool, "PARSE_BUDGET", 1.0)
    mails = tmp_path / "mail"
    mails.mkdir()
    hostile = [raw for _, raw in PATHOLOGICAL]
    for i, raw in enumerate([*hostile, _hanging("h"), folding_trap("trap2"), *(_normal(i) for i in range(300))]):
        (mails / f"{i:04d}.eml").write_bytes(raw)
    db = tmp_path / "d.sqlite3"
    for run in (1, 2):
        assert main(["--db", str(db), "import", str(mails)]) == 0
        out, err = capsys.readouterr()
        total = len(hostile) + 302
        if run == 1:
            assert out.startswith(f"imported {total} messages (0 already known)"), out + err
            assert out.rstrip().endswith("1 error"), out  # the hanging one, stored unparsed
        else:
            assert out.startswith(f"imported 0 messages ({total} already known)"), out + err
    import sqlite3
    con = sqlite3.connect(db)
    (defects,) = con.execute("SELECT defects_json FROM messages WHERE message_id='hostile-h@customer.test'").fetchone()
    assert "parse budget exceeded" in defects
    assert con.execute("SELECT count(*) FROM messages WHERE defects_json LIKE '%budget%'").fetchone()[0] == 1


# --- a killed import leaves nothing running ---------------------------------------------------


@pytest.mark.timeout(120)
def test_parse_workers_of_an_import_killed_at_start_exit_with_it(tmp_path) -> None:
    """kill -9 of `tui-desk import` as soon as its first worker process exists (the workers are
    still starting then): the workers, and multiprocessing's resource tracker, exit too."""
    import datetime as dt
    import signal
    import subprocess
    import sys
    import time

    from tests.processes import alive, descendants
    from tui_desk.demo.mailbox import Generator, write_mbox

    mbox = tmp_path / "mail.mbox"
    write_mbox(Generator(600, 5, dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc), 30).generate(), str(mbox))
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "tui_desk", "--db", str(tmp_path / f"d{attempt}.sqlite3"),
                                 "import", str(mbox)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        helpers: set[int] = set()
        while not any(_is_worker(pid) for pid in helpers) and proc.poll() is None:
            helpers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        helpers |= descendants(proc.pid)
        deadline = time.monotonic() + 10
        while alive(helpers) and time.monotonic() < deadline:
            helpers |= {c for pid in alive(helpers) for c in descendants(pid)}
            time.sleep(0.1)
        assert not alive(helpers), "parse workers of a killed import must exit with it"


def _is_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"spawn_main" in f.read()
    except OSError:
        return False


@pytest.mark.timeout(60)
async def test_a_message_parsed_alone_is_under_the_budget_too(hang_hook, monkeypatch) -> None:
    """parse_one: the sync's on-demand body fetch (fetch_whole) parses one message at a time."""
    from tui_desk.sync import parse_pool
    monkeypatch.setattr(parse_pool, "PARSE_BUDGET", 1.0)
    raws = [_normal(0), _hanging(1)]
    _check_batch(raws, [await parse_pool.parse_one(r) for r in raws], {1})
