"""The real `tui-desk` command line with one stop point, for tests/test_send_crash.py.

    python tests/send_crash_child.py POINT --config C --db D reply ID --body-file F

At POINT the process prints POINT, flushes, and blocks (the whole event loop with it) until the
test kills it with SIGKILL. Everything else is the unchanged code of tui_desk.
"""

from __future__ import annotations

import functools
import sys
import time

from tui_desk import cli
from tui_desk.sync import delivery as outbox
from tui_desk.mail.imap import ImapConnection


def stop(point: str) -> None:
    print(point, flush=True)
    while True:  # blocking on purpose: nothing else in this process may make progress
        time.sleep(3600)


def stop_before(owner, name: str, point: str) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    async def wrapper(*args, **kwargs):
        stop(point)
        return await real(*args, **kwargs)
    setattr(owner, name, wrapper)


def stop_after(owner, name: str, point: str) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    async def wrapper(*args, **kwargs):
        result = await real(*args, **kwargs)
        stop(point)
        return result
    setattr(owner, name, wrapper)


HOOKS = {
    # the reply is committed in the outbox (queued); OutboxSender is about to claim it
    "before-take": lambda: stop_before(outbox.OutboxSender, "_take", "before-take"),
    # claimed ('sending'), nothing handed to SMTP yet
    "before-smtp": lambda: stop_before(outbox, "send", "before-smtp"),
    # the SMTP server answered 250 and the session is closed; still 'sending' in the store
    "after-smtp": lambda: stop_after(outbox, "send", "after-smtp"),
    # 'sent' is committed; the Sent copy is not filed yet
    "before-file": lambda: stop_before(outbox.OutboxSender, "_file_in_sent", "before-file"),
    # connected to IMAP and searched Sent: the APPEND is next
    "before-append": lambda: stop_before(ImapConnection, "append", "before-append"),
    # the APPEND is done, the item not yet marked 'done'
    "after-append": lambda: stop_after(ImapConnection, "append", "after-append"),
}

if __name__ == "__main__":
    HOOKS[sys.argv[1]]()
    sys.exit(cli.main(sys.argv[2:]))
