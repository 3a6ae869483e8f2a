"""Store file handling: migrations, and one clear line for files it must not touch."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from tui_desk.store import Store, StoreError
from tui_desk.store.schema import SCHEMA_VERSION


async def test_fresh_store_is_migrated_and_in_wal_mode(tmp_path):
    store = await Store.open(tmp_path / "a.db")
    assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
    names = {r[0] for r in await store.fetchall("SELECT name FROM sqlite_master")}
    assert {"messages", "raw_messages", "conversations", "tags", "thread_ids", "messages_fts"} <= names
    await store.close()
    again = await Store.open(tmp_path / "a.db")  # reopening migrates nothing
    assert (await again.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    await again.close()


async def test_tasks_sharing_the_store_take_turns_at_transactions(tmp_path):
    """The app, the sync and the outbox share one connection: a transaction begun while another
    task's is open must wait for it, and a failing one must not take the other's writes along."""
    store = await Store.open(tmp_path / "a.db")

    async def long_batch():
        async with store.transaction():
            await store.set_meta("batch", "1")
            await asyncio.sleep(0.05)
            await store.set_meta("batch-end", "1")

    async def quick_change():
        await asyncio.sleep(0.01)
        async with store.transaction():
            await store.set_meta("change", "1")

    async def failing():
        await asyncio.sleep(0.02)
        async with store.transaction():
            await store.set_meta("doomed", "1")
            raise RuntimeError("boom")

    results = await asyncio.gather(long_batch(), quick_change(), failing(), return_exceptions=True)
    assert results[:2] == [None, None] and isinstance(results[2], RuntimeError)
    assert [await store.get_meta(k) for k in ("batch", "batch-end", "change", "doomed")] == ["1", "1", "1", None]
    await store.close()


async def test_store_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    con.execute("CREATE TABLE future(x)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as e:
        await Store.open(path)
    assert "newer tui-desk" in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [
    b"this is not a database at all\n" * 100,
    b"SQLite format 3\x00" + b"\xff" * 4000,  # right magic, garbage pages
])
async def test_corrupt_file_gives_one_line_and_is_left_alone(tmp_path, content):
    path = tmp_path / "bad.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as e:
        await Store.open(path)
    assert "left untouched" in str(e.value) and "\n" not in str(e.value)
    assert path.read_bytes() == content


async def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers(name)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a tui-desk store"):
        await Store.open(path)
    assert path.read_bytes() == before


async def test_old_store_is_upgraded_in_place_keeping_its_data(tmp_path):
    from tui_desk.store.schema import MIGRATIONS
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0] + "\nPRAGMA user_version=1;")
    con.execute("INSERT INTO conversations(id, subject) VALUES (7, 'kept')")
    con.execute("INSERT INTO messages(id, message_id, conv_id, added_at) VALUES (1, 'a@b', 7, 0)")
    con.commit()
    con.close()
    store = await Store.open(path)
    assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    assert (await store.fetchone("SELECT subject FROM conversations WHERE id=7"))[0] == "kept"
    assert (await store.fetchone("SELECT body_state FROM messages WHERE id=1"))[0] == "full"
    await store.close()


async def test_a_schema_10_store_gets_the_timeline_index_and_finds_the_same_first_messages(tmp_path):
    """Schema 11 (messages_timeline): a store made before it is upgraded in place; the first
    customer message of each conversation (not an agent's, a note or an auto-reply; no date: the
    time it was added; a tie: the lower id) and a conversation's mail in time order (the report
    cache's timelines) come from the index alone, the wide rows unread."""
    from tui_desk.store.report_cache import first_customer_messages
    from tui_desk.store.schema import MIGRATIONS
    path = tmp_path / "v10.db"
    con = sqlite3.connect(path)
    con.executescript("".join(MIGRATIONS[:10]) + "\nPRAGMA user_version=10;")
    rows = [  # (id, conv, date, added_at, is_agent, is_note, auto_submitted, subject)
        (1, 1, 500, 0, 1, 0, 0, "agent writes first"), (2, 1, 700, 0, 0, 0, 0, "the question"),
        (3, 1, 900, 0, 0, 0, 0, "a follow-up"), (4, 1, 600, 0, 0, 1, 0, "a note"),
        (5, 1, 650, 0, 0, 0, 1, "an auto-reply"),
        (6, 2, None, 300, 0, 0, 0, "no date: added at 300"), (7, 2, 400, 0, 0, 0, 0, "later"),
        (8, 3, 100, 0, 0, 0, 0, "tie, lower id"), (9, 3, 100, 0, 0, 0, 0, "tie, higher id"),
        (10, 4, 100, 0, 1, 0, 0, "only the agent wrote"),
    ]
    con.executemany("INSERT INTO messages(id, message_id, conv_id, date, added_at, is_agent, is_note, auto_submitted,"
                    " subject, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'body ' || ?)",
                    [(i, f"m{i}@t", c, d, a, ag, n, au, s, i) for i, c, d, a, ag, n, au, s in rows])
    con.commit()
    con.close()
    store = await Store.open(path)
    assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    plan = " ".join(str(r[3]) for r in await store.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE conv_id = 1 AND is_agent = 0 AND is_note = 0"
        " AND auto_submitted = 0 ORDER BY coalesce(date, added_at), id LIMIT 1"))
    assert "USING COVERING INDEX messages_timeline" in plan and "TEMP B-TREE" not in plan, plan
    plan = " ".join(str(r[3]) for r in await store.fetchall(
        "EXPLAIN QUERY PLAN SELECT conv_id, message_id, coalesce(date, added_at), is_agent, is_note, auto_submitted,"
        " sender_key FROM messages WHERE conv_id IN (1, 2) ORDER BY conv_id, coalesce(date, added_at), id"))
    assert "USING COVERING INDEX messages_timeline" in plan and "TEMP B-TREE" not in plan, plan
    found = await first_customer_messages(store, [3, 1, 2, 4, 99])
    assert [(m.conv_id, m.at, m.subject, m.body) for m in found] == [
        (1, 700, "the question", "body 2"), (2, 300, "no date: added at 300", "body 6"),
        (3, 100, "tie, lower id", "body 8")]
    assert all(type(m.conv_id) is int and type(m.at) is int for m in found)
    await store.close()


def test_sqlites_read_only_error_is_said_to_be_read_only(tmp_path):
    """What SQLite raises writing to a store it could open only for reading (a read-only file,
    folder or mount) is named as such, never "damaged". Checked with SQLite's own error: as root,
    chmod does not stop writes (tests/test_cli.py makes a real read-only store where it can)."""
    from tui_desk.store.db import store_error
    path = tmp_path / "desk.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as e:
        con.execute("INSERT INTO t VALUES (1)")
    con.close()
    said = str(store_error(path, e.value))
    assert said.startswith(f"store {path} is read-only") and "damaged" not in said and "\n" not in said


def test_a_bug_in_sql_is_not_called_a_store_problem(tmp_path):
    from tui_desk.store.db import store_error
    with pytest.raises(sqlite3.OperationalError) as e:
        sqlite3.connect(":memory:").execute("SELECT nonsense FROM nowhere")
    assert store_error(tmp_path / "desk.sqlite3", e.value) is None  # its traceback is wanted


async def test_a_store_opened_to_read_is_checked_before_it_is_written(tmp_path):
    path = tmp_path / "desk.sqlite3"
    store = await Store.open(path)
    async with store.transaction():
        await store.executemany("INSERT INTO conversations(subject) VALUES (?)", [("x" * 500,)] * 200)
    await store.close()
    con = sqlite3.connect(path)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    # a page nothing reads here: the outbox_state index's (what the file's middle page was until
    # schema 9 moved the pages; found by name now)
    [(page,)] = con.execute("SELECT pageno FROM dbstat WHERE name='outbox_state'").fetchall()
    con.close()
    with open(path, "r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(b"\xa5" * 64)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is damaged"):
        await Store.open(path)  # to write: checked at once
    store = await Store.open(path, check=False)  # to read: nothing it reads is damaged
    try:
        assert await store.get_meta("anything") is None
        with pytest.raises(StoreError) as e:
            await store.set_meta("priority_settings", "new")
        assert "is damaged (quick_check: " in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(StoreError):
            async with store.transaction():
                await store.execute("UPDATE conversations SET status='closed'")
    finally:
        await store.close()
    assert path.read_bytes() == before


def _schema_13_store_with_text(path, version: int = 13) -> None:
    from tui_desk.store.schema import MIGRATIONS
    con = sqlite3.connect(path)
    con.executescript("".join(MIGRATIONS[:version]) + f"\nPRAGMA user_version={version};")
    con.execute("INSERT INTO conversations(id, subject) VALUES (7, 'Refund please')")
    texts = [(1, "Refund please", "I was charged twice, please refund me"),
             (2, "Crash", "The app crashes when exporting")]
    for mid, subject, body in texts:
        con.execute("INSERT INTO messages(id, message_id, conv_id, added_at, subject, body) VALUES (?, ?, 7, 0, ?, ?)",
                    (mid, f"m{mid}@t", subject, body))
        con.execute("INSERT INTO messages_fts(rowid, subject, body, sender, recipients) VALUES (?, ?, ?, '', '')",
                    (mid, subject, body))
    con.commit()
    con.close()


async def _fts_hits(store: Store, word: str) -> list[int]:
    return [r[0] for r in await store.fetchall(
        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid", (f'"{word}"',))]


async def test_a_schema_13_store_gets_the_stemmed_index_and_keeps_its_text(tmp_path):
    """Schema 14: the full-text index is built again with the Porter stemmer, from the text it
    held: word forms find each other, nothing is lost."""
    path = tmp_path / "v13.db"
    _schema_13_store_with_text(path)
    store = await Store.open(path)
    assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    assert await store.fetch_int("SELECT count(*) FROM messages_fts") == 2
    assert await _fts_hits(store, "refunds") == [1] and await _fts_hits(store, "refunded") == [1]
    assert await _fts_hits(store, "charge") == [1] and await _fts_hits(store, "crashing") == [2]
    assert await _fts_hits(store, "twice") == [1]
    await store.close()


async def test_an_old_store_opened_twice_at_once_is_upgraded_once(tmp_path):
    """The app and a sync (two processes, here two connections) may open an old store at the
    same moment: the second waits for the first's upgrade and does not run it again (schema 13's
    CREATE INDEX would fail the second time)."""
    path = tmp_path / "v12.db"
    _schema_13_store_with_text(path, version=12)
    first, second = await asyncio.gather(Store.open(path), Store.open(path))
    for store in (first, second):
        assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
        assert await store.fetch_int("SELECT count(*) FROM messages_fts") == 2
        assert await _fts_hits(store, "refunds") == [1]
        await store.close()


async def test_a_reader_that_may_not_upgrade_leaves_an_old_store_untouched(tmp_path):
    path = tmp_path / "v13.db"
    _schema_13_store_with_text(path)
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"needs an upgrade \(schema 13 -> \d+\)"):
        await Store.open(path, check=False, migrate=False)
    assert path.read_bytes() == before
    store = await Store.open(path)  # the app's own open upgrades it
    assert (await store.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
    await store.close()


async def test_new_mail_marks_its_conversations_dirty_once_per_batch_and_other_writers_still_by_trigger(tmp_path):
    """Schema 15: ingest marks the conversations of a batch in conv_dirty itself (one statement,
    not the trigger once per message), with a seq newer than any read before (the report cache
    and the SLA plans then see them stale); the trigger still marks for any other writer, and
    the switch that stops it never outlives ingest's transaction, not even when it fails."""
    from mailfactory import make_mail

    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest as store_ingest

    def item(raw: bytes) -> store_ingest.NewMessage:
        return store_ingest.NewMessage(raw=raw, parsed=parse_message(raw))

    store = await Store.open(tmp_path / "a.db")
    first = await store_ingest.ingest(store, [item(make_mail("a@t")), item(make_mail("b@t", subject="Other"))])
    conv_a, conv_b = first.rowids["a@t"], first.rowids["b@t"]
    conv_a = (await store.fetchone("SELECT conv_id FROM messages WHERE id=?", (conv_a,)))[0]
    conv_b = (await store.fetchone("SELECT conv_id FROM messages WHERE id=?", (conv_b,)))[0]
    assert {r[0] for r in await store.fetchall("SELECT conv_id FROM conv_dirty")} == {conv_a, conv_b}
    read = await store.fetch_int("SELECT max(seq) FROM conv_dirty")
    await store.execute("DELETE FROM conv_dirty")  # as the report cache does once it computed them
    await store.execute("DELETE FROM sla_dirty")
    # a follow-up in a conversation that exists: no conversation is made, the batch marks it
    await store_ingest.ingest(store, [item(make_mail("c@t", refs=["a@t"], minutes=5))])
    dirty = await store.fetchall("SELECT conv_id, seq FROM conv_dirty")
    assert [r[0] for r in dirty] == [conv_a] and dirty[0][1] > read
    assert [tuple(r) for r in await store.fetchall("SELECT conv_id, seq FROM sla_dirty")] == [tuple(dirty[0])]
    assert await store.fetch_int("SELECT count(*) FROM conv_dirty_batch") == 0
    # a failing batch inside a transaction that goes on: the switch is off again
    await store.execute("DELETE FROM conv_dirty")
    dup = make_mail("d@t", refs=["b@t"])
    items = [item(dup)]
    await store.execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.message_id = 'd@t'"
                        " BEGIN SELECT RAISE(ABORT, 'refused'); END")
    async with store.transaction():
        with pytest.raises(sqlite3.IntegrityError, match="refused"):
            await store_ingest.ingest_in_transaction(store, items, store_ingest.IngestResult())
        assert await store.fetch_int("SELECT count(*) FROM conv_dirty_batch") == 0
    await store.execute("DROP TRIGGER temp.refuse")
    # any other writer (another process, a tool): the trigger marks per message as before
    await store.execute("DELETE FROM conv_dirty")
    await store.close()
    con = sqlite3.connect(tmp_path / "a.db")
    con.execute("INSERT INTO messages(message_id, conv_id, added_at) VALUES ('e@t', ?, 0)", (conv_b,))
    con.commit()
    assert [r[0] for r in con.execute("SELECT conv_id FROM conv_dirty")] == [conv_b]
    con.close()


async def test_a_schema_14_store_gets_the_batch_marking_and_keeps_the_trigger(tmp_path):
    from tui_desk.store.schema import MIGRATIONS
    path = tmp_path / "v14.db"
    con = sqlite3.connect(path)
    con.executescript("".join(MIGRATIONS[:14]) + "\nPRAGMA user_version=14;")
    con.execute("INSERT INTO conversations(id) VALUES (3)")
    con.commit()
    con.close()
    store = await Store.open(path)
    assert await store.fetch_int("PRAGMA user_version") == SCHEMA_VERSION
    # the indexes no query used are gone; what they were for is still found without a scan of messages
    assert not await store.fetchall(
        "SELECT 1 FROM sqlite_master WHERE name IN ('messages_body_pending', 'messages_sender')")
    for sql in ("SELECT i.uid FROM imap_messages i JOIN messages m ON m.id = i.message_id"
                " WHERE i.folder_id=1 AND m.body_state='headers' ORDER BY i.uid",  # mirror.pending_bodies
                "SELECT 1 FROM messages WHERE conv_id=3 AND sender_key='ann@t' LIMIT 1"):  # a ticket's sender
        plan = " ".join(str(r[3]) for r in await store.fetchall("EXPLAIN QUERY PLAN " + sql))
        assert "SCAN m" not in plan and "SCAN messages" not in plan, plan
    await store.execute("DELETE FROM conv_dirty")
    await store.execute("INSERT INTO messages(message_id, conv_id, added_at) VALUES ('a@t', 3, 0)")
    assert [r[0] for r in await store.fetchall("SELECT conv_id FROM conv_dirty")] == [3]
    await store.execute("DELETE FROM conv_dirty")
    await store.execute("UPDATE conversations SET customer_key='ann@t' WHERE id=3")
    assert [r[0] for r in await store.fetchall("SELECT conv_id FROM conv_dirty")] == [3]
    await store.close()


async def test_summaries_mark_a_conversation_dirty_when_its_customer_changes_as_the_trigger_did(tmp_path):
    """write_summaries marks conv_dirty itself (schema 15): a conversation whose customer
    changes is marked, one whose customer stays is not; an assignee set by anyone else is still
    marked by the trigger; the switch is refused outside a transaction (it would be committed)."""
    from tui_desk.store import queries

    store = await Store.open(tmp_path / "a.db")
    await store.executemany("INSERT INTO conversations(id, customer_key) VALUES (?, ?)",
                            [(1, "ann@t"), (2, "bob@t"), (3, "")])
    await store.execute("DELETE FROM conv_dirty")
    summaries = [queries.ConversationSummary(1, subject="same customer", customer_key="ann@t"),
                 queries.ConversationSummary(2, subject="another customer", customer_key="cy@t"),
                 queries.ConversationSummary(3, subject="first known", customer_key="dee@t")]
    async with store.transaction():
        await queries.write_summaries(store, summaries)
    assert {r[0] for r in await store.fetchall("SELECT conv_id FROM conv_dirty")} == {2, 3}
    assert [tuple(r) for r in await store.fetchall("SELECT id, subject, customer_key FROM conversations ORDER BY id")] == [
        (1, "same customer", "ann@t"), (2, "another customer", "cy@t"), (3, "first known", "dee@t")]
    assert await store.fetch_int("SELECT count(*) FROM conv_dirty_batch") == 0
    await store.execute("DELETE FROM conv_dirty")
    await store.execute("UPDATE conversations SET assignee='agent@t' WHERE id=1")
    assert [r[0] for r in await store.fetchall("SELECT conv_id FROM conv_dirty")] == [1]
    with pytest.raises(RuntimeError, match="outside a transaction"):
        async with queries.marking_dirty_itself(store):
            pass
    assert await store.fetch_int("SELECT count(*) FROM conv_dirty_batch") == 0
    await store.close()
