"""One message the demo's generator made (demo.mailbox), as its outputs (demo.outputs) and the
demo's history (demo.history) read it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Msg:
    idx: int = 0
    thread: int = 0
    when: float = 0.0                # epoch seconds (UTC)
    tz: int = 0
    kind: str = "customer"           # customer | agent | autoreply | bounce
    msgid: str = ""
    parent: "Msg | None" = None
    refs: list = field(default_factory=list)
    subject: str = ""
    flags: str = ""                  # maildir letters, sorted (F, R, S)
    raw: bytes = b""
    topic: str = ""                  # what the thread is about (phrases' topic key, e.g. "refund")
