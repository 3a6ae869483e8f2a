"""Sync against a real Dovecot: first sync, incremental changes, UIDVALIDITY, size limit,
local changes reaching the server, live IDLE push, and one-line errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import imaplib
import json
import re
import subprocess
import sys
import time

import pytest

from tests.accounts import account_for, client, live, write_config
from tests.mailfactory import make_mail
from tui_desk.config import AccountConfig, ServerConfig
from tui_desk.desk.service import Desk
from tui_desk.mail.imap import ImapAuthError, ImapConnectError
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.store import mirror, server_ops
from tui_desk.store.queries import thread_message_ids


async def make_sync(tmp_path, dovecot, user, **kw) -> tuple[Desk, AccountSync]:
    desk = await Desk.open(tmp_path / "sync.db")
    sync = AccountSync(desk.store, account_for(dovecot, user, **kw), dovecot.password_of(user),
                       is_agent=lambda a: a.endswith("@helpdesk.test"), on_change=desk.refresh)
    return desk, sync


async def server_ids(desk) -> set[str]:
    return {m for ids in (await thread_message_ids(desk.store)).values() for m in ids}


async def test_first_sync_then_incremental(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail(f"m{i}@t", subject=f"Question {i}", minutes=i,
                                               body=f"Body text number {i}\n") for i in range(30)])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    stats = await sync.sync_once()
    assert stats.new == 30 and stats.bodies == 30 and stats.errors == 0
    assert await server_ids(desk) == {f"m{i}@t" for i in range(30)}
    assert await desk.queue_ids("number") != []  # bodies are indexed
    # queue usable: 30 open conversations
    assert len(await desk.queue_ids()) == 30

    # a second client: new mail, a flag change and an expunge
    c = client(dovecot, mail_user)
    c.select("INBOX")
    c.append("INBOX", "", imaplib.Time2Internaldate(time.time()),
             make_mail("new@t", refs=["m3@t"], minutes=99))
    c.uid("STORE", "1", "+FLAGS", r"(\Flagged)")
    c.uid("STORE", "2", "+FLAGS", r"(\Deleted)")
    c.expunge()
    c.logout()
    sync.stats = type(sync.stats)()
    stats = await sync.sync_once()
    assert (stats.new, stats.changed, stats.expunged) == (1, 1, 1)
    ids = await server_ids(desk)
    assert "new@t" in ids and "m1@t" not in ids and len(ids) == 30
    folder = await mirror.folder_state(desk.store, "support", "INBOX", "queue")
    flags = await mirror.known_uids(desk.store, folder.id)
    assert "\\Flagged" in flags[1]
    # the reply joined its thread
    threads = await thread_message_ids(desk.store)
    assert any(set(t) == {"m3@t", "new@t"} for t in threads.values())

    # nothing changed: nothing fetched
    sync.stats = type(sync.stats)()
    stats = await sync.sync_once()
    assert (stats.new, stats.changed, stats.expunged, stats.bodies) == (0, 0, 0, 0)
    await desk.close()


async def test_uidvalidity_change_rematches_by_message_id_and_keeps_local_state(tmp_path, dovecot, mail_user):
    raws = [make_mail(f"u{i}@t", minutes=i) for i in range(10)]
    dovecot.load_maildir(mail_user, raws)
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    await sync.sync_once()
    convs = await thread_message_ids(desk.store)
    conv_of_u0 = next(c for c, ids in convs.items() if "u0@t" in ids)
    await desk.store.execute("INSERT INTO tags(conv_id, tag) VALUES (?, 'vip')", (conv_of_u0,))
    # recreate the mailbox: same mail minus one, new UIDVALIDITY
    dovecot.doveadm("mailbox", "delete", "-u", mail_user, "-s", "INBOX", check=False)
    for p in (dovecot.maildir(mail_user) / "cur").iterdir():
        p.unlink()
    dovecot.load_maildir(mail_user, raws[1:])
    dovecot.doveadm("mailbox", "update", "-u", mail_user, "--uid-validity", str(int(time.time()) + 7), "INBOX")
    stats = await sync.sync_once()
    assert stats.errors == 0
    ids = await server_ids(desk)
    assert ids == {f"u{i}@t" for i in range(1, 10)}, "no duplicates, the vanished one is gone"
    n = (await desk.store.fetchone("SELECT count(*) FROM messages"))[0]
    assert n == 9
    tags = await desk.store.fetchall("SELECT conv_id FROM tags WHERE tag='vip'")
    assert len(tags) == 1  # local state survived the re-match
    await desk.close()


async def test_big_message_is_stored_header_only_and_sync_goes_on(tmp_path, dovecot, mail_user):
    big = make_mail("big@t", subject="Huge log", body="x" * 80 + "\n" * 1 + ("log line\n" * 150_000))
    dovecot.load_maildir(mail_user, [make_mail("small@t"), big, make_mail("after@t", minutes=5)])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user, max_message_bytes=512 * 1024)
    stats = await sync.sync_once()
    assert stats.new == 3 and stats.bodies == 2
    row = await desk.store.fetchone("SELECT body_state, body, defects_json FROM messages WHERE message_id='big@t'")
    assert row[0] == "too_big" and "over the" in row[1] and "size limit" in row[2]
    assert (await desk.store.fetchone("SELECT body_state FROM messages WHERE message_id='after@t'"))[0] == "full"
    await desk.close()


async def test_local_flag_change_reaches_the_server_and_survives_a_restart(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("f1@t")])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    await sync.sync_once()
    await server_ops.enqueue(desk.store, "support", "flags", "f1@t", {"add": ["\\Flagged", "tuidesk-tag-bug"]})
    await desk.close()
    # a new process (new store handle) replays the durable queue
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    stats = await sync.sync_once()
    assert stats.pushed == 1
    assert await server_ops.pending(desk.store, "support") == []
    c = client(dovecot, mail_user)
    c.select("INBOX")
    typ, data = c.uid("FETCH", "1", "(FLAGS)")
    c.logout()
    assert b"\\Flagged" in data[0] and b"tuidesk-tag-bug" in data[0]
    await desk.close()


async def test_idle_push_brings_new_mail_pushed_not_polled(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("i0@t")])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    seen = asyncio.Event()

    async def on_change(convs):
        await desk.refresh(convs)
        if "i1@t" in await server_ids(desk):
            seen.set()
    sync.on_change = on_change
    stop, task = await live(sync, 5.0)
    assert sync.state == "idle"
    await asyncio.to_thread(dovecot.deliver, mail_user, make_mail("i1@t", minutes=1))
    # IDLE's push, not the 60 s poll: typically ~0.5 s (measured in bench/sync_vs_mbsync.py)
    await asyncio.wait_for(seen.wait(), 5.0)
    stop.set()
    await asyncio.wait_for(task, 10)
    await desk.close()


async def test_wrong_password_and_unreachable_host_give_one_line(tmp_path, dovecot, mail_user):
    desk = await Desk.open(tmp_path / "e.db")
    sync = AccountSync(desk.store, account_for(dovecot, mail_user), "wrong-password", is_agent=lambda a: False)
    with pytest.raises(ImapAuthError) as e:
        await sync.sync_once()
    assert "\n" not in str(e.value) and "wrong-password" not in str(e.value)
    acct = AccountConfig(name="x", address="x@y.test",
                         imap=ServerConfig("127.0.0.1", 1, "tls", "x"))
    with pytest.raises(ImapConnectError) as e:
        await AccountSync(desk.store, acct, "pw", is_agent=lambda a: False, timeout=5).sync_once()
    assert "127.0.0.1:1" in str(e.value) and "\n" not in str(e.value)
    await desk.close()


async def test_mail_without_message_id_gets_the_same_id_as_from_a_file(tmp_path, dovecot, mail_user):
    from tui_desk.mail.parse import parse_message
    raw = make_mail(None, subject="no id here", body="Hello without an id\n")
    dovecot.load_maildir(mail_user, [raw, make_mail("with@t", minutes=1)])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    stats = await sync.sync_once()
    assert stats.new == 2 and stats.errors == 0
    expected = parse_message(raw).message_id
    row = await desk.store.fetchone("SELECT body_state, body FROM messages WHERE message_id=?", (expected,))
    assert row is not None and row[0] == "full" and "Hello without an id" in row[1]
    await desk.close()


def big_mail(msgid: str, *, refs: list[str] = (), minutes: float = 0, word: str = "frobnicator") -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime

    from tests.mailfactory import BASE
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Ann <ann@customer.test>", "support@helpdesk.test", "Crash log"
    m["Date"] = format_datetime(BASE + dt.timedelta(minutes=minutes))
    m["Message-ID"] = f"<{msgid}>"
    if refs:
        m["References"] = " ".join(f"<{r}>" for r in refs)
    m.set_content(f"The {word} crashed again, log attached.\n")
    m.add_attachment(("log line\n" * 30_000).encode(), maintype="application", subtype="octet-stream",
                     filename=f"{msgid.split('@')[0]}.log")
    return bytes(m)


async def run_cli(*argv) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "tui_desk", *map(str, argv)],
                                   capture_output=True, text=True, timeout=120)


async def test_fetch_on_demand_stores_the_whole_over_limit_mail_and_sync_keeps_it(tmp_path, dovecot, mail_user):
    limit = 64 * 1024
    big1, big2 = big_mail("big1@t"), big_mail("big2@t", refs=["big1@t"], minutes=2, word="quuxinator")
    assert len(big1) > limit and len(big2) > limit
    dovecot.load_maildir(mail_user, [big1, make_mail("small@t", refs=["big1@t"], minutes=1), big2,
                                     make_mail("other@t", minutes=3)])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user, max_message_bytes=limit)
    stats = await sync.sync_once()
    assert stats.new == 4 and stats.bodies == 2
    conv = (await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id='big1@t'"))[0]
    rows = await desk.store.fetchall("SELECT message_id, body_state FROM messages WHERE conv_id=? ORDER BY date",
                                     (conv,))
    assert [tuple(r) for r in rows] == [("big1@t", "too_big"), ("small@t", "full"), ("big2@t", "too_big")]
    assert await desk.queue_ids("frobnicator") == []
    assert len(await mirror.raw_by_message_id(desk.store, "big1@t")) < limit

    cfg, db = tmp_path / "config.toml", tmp_path / "sync.db"
    write_config(cfg, dovecot, mail_user)
    done = await run_cli("--config", cfg, "--db", db, "fetch", conv)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("big1@t: fetched") and lines[1].startswith("big2@t: fetched")
    assert "1 attachment" in lines[0] and done.stderr == ""

    def stored_in_full(mid: str, raw: bytes):
        return desk.store.fetchone(
            "SELECT body_state, body, attachments_json, defects_json, error, size FROM messages WHERE message_id=?",
            (mid,))
    for mid, raw, word in (("big1@t", big1, "frobnicator"), ("big2@t", big2, "quuxinator")):
        state, body, attachments, defects, error, size = await stored_in_full(mid, raw)
        assert state == "full" and f"The {word} crashed again" in body and error is None
        assert json.loads(attachments)[0][:2] == [f"{mid.split('@')[0]}.log", "application/octet-stream"]
        stored = await mirror.raw_by_message_id(desk.store, mid)  # as the server has it: CRLF
        assert stored.replace(b"\r\n", b"\n") == raw and size == len(stored) and "size limit" not in defects
        assert await desk.queue_ids(word) == [conv]  # searchable
    # nothing left to fetch: said so, exit 0
    again = await run_cli("--config", cfg, "--db", db, "fetch", conv, "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == {"conversation": conv, "messages": []}

    # a later sync with the same small limit leaves the fetched mail whole
    sync.stats = type(sync.stats)()
    stats = await sync.sync_once()
    assert (stats.new, stats.bodies, stats.errors) == (0, 0, 0)
    for mid in ("big1@t", "big2@t"):
        assert (await desk.store.fetchone("SELECT body_state FROM messages WHERE message_id=?", (mid,)))[0] == "full"
    assert await desk.queue_ids("quuxinator") == [conv]
    await desk.close()


async def test_fetch_reports_mail_gone_from_the_server_and_unknown_conversations(tmp_path, dovecot, mail_user):
    limit = 64 * 1024
    dovecot.load_maildir(mail_user, [big_mail("gone@t"), big_mail("kept@t", refs=["gone@t"], minutes=1)])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user, max_message_bytes=limit)
    await sync.sync_once()
    conv = (await desk.store.fetchone("SELECT conv_id FROM messages WHERE message_id='gone@t'"))[0]
    c = client(dovecot, mail_user)
    c.select("INBOX")
    c.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
    c.expunge()
    c.logout()
    cfg, db = tmp_path / "config.toml", tmp_path / "sync.db"
    write_config(cfg, dovecot, mail_user)
    done = await run_cli("--config", cfg, "--db", db, "fetch", conv, "--json")
    assert done.returncode == 1
    got = {m["message_id"]: m for m in json.loads(done.stdout)["messages"]}
    assert got["kept@t"]["fetched"] and not got["gone@t"]["fetched"]
    assert "no longer on the server" in got["gone@t"]["error"]
    assert len(done.stderr.splitlines()) == 1 and "gone@t" in done.stderr
    assert (await desk.store.fetchone("SELECT body_state FROM messages WHERE message_id='gone@t'"))[0] == "too_big"
    missing = await run_cli("--config", cfg, "--db", db, "fetch", 99999)
    assert missing.returncode == 2 and missing.stderr.strip() == "tui-desk: no conversation 99999"
    await desk.close()


async def test_pipelined_batches_store_in_order_and_a_failed_download_lets_the_stored_batch_commit():
    from tui_desk.sync.imap_sync import _pipelined
    log: list[str] = []

    async def fetch(n):
        if n == 3:
            raise ImapConnectError("connection lost")
        log.append(f"fetch {n}")
        return n

    async def store(n):
        await asyncio.sleep(0.01 * (3 - n))  # earlier batches take longer: order must still hold
        log.append(f"store {n}")

    with pytest.raises(ImapConnectError):
        await _pipelined(range(5), fetch, store)
    assert [e for e in log if e.startswith("store")] == ["store 0", "store 1", "store 2"]
    assert log.index("fetch 1") < log.index("store 0")  # the next download overlaps the store


async def test_the_apps_status_line_shows_a_progress_bar_during_a_first_sync(tmp_path, dovecot, mail_user):
    """What the TUI shows beside the queue while Background syncs a mailbox for the first time."""
    from tui_desk.config import Config
    from tui_desk.desk.background import Background
    dovecot.load_maildir(mail_user, [make_mail(f"bar{i}@t", sender=f"c{i % 40}@c.test", minutes=i,
                                               body="Hello.\n" * 50) for i in range(3000)])
    config = Config(agent_addresses=("*@helpdesk.test",), accounts=(account_for(dovecot, mail_user),))
    desk = await Desk.open(tmp_path / "bar.db", config)
    background = Background(desk)
    background.syncs[0]._password = dovecot.password_of(mail_user)
    stop = asyncio.Event()
    task = asyncio.create_task(background.run(stop))
    seen: list[str] = []
    try:
        while background.syncs[0].state != "idle":
            seen.append(background.status())
            await asyncio.sleep(0.02)
        seen.append(background.status())
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await desk.close()
    bars = [s for s in seen if "█" in s or "░" in s]
    assert bars, seen[:5]
    assert any(s.startswith("support: headers ") and s.endswith("%") for s in bars)
    assert seen[-1] == "support: idle"


def _fetch_all(dovecot, user, items: str) -> dict[int, bytes]:
    c = client(dovecot, user)
    c.select("INBOX", readonly=True)
    _, data = c.uid("FETCH", "1:*", f"(UID {items})")
    c.logout()
    out = {}
    for part in data:
        if isinstance(part, tuple):
            out[int(part[0].split(b"UID ")[1].split()[0])] = part[1]
    return out


async def _stored(desk, rowid: int):
    from tui_desk.store.mirror import raw_by_rowid
    row = await desk.store.fetchone(
        "SELECT body, body_from_html, attachments_json, defects_json, size, error, body_state, subject, date"
        " FROM messages WHERE id=?", (rowid,))
    fts = await desk.store.fetchone("SELECT rowid, subject, body, sender, recipients FROM messages_fts WHERE rowid=?",
                                    (rowid,))
    return tuple(row), tuple(fts), await raw_by_rowid(desk.store, rowid)


def _internaldates(dovecot, user) -> dict[int, int]:
    c = client(dovecot, user)
    c.select("INBOX", readonly=True)
    _, data = c.uid("FETCH", "1:*", "(UID INTERNALDATE)")
    c.logout()
    return {int(re.search(rb"UID (\d+)", line).group(1)): int(time.mktime(imaplib.Internaldate2tuple(line)))
            for line in data}


def _expected(rowid: int, raw: bytes, arrived: int | None = None, stored_as: str | None = None):
    """What the store holds for this mail; with `arrived` (its INTERNALDATE), the defect the
    store adds when it does not believe the Date field too, and with `stored_as` (its id in the
    store) the one it adds when another mail has its Message-ID."""
    from tui_desk.mail.parse import parse_message
    from tui_desk.store.ingest import _attachments_json, _fts_row, stored_date
    p = parse_message(raw)
    defects = p.defects + ([note] if arrived is not None and (note := stored_date(p, arrived, "the server's arrival time", 0)[1])
                           else [])
    if stored_as is not None and stored_as != p.message_id:
        defects.append(f"another message has the same Message-ID <{p.message_id}>: this one is kept as <{stored_as}>")
    return (p.text, int(p.text_from_html), _attachments_json(p), json.dumps(defects, ensure_ascii=False),
            p.size, None, "full"), _fts_row(rowid, p)


def _counting_parse_body(monkeypatch) -> dict[str, int]:
    """Parse in this process (workers=0: a thread) and count what parse_body returned."""
    from tui_desk.sync import imap_sync as sync_module, parse_pool
    from tui_desk.mail.model import ParsedBody
    counts = {"body only": 0, "whole": 0}
    parse_body = parse_pool._READERS["body"]

    def counted(raw):
        got = parse_body(raw)
        counts["body only" if isinstance(got, ParsedBody) else "whole"] += 1
        return got
    monkeypatch.setitem(parse_pool._READERS, "body", counted)
    monkeypatch.setattr(sync_module, "ParsePool", lambda: parse_pool.ParsePool(workers=0))
    return counts


async def test_body_phase_stores_what_parsing_the_whole_mail_gives(tmp_path, dovecot, mail_user, monkeypatch):
    """Bodies of mail whose header block had no defects are read without their header fields
    (parse_body), the rest whole: either way the store holds what parse_message of the whole
    mail gives, the FTS row included, and the header fields read from the header block."""
    from tests.mail_corpus import MESSAGE_FILES
    from tests.mailfactory import koi8_mail
    from tui_desk.demo.mailbox import Generator
    from tui_desk.mail.parse import parse_message
    from tui_desk.store.ingest import stored_date
    mails = [p.read_bytes() for p in MESSAGE_FILES]
    mails += [m.raw for m in Generator(150, 11, dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc), 30).generate()]
    mails += [koi8_mail(), make_mail("nodate@t", subject="When?").replace(b"Date: ", b"Date: someday ", 1),
              big_mail("big@t")]
    dovecot.load_maildir(mail_user, mails)
    counts = _counting_parse_body(monkeypatch)
    desk, sync = await make_sync(tmp_path, dovecot, mail_user, max_message_bytes=200 * 1024)
    stats = await sync.sync_once()
    assert stats.new == len(mails)
    assert counts["body only"] > 150 and counts["whole"] >= 1  # the KOI8-R Subject

    bodies, headers = _fetch_all(dovecot, mail_user, "BODY.PEEK[]"), _fetch_all(dovecot, mail_user, "BODY.PEEK[HEADER]")
    arrived = _internaldates(dovecot, mail_user)
    assert len(bodies) == len(mails)
    # RFC 3501: BODY[HEADER] is the start of BODY[] (parse_body relies on the header fields
    # being those of the header block the sync read first)
    assert all(bodies[uid].startswith(headers[uid]) for uid in bodies)
    rows = await desk.store.fetchall(
        "SELECT min(i.uid), i.message_id, count(*), m.body_state, m.synthetic_id, m.message_id FROM imap_messages i"
        " JOIN messages m ON m.id = i.message_id GROUP BY i.message_id")
    checked = too_big = derived = 0
    for uid, rowid, copies, state, synthetic, message_id in rows:
        derived += "#dup-" in message_id  # another mail with a known Message-ID: a message of its own
        if copies > 1:
            continue  # one mail twice (its fields added on the way apart): not this test's matter
        row, fts, raw = await _stored(desk, rowid)
        if state == "too_big":
            too_big += 1
            assert raw == headers[uid]
            continue
        assert raw == bodies[uid]
        want_row, want_fts = _expected(rowid, raw, arrived[uid], message_id)
        assert row[:7] == want_row, (uid, row[7])
        assert fts == want_fts, (uid, row[7])
        if not synthetic:  # header fields: the header block's reading
            head = parse_message(headers[uid])
            assert row[7] == head.subject
            # the Date field when believable, else the INTERNALDATE
            assert row[8] == stored_date(head, arrived[uid], "", 0)[0]
        checked += 1
    assert checked > 250 and too_big >= 1 and derived >= 1
    unreadable = await desk.store.fetchone("SELECT defects_json FROM messages WHERE message_id='nodate@t'")
    assert "unreadable Date" in unreadable[0]
    await desk.close()


async def test_body_phase_reads_whole_the_mail_whose_header_record_lists_defects(tmp_path, dovecot, mail_user,
                                                                                monkeypatch):
    """A header-only row with defects (the previous version stored a multipart's missing body as
    defects too; a kill between the phases leaves such rows) gets the whole mail's reading."""
    mails = [make_mail(f"p{i}@t", minutes=i, body=f"plain {i}\n", html=f"<p>html {i}</p>" if i % 2 else None)
             for i in range(40)]
    dovecot.load_maildir(mail_user, mails)
    counts = _counting_parse_body(monkeypatch)
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    conn = await sync.connect()
    from tui_desk.sync.parse_pool import ParsePool
    async with ParsePool(workers=0) as pool:
        await sync.sync_folder(conn, pool, "INBOX", "queue")
        assert (await desk.store.fetchone("SELECT count(*) FROM messages WHERE defects_json != '[]'"))[0] == 0
        async with desk.store.transaction():
            await desk.store.execute("UPDATE messages SET defects_json='[\"StartBoundaryNotFoundDefect\"]'"
                                     " WHERE message_id LIKE 'p1%'")
        await sync.fetch_bodies(conn, pool, "INBOX", "queue")
    await conn.logout()
    assert counts["body only"] == 40 - 11
    bodies = _fetch_all(dovecot, mail_user, "BODY.PEEK[]")
    for uid, rowid in await desk.store.fetchall("SELECT uid, message_id FROM imap_messages"):
        row, fts, raw = await _stored(desk, rowid)
        assert raw == bodies[uid]
        assert (row[:7], fts) == _expected(rowid, raw)
    await desk.close()


async def test_body_phase_reads_whole_a_message_whose_stored_header_is_another_copys(tmp_path, dovecot, mail_user,
                                                                                    monkeypatch):
    """One mail in two folders, its header blocks differing in the fields delivery added (the
    inbox copy's Received): one message, whose header record stored is the first copy's. When
    that copy is gone before its body came, the other copy's body phase reads its own mail
    whole (as the previous version did), not only its body. (Copies whose own fields differ
    are two messages: test_a_second_mail_with_a_known_message_id_is_kept.)"""
    sent = make_mail("twice@t", subject="From the customer", body="the sent copy\n").replace(
        b"Date: ", b"Date: someday ", 1)
    inbox = b"Received: from mx.customer.test by mx.helpdesk.test; Mon, 2 Nov 2026 09:00:01 +0000\n" + sent
    dovecot.load_maildir(mail_user, [inbox, make_mail("other@t", minutes=1)])
    dovecot.load_maildir(mail_user, [sent], folder="Sent")
    counts = _counting_parse_body(monkeypatch)
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    conn = await sync.connect()
    from tui_desk.sync.parse_pool import ParsePool
    async with ParsePool(workers=0) as pool:
        await sync.sync_folder(conn, pool, "INBOX", "queue")
        await sync.sync_folder(conn, pool, "Sent", "sent")
        c = client(dovecot, mail_user)  # the inbox copy goes before its body is fetched
        c.select("INBOX")
        c.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
        c.expunge()
        c.logout()
        await sync.fetch_bodies(conn, pool, "INBOX", "queue")
        await sync.fetch_bodies(conn, pool, "Sent", "sent")
    await conn.logout()
    assert counts == {"body only": 1, "whole": 0}  # other@t; twice@t went to parse_message
    rowid, subject = await desk.store.fetchone("SELECT id, subject FROM messages WHERE message_id='twice@t'")
    assert subject == "From the customer"
    row, fts, raw = await _stored(desk, rowid)
    assert raw == sent.replace(b"\n", b"\r\n")
    assert (row[:7], fts) == _expected(rowid, raw, row[8])  # (the Date is unreadable: the INTERNALDATE)
    assert "unreadable Date" in row[3]
    await desk.close()


async def test_a_date_not_to_be_believed_gives_way_to_the_internaldate(tmp_path, dovecot, mail_user):
    from tests.mailfactory import BASE, with_date
    from servers import MaildirMessage

    arrived = BASE + dt.timedelta(hours=1)
    dovecot.load_maildir(mail_user, [
        MaildirMessage(make_mail("honest@t", sender="honest@c.test"), "", BASE),
        MaildirMessage(with_date(make_mail("old@t", sender="old@c.test"), "Mon, 1 Jan 1900 00:00:00 +0000"),
                       "", arrived),
        MaildirMessage(with_date(make_mail("nodate@t", sender="nodate@c.test"), None), "", arrived),
        MaildirMessage(with_date(make_mail("future@t", sender="future@c.test"),
                                 "Fri, 31 Dec 9999 23:59:59 +0000"), "", arrived),
    ])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    assert (await sync.sync_once()).bodies == 4
    rows = await desk.queue_rows(await desk.queue_ids())
    assert [r.customer_addr for r in rows][0] == "honest@c.test"
    assert not any("date corrected" in r for r in rows[0].reasons)
    said = {"old@c.test": "Date header said 1900-01-01", "nodate@c.test": "no Date header",
            "future@c.test": "Date header said 9999-12-31"}
    for row in rows[1:]:
        note = f"date corrected: {said[row.customer_addr]}; using the server's arrival time"
        assert note in row.reasons
        [m] = (await desk.conversation(row.id)).messages
        assert m.date == arrived and note in m.defects  # kept when the body replaced the header record
    state = await desk.store.fetchall("SELECT DISTINCT body_state FROM messages")
    assert [tuple(r) for r in state] == [("full",)]
    await desk.close()


async def test_a_second_mail_with_a_known_message_id_is_kept(tmp_path, dovecot, mail_user):
    """Two mails with one Message-ID are two messages (the second under a derived id); the same
    mail in INBOX and Sent is one; syncing everything again (a UIDVALIDITY reset) adds nothing."""
    first = make_mail("same@t", body="the first\n")
    other = make_mail("same@t", subject="Another", body="another mail\n", minutes=3)
    dovecot.load_maildir(mail_user, [first, other])
    dovecot.load_maildir(mail_user, [first], folder="Sent")
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    await sync.sync_once()
    conn = await sync.connect()
    from tui_desk.sync.parse_pool import ParsePool
    async with ParsePool(workers=0) as pool:
        await sync.sync_folder(conn, pool, "Sent", "sent")
        await sync.fetch_bodies(conn, pool, "Sent", "sent")
    await conn.logout()
    stored = "SELECT id, message_id, body, body_state, conv_id FROM messages ORDER BY id"
    rows = [tuple(r) for r in await desk.store.fetchall(stored)]
    assert [(r[1].partition("#dup-")[0], r[2], r[3]) for r in rows] == [
        ("same@t", "the first", "full"), ("same@t", "another mail", "full")]
    assert rows[0][1] == "same@t" and rows[1][1].startswith("same@t#dup-") and rows[0][4] == rows[1][4]
    mapped = await desk.store.fetchall("SELECT f.name, i.message_id FROM imap_messages i"
                                       " JOIN folders f ON f.id = i.folder_id ORDER BY f.name, i.uid")
    assert [tuple(r) for r in mapped] == [("INBOX", rows[0][0]), ("INBOX", rows[1][0]), ("Sent", rows[0][0])]
    async with desk.store.transaction():
        for f in await desk.store.fetchall("SELECT id, uidvalidity FROM folders"):
            await mirror.reset_folder(desk.store, f[0], f[1])
    await sync.sync_once()
    assert [tuple(r) for r in await desk.store.fetchall(stored)] == rows
    await desk.close()


async def test_cancelled_while_idle_leaves_no_exception_unretrieved(tmp_path, dovecot, mail_user):
    """The app's exit cancels the sync while it IDLEs; the connection is then logged out. The
    wait for the next update must not end as "Task exception was never retrieved"."""
    import gc
    dovecot.load_maildir(mail_user, [make_mail("q0@t")])
    desk, sync = await make_sync(tmp_path, dovecot, mail_user)
    loop = asyncio.get_running_loop()
    unretrieved: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    try:
        stop, task = await live(sync, 5.0)
        assert sync.state == "idle"
        task.cancel()
        cancelled = False
        try:
            await asyncio.wait_for(task, 10)
        except asyncio.CancelledError:  # not kept: its traceback would keep the tasks alive
            cancelled = True
        assert cancelled
        del task
        # the tasks left behind end once the closed connection wakes them; then they are collected
        for _ in range(100):
            if asyncio.all_tasks() <= {asyncio.current_task()}:
                break
            await asyncio.sleep(0.01)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        for _ in range(3):  # a task is reported when it is freed: by the collector, in a cycle
            gc.collect()
            await asyncio.sleep(0)
        assert [str(c.get("exception")) for c in unretrieved] == []
    finally:
        loop.set_exception_handler(None)
    await desk.close()
