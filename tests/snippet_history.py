"""The crafted desk of tests/reports_history.py, with snippets named by its replies and CSAT
answers, so every snippet figure is known (tests/test_snippet_stats.py, the picker's tmux test).

    reply of     snippet          then                                   csat
    refund-a     refund-issued    closed 30 min after the reply          great
    refund-b     refund-issued    closed 60 min after                    bad
    refund-c     refund-issued    closed 1 h after, reopened, closed     -
                                  again 23 h after the reply
    refund-d     refund-issued    open                                   -
    password-a   password-reset   open                                   -
    password-c   (none)           closed 30 min after (this file)        -

refund-issued: uses 4, conversations 4, solved 3 (0.75), closed 3, reopened 1 (1/3), median
close 1 h (3600 s), CSAT 2 answers, mean 2.0, great 0.5. password-reset: uses 1, solved 0 of 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from tests.reports_history import FRT, NOW, Clock, asked_at, conversation_ids, crafted_desk
from tui_desk.desk.service import Desk
from tui_desk.store import events as store_events
from tui_desk.store.events import Event, new_event_id

USED = {"refund-a": "refund-issued", "refund-b": "refund-issued", "refund-c": "refund-issued",
        "refund-d": "refund-issued", "password-a": "password-reset"}
CSAT = {"refund-a": "great", "refund-b": "bad"}
SCORES = {"great": 3, "okay": 2, "bad": 1}


def reply_at(name: str) -> int:
    return int((asked_at(name) + dt.timedelta(minutes=FRT[name])).timestamp())


async def snippet_desk(path: Path, clock: Clock | None = None) -> Desk:
    """The desk of the module docstring at ``path`` (a new store), its clock left at NOW."""
    clock = clock or Clock(NOW)
    desk = await crafted_desk(path, clock)
    ids = await conversation_ids(desk)
    clock.at(asked_at("password-c") + dt.timedelta(minutes=90))
    await desk.set_status([ids["password-c"]], "closed")
    clock.at(NOW)
    anchors = await store_events.anchors(desk.store, list(ids.values()))
    found = []
    for name, snippet in USED.items():
        at = reply_at(name)
        found.append(Event(new_event_id(at), at, "alice", "reply", anchors[ids[name]],
                           {"message_id": f"{name}-reply@helpdesk.test", "reply_all": False,
                            "snippets": [{"name": snippet, "hash": None}]}))
    for name, rating in CSAT.items():
        at = reply_at(name) + 86400
        found.append(Event(new_event_id(at), at, "alice", "csat", anchors[ids[name]],
                           {"rating": rating, "score": SCORES[rating], "comment": "", "agent": "alice",
                            "snippets": [{"name": USED[name], "hash": None}], "survey": f"survey-{name}"}))
    async with desk.store.transaction():
        await store_events.record(desk.store, found)
    return desk


async def build_store(path: Path) -> None:
    desk = await snippet_desk(path)
    await desk.close()


def with_snippets_config(desk: Desk, **settings: object) -> None:
    from tui_desk.config import SnippetsConfig
    desk.config = dataclasses.replace(desk.config, snippets=SnippetsConfig(**settings))  # type: ignore[arg-type]
