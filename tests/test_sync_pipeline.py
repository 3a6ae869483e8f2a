"""The sync's batch pipeline (sync.pipeline) and the header -> body boundary of a first sync:
the body phase's first batch is downloaded while the last header batch is parsed and stored,
and the store ends as it would have without that (AccountSync._start_bodies)."""

from __future__ import annotations

import asyncio
import sqlite3
import zlib

import pytest

from tests.accounts import account_for
from tests.mailfactory import make_mail
from tui_desk.desk.service import Desk
from tui_desk.mail.imap import ImapConnectError
from tui_desk.sync import imap_sync
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.sync.pipeline import pipelined


async def test_the_next_phase_starts_during_the_last_store_after_every_earlier_commit():
    log: list[str] = []
    last_store = asyncio.Event()

    async def fetch(n: int) -> int:
        log.append(f"fetch {n}")
        return n

    async def store(n: int) -> None:
        log.append(f"store {n} begins")
        if n == 3:
            await last_store.wait()  # ends only once the overlap has run alongside
        await asyncio.sleep(0)
        log.append(f"store {n} done")

    async def before_last_store():
        log.append("before last store")

        async def overlap() -> None:
            log.append("overlap")
            last_store.set()
        return overlap

    # store 3 waits for the overlap: run one after the other, they would never end
    await asyncio.wait_for(pipelined(range(4), fetch, store, before_last_store), 10)
    assert log.index("store 2 done") < log.index("before last store") < log.index("store 3 begins")
    assert log.index("overlap") < log.index("store 3 done")
    assert log.count("before last store") == 1 and log[-1] == "store 3 done"


async def test_a_failed_overlap_lets_the_last_batch_commit():
    stored: list[int] = []

    async def fetch(n: int) -> int:
        return n

    async def store(n: int) -> None:
        await asyncio.sleep(0.01)
        stored.append(n)

    async def before_last_store():
        async def overlap() -> None:
            raise ImapConnectError("connection lost")
        return overlap

    with pytest.raises(ImapConnectError):
        await pipelined([0, 1, 2], fetch, store, before_last_store)
    assert stored == [0, 1, 2]


def _rows(db) -> dict[str, list[tuple]]:
    """Every table's rows but the clocks' and the session's (as bench/sync_abba.py compares)."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                                   " AND name NOT LIKE 'messages_fts_%'"):
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
            keep = [c for c in cols if c not in ("added_at", "at", "updated_at", "modseq", "seq", "flags")]
            rows = con.execute(f"SELECT {', '.join(keep) or '*'} FROM {name}").fetchall()
            if name == "raw_messages":
                rows = [(r[0], zlib.decompress(r[1])) for r in rows]
            out[name] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


async def _sync(tmp_path, dovecot, user, name: str, start_bodies: bool, log: list[str]) -> dict:
    desk = await Desk.open(tmp_path / f"{name}.db")
    sync = AccountSync(desk.store, account_for(dovecot, user), dovecot.password_of(user),
                       is_agent=lambda a: a.endswith("@helpdesk.test"), on_change=desk.refresh)
    store_headers, fetch_bodies = sync._store_headers, sync._fetch_bodies

    async def logged_store_headers(folder, fetched, parsed, last_uid):
        got = await store_headers(folder, fetched, parsed, last_uid)
        log.append(f"headers to {last_uid} stored")
        return got

    async def logged_fetch_bodies(conn, pool, batch):
        log.append(f"bodies from {batch[0][0]} fetched")
        return await fetch_bodies(conn, pool, batch)

    sync._store_headers, sync._fetch_bodies = logged_store_headers, logged_fetch_bodies
    if not start_bodies:  # the sync as it was: the body phase starts when the header phase has ended
        async def no_start(*_: object) -> None:
            return None
        sync._start_bodies = no_start
    stats = await sync.sync_once()
    assert stats.new == 23 and stats.errors == 0
    await desk.close()
    return _rows(tmp_path / f"{name}.db")


@pytest.mark.parametrize("twice", [False, True], ids=["distinct", "a Message-ID twice"])
async def test_the_first_body_batch_is_fetched_during_the_last_header_store(tmp_path, dovecot, mail_user,
                                                                           monkeypatch, twice):
    """23 messages in header batches of 5 and body batches of 4. With a Message-ID twice (UIDs 2
    and 22), the body start read UID 2 as its folder's only copy, which the last header batch
    made untrue: it is dropped, the batch fetched again, and the store is the same either way."""
    monkeypatch.setattr(imap_sync, "HEADER_BATCH", 5)
    monkeypatch.setattr(imap_sync, "BODY_BATCH_MAX", 4)
    raws = [make_mail(f"b{i}@t", subject=f"Question {i}", minutes=i, body=f"Body {i}\n") for i in range(23)]
    if twice:
        raws[21] = raws[1]  # the same mail twice in the folder (a copy): one message, two UIDs
    dovecot.load_maildir(mail_user, raws)
    started: list[str] = []
    plain: list[str] = []
    assert await _sync(tmp_path, dovecot, mail_user, "started", True, started) == \
        await _sync(tmp_path, dovecot, mail_user, "plain", False, plain)
    # the last header batch (UIDs 21-23) is stored after the first body batch was fetched
    assert started.index("bodies from 1 fetched") < started.index("headers to 23 stored")
    assert plain.index("headers to 23 stored") < plain.index("bodies from 1 fetched")
    body_fetches = [e for e in started if e.startswith("bodies")]
    # used as fetched, or fetched again once when the mail it was read from changed
    assert body_fetches.count("bodies from 1 fetched") == (2 if twice else 1)
    assert len(body_fetches) == len([e for e in plain if e.startswith("bodies")]) + twice
