"""tui-desk command line: thin over the desk. Plain text by default, --json for machines.

main() here; the parser in cli.parser, the commands in cli.commands, what they print in cli.output."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

from tui_desk.config import Config, default_db_path, load_config

# The app's start (`tui-desk`, `tui-desk --db F`) imports none of the commands' modules: they
# pull the store, sqlite3, aiosqlite, the search parser, csv, shlex (~6 ms before the first
# paint). Each is imported where it is used; these names (tests and the send-crash child use
# them from the package) are looked up on first use.
_LATER = {"keep_demo": "commands", "kept_demo_hint": "commands", "prepare_demo": "commands",
          "run_command": "commands", "CREATES_STORE": "commands",
          "TerminalJSON": "output", "UsageError": "output", "_user_errors": "output",
          "log_warnings_sanitized": "output", "message_json": "output", "say": "output"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib
        return getattr(importlib.import_module(f"tui_desk.cli.{_LATER[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def _setup_hint(db: Path, config: Config) -> str | None:
    from tui_desk.desk.setup_hint import setup_hint
    from tui_desk.store import Store
    from tui_desk.store.db import store_errors
    store = await Store.open(db, check=False)  # it reads; the app's own open checks
    try:
        with store_errors(store.path):
            return await setup_hint(store, config)
    finally:
        await store.close()


def _app_setup_hint(db: Path, config: Config) -> str | None:
    """The app's start without accounts: a store of this version is asked on a plain
    connection that cannot write (no event loop, no aiosqlite thread: ~1 ms instead of ~5-15
    before the first paint); a store not there yet, an older one to upgrade, or one that does
    not read, as before (_setup_hint), which makes, upgrades or says what is wrong."""
    import sqlite3

    from tui_desk.desk.setup_hint import setup_hint
    from tui_desk.store.db import PlainReads
    from tui_desk.store.schema import SCHEMA_VERSION
    try:
        store = PlainReads(db)
    except sqlite3.Error:
        store = None
    if store is not None:
        try:
            if store.version == SCHEMA_VERSION:
                return PlainReads.run(setup_hint(store, config))
        except sqlite3.Error:
            pass
        finally:
            store.close()
    return asyncio.run(_setup_hint(db, config))


def run_tui(db: Path, config: Config, *, temporary_store: bool = False) -> int:
    """temporary_store: the store is deleted on exit (the demo); the app's quit question says so."""
    # No garbage collection until the first page is there (ui.app resumes it, the start-up's
    # heap frozen first): passes over a heap of new modules, classes and widgets, a full one
    # among them, cost the first paint ~30-50 ms of CPU and free next to nothing.
    gc.disable()
    from tui_desk.store.app_lock import other_app_line
    shared = other_app_line(db)  # the app's lock on the store, kept while it runs; the app says it too
    if shared:
        print(f"tui-desk: {shared}", file=sys.stderr)
    from tui_desk.desk.first_page import FirstPageReader
    # before the TUI's imports, in a child process: they overlap on two cores
    first_page = FirstPageReader(db, config, fork=True)
    try:
        from tui_desk.ui.app import run_app
        return run_app(db, config, first_page, temporary_store=temporary_store)
    finally:
        first_page.close()  # a child whose page was never taken (Ctrl+C, a failed start) is ended


def run_kept_demo(folder: Path) -> int:
    """`tui-desk demo --keep DIR`: the demo on the store and config kept in DIR; on quit, how
    the CLI reaches them."""
    from tui_desk.cli.commands import keep_demo, kept_demo_hint
    from tui_desk.demo import DemoMailSink
    sink = DemoMailSink()  # its port goes into the config first
    db, config_path = asyncio.run(keep_demo(folder.expanduser().absolute(), sink.port))
    sink.start()
    try:
        code = run_tui(db, load_config(config_path, required=True))
    finally:
        sink.stop()
    print(kept_demo_hint(db, config_path), file=sys.stderr)
    return code


class _SanitizingFormatter(logging.Formatter):
    """Server answers and mail data end up in log lines; a log is read in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        from tui_desk.sanitize import sanitize
        return sanitize(super().format(record))


def setup_logging(path: Path | None) -> None:
    """--log FILE / $TUI_DESK_LOG: tui-desk's own debug log, other libraries' warnings. The
    IMAP adapter writes secrets as *** (mail/imap/adapter.py), so no password reaches the file."""
    if path is None:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(_SanitizingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("tui_desk").setLevel(logging.DEBUG)


def _check_store_folder(args, config: Config) -> None:
    """A store named by --db or $TUI_DESK_DB in a folder that is not there is a typo, not a
    new store: said, unless the command makes stores (the default place is made on first use).
    The app makes one too when it has an account to sync from: that is how a desk starts."""
    if not (args.db or os.environ.get("TUI_DESK_DB")):
        return
    if args.command is None:
        if any(a.imap is not None for a in config.accounts):
            return
    else:
        from tui_desk.cli.commands import CREATES_STORE
        if args.command in CREATES_STORE:
            return
    from tui_desk.cli.output import UsageError
    from tui_desk.store.db import StoreError, place_problem
    db = args.db or default_db_path()
    try:
        folder_there = db.parent.is_dir()
    except OSError:
        folder_there = False
    if not folder_there:
        problem = place_problem(db, making=False)  # a file where the folder should be, a closed folder
        if problem:
            raise StoreError(problem)
        raise UsageError(f"{db}: {db.parent}: no such folder (tui-desk import or sync makes a store)")


def _errors_said() -> tuple[type[Exception], ...]:
    from tui_desk.cli.output import _user_errors
    return _user_errors()


def main(argv: list[str] | None = None) -> int:
    from tui_desk.cli.output import UsageError, log_warnings_sanitized, say
    from tui_desk.cli.parser import parse_args
    args = parse_args(argv)
    log_warnings_sanitized()
    try:
        log_file = args.log or (Path(os.environ["TUI_DESK_LOG"]) if os.environ.get("TUI_DESK_LOG") else None)
        try:
            setup_logging(log_file)
        except OSError as e:
            raise UsageError(f"cannot write the log file {log_file}: {e.strerror}") from None
        config = load_config(args.config, required=args.config is not None)
        _check_store_folder(args, config)
        if args.command == "demo":
            if args.keep:
                return run_kept_demo(args.keep)
            from tui_desk.cli.commands import prepare_demo
            if args.prepare:
                asyncio.run(prepare_demo(args.prepare))
                return 0
            from tui_desk.demo import DemoMailSink, demo_config, demo_folder
            with demo_folder() as tmp:
                db = tmp / "demo.sqlite3"
                print("building the demo mailbox… (for this run only: `tui-desk demo --keep DIR` keeps it for the CLI)",
                      file=sys.stderr)
                asyncio.run(prepare_demo(db))
                sink = DemoMailSink()  # replies go here: the whole flow works with no account
                try:
                    return run_tui(db, demo_config(sink.start()), temporary_store=True)
                finally:
                    sink.stop()
        if args.command == "rules":
            from tui_desk.cli.rules import run_rules
            return run_rules(args, config)
        if args.command is None:
            db = args.db or default_db_path()
            if not config.accounts:  # a first start? (with accounts the app shows the sync's progress)
                hint = _app_setup_hint(db, config)
                if hint:
                    say(hint, file=sys.stderr)
            return run_tui(db, config)
        from tui_desk.cli.commands import run_command
        from tui_desk.store.db import store_errors
        with store_errors(args.db or default_db_path()):  # damage met on the way: one line
            return asyncio.run(run_command(args, config))
    except _errors_said() as e:
        say(f"tui-desk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tui-desk queue | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
