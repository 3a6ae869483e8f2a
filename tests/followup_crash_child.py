"""The real `tui-desk` command line stopped at the N-th step of a bulk follow-up, for
tests/test_followup_crash.py:

    python tests/followup_crash_child.py POINT N --config C --db D followup ... | outbox --send

POINT is `queued` (the N-th reply is committed to the outbox, the next not yet), `noted` (the
N-th note of a covered conversation is in: its customer's reply goes in another) or `after-smtp`
(the SMTP server took the N-th mail; the outbox still says 'sending'). There the process prints
POINT, flushes and blocks until the test kills it (tests/send_crash_child.stop). Everything else
is the unchanged code of tui_desk.
"""

from __future__ import annotations

import functools
import sys

from send_crash_child import stop

from tui_desk import cli
from tui_desk.desk import notes, replies
from tui_desk.sync import delivery


def stop_after_call(owner, name: str, point: str, n: int) -> None:
    real = getattr(owner, name)
    calls = 0

    @functools.wraps(real)
    async def wrapper(*args, **kwargs):
        nonlocal calls
        result = await real(*args, **kwargs)
        calls += 1
        if calls == n:
            stop(point)
        return result
    setattr(owner, name, wrapper)


HOOKS = {
    "queued": lambda n: stop_after_call(replies, "queue_reply", "queued", n),  # desk.followup imports it per run
    "noted": lambda n: stop_after_call(notes, "add_note", "noted", n),  # desk.followup imports it per note
    "after-smtp": lambda n: stop_after_call(delivery, "send", "after-smtp", n),
}

if __name__ == "__main__":
    HOOKS[sys.argv[1]](int(sys.argv[2]))
    sys.exit(cli.main(sys.argv[3:]))
