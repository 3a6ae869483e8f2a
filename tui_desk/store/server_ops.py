"""Local changes waiting for the server: durable, replayed in order, each one idempotent."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from tui_desk.store.db import Store


@dataclass(frozen=True, slots=True)
class ServerOp:
    id: int
    account: str
    kind: str
    message_id: str
    args: dict[str, Any]  # the kind's own arguments, as JSON keeps them
    attempts: int


async def enqueue(store: Store, account: str, kind: str, message_id: str, args: dict[str, Any]) -> None:
    await store.execute(
        "INSERT INTO server_ops(account, kind, message_id, args_json, created_at) VALUES (?, ?, ?, ?, ?)",
        (account, kind, message_id, json.dumps(args, ensure_ascii=False), int(time.time())))
    for listener in store.ops_listeners:
        listener.set()


async def pending(store: Store, account: str) -> list[ServerOp]:
    rows = await store.fetchall("SELECT * FROM server_ops WHERE account=? ORDER BY id", (account,))
    return [ServerOp(r["id"], r["account"], r["kind"], r["message_id"], json.loads(r["args_json"]), r["attempts"])
            for r in rows]


async def finish(store: Store, op_id: int) -> None:
    await store.execute("DELETE FROM server_ops WHERE id=?", (op_id,))


async def failed(store: Store, op_id: int, error: str) -> None:
    await store.execute("UPDATE server_ops SET attempts=attempts+1, last_error=? WHERE id=?", (error, op_id))


async def pending_message_ids(store: Store) -> set[str]:
    """Messages with changes not yet on the server: their local state is ahead of it."""
    return {r[0] for r in await store.fetchall("SELECT DISTINCT message_id FROM server_ops")}
