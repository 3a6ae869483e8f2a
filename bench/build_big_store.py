#!/usr/bin/env python3
"""Build a large, realistic store for the UI benchmarks: 100k conversations, 250k+ messages.

    .venv/bin/python bench/build_big_store.py [PATH] [--conversations 100000] [--force]

Two parts, both through the real write path:
1. `--generated` messages (default 30000) from the demo generator, written to a Maildir and
   imported by the real importer (MIME parser on every core, ingest, Desk.refresh);
2. the remaining conversations from more generator output (other seeds, so other customers),
   turned into ParsedMessage records straight from what the generator knows (no MIME parsing,
   which is the slow part), and stored with the real `ingest` in batches, then `Desk.refresh`.
   Their raw bytes are the generator's real RFC 822 bytes, so they re-parse like any mail.

Later benchmarks: `from bench.build_big_store import ensure_big_store` (or run this file with
the bench directory on sys.path) and call `ensure_big_store(path)`, which builds only when the
file at `path` is not already a complete store made with the same parameters.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_desk.demo import DEMO_CONFIG
from tui_desk.demo import mailbox as generator
from tui_desk.desk.service import Desk
from tui_desk.mail.model import Address, ParsedMessage
from tui_desk.mail.parse import parse_message
from tui_desk.mail.threading import UnionFind, thread_keys
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import counts

DEFAULT_PATH = ROOT / "bench" / "out" / "big-store.sqlite3"
META_KEY = "bench.big_store"
CHUNK = 20_000  # generator messages per seed (about 7.4k conversations)
BATCH = 2_000  # messages per ingest transaction
DAYS = 60


@dataclass
class BuildStats:
    path: str
    conversations: int
    messages: int
    parsed_messages: int  # part 1, through the MIME parser
    direct_messages: int  # part 2, ParsedMessage records through ingest
    seconds: float
    import_seconds: float
    ingest_seconds: float
    refresh_seconds: float
    file_bytes: int


def default_end() -> dt.datetime:
    """The current hour, so ages in the queue look like a live desk."""
    return dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------- part 2 records

_ADDR = re.compile(r"<([^<>@\s]+@[^<>\s]+)>|([^\s<>,\"]+@[^\s<>,\"]+)")


def _headers(raw: bytes) -> dict[str, str]:
    head = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace").replace("\n ", " ").replace("\n\t", " ")
    out: dict[str, str] = {}
    for line in head.split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            out.setdefault(name.strip().lower(), value.strip())
    return out


def _addresses(value: str | None) -> list[Address]:
    if not value:
        return []
    return [Address("", a or b) for a, b in _ADDR.findall(value)]


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<([^<>]+)>", value or "")


def _record(m: "generator.Msg") -> ParsedMessage:
    """What the parser would make of m (checked field by field), from what the generator knows."""
    if m.kind == "bounce":  # about 1%: their text lives in a multipart/report
        return parse_message(m.raw)
    h = _headers(m.raw)
    sender = _addresses(h.get("from"))
    name = getattr(m, "_from_name", "")
    in_reply_to = _ids(h.get("in-reply-to"))
    return ParsedMessage(
        message_id=m.msgid.strip("<>"), synthetic_id=False,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_ids(h.get("references")),
        sender=Address(name, sender[0].addr) if sender else None,
        to=_addresses(h.get("to")), cc=_addresses(h.get("cc")), reply_to=[],
        date=dt.datetime.fromtimestamp(int(m.when), dt.timezone(dt.timedelta(hours=m.tz))),
        subject=m.subject, text=getattr(m, "_text", ""), text_from_html=False,
        auto_submitted=m.kind in ("autoreply", "bounce"), size=len(m.raw),
    )


def _chunk(chunk_seed: int, end: dt.datetime) -> tuple[int, list[tuple[bytes, ParsedMessage, float]], list[list[int]]]:
    """One generator run as (raw, record, time) triples and its conversations (index groups)."""
    msgs = generator.Generator(CHUNK, chunk_seed, end, DAYS).generate()
    records = [_record(m) for m in msgs]
    return chunk_seed, [(m.raw, r, m.when) for m, r in zip(msgs, records)], _components(records)


def _components(records: list[ParsedMessage]) -> list[list[int]]:
    """Indexes of records grouped the way ingest will group them (no ticket markers here)."""
    uf = UnionFind()
    for i, p in enumerate(records):
        keys = thread_keys(p)
        uf.union(("msg", i), keys[0])
        for k in keys[1:]:
            uf.union(keys[0], k)
    groups = [sorted(x[1] for x in members if isinstance(x, tuple)) for members in uf.groups().values()]
    return sorted((g for g in groups if g), key=lambda g: g[0])


# --------------------------------------------------------------------------- building


async def _build(path: Path, conversations: int, generated: int, seed: int, end: dt.datetime,
                 say: Callable[[str], None]) -> BuildStats:
    from tui_desk.desk.importer import import_paths

    t0 = time.perf_counter()
    desk = await Desk.open(path, DEMO_CONFIG)
    try:
        # part 1: the real import path, MIME parser included
        with tempfile.TemporaryDirectory(prefix="tui-desk-big-") as tmp:
            msgs = generator.Generator(generated, seed, end, DAYS).generate()
            generator.write_maildir(msgs, tmp, None, None)
            del msgs
            t = time.perf_counter()
            summary = await import_paths(desk, [Path(tmp)])
            import_s = time.perf_counter() - t
        parsed_messages = summary.messages
        _, have = await counts(desk.store)
        say(f"part 1: imported {parsed_messages} generated messages into {have} conversations "
            f"in {import_s:.1f} s ({parsed_messages / import_s:.0f} msgs/s)")
        if have > conversations:
            say(f"note: part 1 alone made {have} conversations (> {conversations})")

        # part 2: more generator output as ParsedMessage records, through ingest; the next
        # chunk is generated in another process while this one is stored
        touched: set[int] = set()
        direct, ingest_s = 0, 0.0
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=1) as pool:
            seeds = itertools.count(seed * 1000 + 1)
            pending = loop.run_in_executor(pool, _chunk, next(seeds), end)
            while have < conversations:
                chunk_seed, mails, groups = await pending
                if have + len(groups) < conversations:
                    pending = loop.run_in_executor(pool, _chunk, next(seeds), end)
                take: list[int] = []
                for group in groups:
                    if have >= conversations:
                        break
                    take.extend(group)
                    have += 1
                take.sort(key=lambda i: mails[i][2])
                items = [store_ingest.NewMessage(
                    raw=mails[i][0], parsed=mails[i][1], source=f"bench:seed{chunk_seed}#{i}",
                    is_agent=bool(mails[i][1].sender and DEMO_CONFIG.is_agent_address(mails[i][1].sender.key)))
                    for i in take]
                t = time.perf_counter()
                for start in range(0, len(items), BATCH):
                    result = await store_ingest.ingest(desk.store, items[start:start + BATCH])
                    touched -= result.merged_away
                    touched |= result.conversations
                    direct += result.added
                ingest_s += time.perf_counter() - t
                say(f"part 2: {direct} messages stored directly, {have}/{conversations} conversations, "
                    f"{ingest_s:.1f} s in ingest")
        t = time.perf_counter()
        await desk.refresh(touched)
        refresh_s = time.perf_counter() - t
        say(f"refreshed {len(touched)} conversations in {refresh_s:.1f} s")

        messages, convs = await counts(desk.store)
        params = {"conversations": conversations, "generated": generated, "seed": seed, "end": end.isoformat()}
        await desk.store.set_meta(META_KEY, json.dumps(params, sort_keys=True))
        await desk.store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await desk.close()
    return BuildStats(path=str(path), conversations=convs, messages=messages, parsed_messages=parsed_messages,
                      direct_messages=direct, seconds=time.perf_counter() - t0, import_seconds=import_s,
                      ingest_seconds=ingest_s, refresh_seconds=refresh_s, file_bytes=_file_bytes(path))


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def build_big_store(path: str | Path = DEFAULT_PATH, conversations: int = 100_000, *, generated: int = 30_000,
                    seed: int = 1, end: dt.datetime | None = None, force: bool = False,
                    say: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> BuildStats:
    """Build a fresh store at `path`. An existing file is replaced only with force=True."""
    path = Path(path)
    if path.exists():
        if not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to replace it")
        _remove_store(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_build(path, conversations, generated, seed, end or default_end(), say))


def ensure_big_store(path: str | Path = DEFAULT_PATH, conversations: int = 100_000, *, generated: int = 30_000,
                     seed: int = 1, say: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> Path:
    """Reuse a complete store built with the same parameters (any `end`), else build it."""
    path = Path(path)
    if path.exists():
        import sqlite3
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                row = db.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
        except sqlite3.Error:
            row = None
        if row:
            made = json.loads(row[0])
            if (made["conversations"], made["generated"], made["seed"]) == (conversations, generated, seed):
                return path
    build_big_store(path, conversations, generated=generated, seed=seed, force=True, say=say)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--generated", type=int, default=30_000, help="messages imported through the parser")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--end", type=dt.datetime.fromisoformat, help="newest mail (UTC; default: this hour)")
    ap.add_argument("--force", action="store_true", help="replace an existing store at PATH")
    args = ap.parse_args()
    end = args.end.replace(tzinfo=args.end.tzinfo or dt.timezone.utc) if args.end else None
    try:
        stats = build_big_store(args.path, args.conversations, generated=args.generated, seed=args.seed,
                                end=end, force=args.force)
    except FileExistsError as e:
        print(f"build_big_store: {e}", file=sys.stderr)
        return 2
    print(f"built {stats.path}: {stats.conversations} conversations, {stats.messages} messages "
          f"({stats.parsed_messages} parsed + {stats.direct_messages} direct) in {stats.seconds:.1f} s "
          f"(import {stats.import_seconds:.1f} s, ingest {stats.ingest_seconds:.1f} s, "
          f"refresh {stats.refresh_seconds:.1f} s); file {stats.file_bytes / 2**20:.0f} MiB")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "build_big_store.json").write_text(json.dumps(asdict(stats), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
