"""kill -9 at random moments of a first sync of a few thousand messages, then resume:
nothing lost, nothing duplicated, committed batches not downloaded again."""

from __future__ import annotations

import datetime as dt
import imaplib
import random
import re
import signal
import sqlite3
import subprocess
import time
from email.parser import BytesHeaderParser

from servers import MaildirMessage
from tests.accounts import sync_cmd, write_config
from tests.processes import alive, descendants
from tui_desk.demo import mailbox as generator

N = 6000  # a first sync of 6000 takes ~2 s here: the kills below land inside it


def server_view(dovecot, user) -> dict[int, str]:
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=60)
    c.login(user, dovecot.password_of(user))
    c.select("INBOX", readonly=True)
    typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    c.logout()
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = BytesHeaderParser().parsebytes(item[1])["Message-ID"].strip().strip("<>")
    return out


def test_sigkill_during_first_sync_loses_and_duplicates_nothing(tmp_path, dovecot, mail_user):
    msgs = generator.Generator(N, 3, dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc), 30).generate()
    dovecot.load_maildir(mail_user, [MaildirMessage(m.raw, "", m.when) for m in msgs])
    cfg, db = tmp_path / "config.toml", tmp_path / "store.sqlite3"
    write_config(cfg, dovecot, mail_user)
    rng = random.Random(11)
    committed_before = []
    orphans: set[int] = set()
    for _ in range(6):
        proc = subprocess.Popen(sync_cmd(cfg, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is not None:
            break
        helpers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        orphans.update(helpers)
        if db.exists():
            con = sqlite3.connect(db)
            committed_before.append(con.execute("SELECT count(*) FROM imap_messages").fetchone()[0])
            con.close()
    assert committed_before, "no run was killed mid-sync"
    deadline = time.time() + 10
    while alive(orphans) and time.time() < deadline:
        time.sleep(0.2)
    assert not alive(orphans), "parse workers of a killed sync must not live on (they hold no socket, and exit)"
    con = sqlite3.connect(db)
    already = con.execute("SELECT count(*) FROM imap_messages").fetchone()[0]
    con.close()
    done = subprocess.run(sync_cmd(cfg, db), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    new = int(re.search(r"(\d+) new", done.stdout).group(1))
    assert new == N - already, "committed batches are not downloaded again"

    server = server_view(dovecot, mail_user)
    con = sqlite3.connect(db)
    mirrored = dict(con.execute(
        "SELECT i.uid, m.message_id FROM imap_messages i JOIN messages m ON m.id = i.message_id"))
    n_messages = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    not_full = con.execute("SELECT count(*) FROM messages WHERE body_state != 'full'").fetchone()[0]
    con.close()
    assert mirrored == server, "message by message, the store matches the server"
    assert n_messages == len(set(server.values())), "no duplicates"
    assert not_full == 0, "every body arrived"
    print(f"kills after {committed_before} committed messages; resumed with {already} stored")
