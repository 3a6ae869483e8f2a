"""A small store made by `tui-desk import`, and damage done to it in the middle of the file."""

from __future__ import annotations

import sqlite3

from mailfactory import make_mail


def a_few_mails(folder):
    folder.mkdir()
    for n in range(6):
        (folder / f"{n}.eml").write_bytes(make_mail(f"m{n}@customer.test", subject=f"refund {n % 3}",
                                                    refs=[f"m{n - 1}@customer.test"] if n % 3 else [],
                                                    minutes=n))
    return folder


def imported_store(tmp_path):
    """tmp_path/desk.sqlite3, made by `tui-desk import` of a few mails (in tmp_path/mail)."""
    from tui_desk.cli import main
    db = tmp_path / "desk.sqlite3"
    assert main(["--db", str(db), "import", str(a_few_mails(tmp_path / "mail"))]) == 0
    assert not db.with_name(db.name + "-wal").exists()  # all of it is in the file
    return db


def damage(db, tables):
    """Byte-flip the first b-tree page of each table or index named: pages in the middle of
    the file, never its header."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pages = [con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (t,)).fetchone()[0] for t in tables]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:
        for page in pages:
            assert page > 1
            f.seek((page - 1) * page_size)
            flipped = bytes(b ^ 0x5A for b in f.read(page_size))
            f.seek((page - 1) * page_size)
            f.write(flipped)


def file_state(db):
    return db.read_bytes(), db.stat().st_mtime_ns
