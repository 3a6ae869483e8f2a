"""Mail the sync kept header-only for its size, fetched in full when asked (`tui-desk fetch`)."""

from __future__ import annotations

from typing import Callable

from tui_desk.config import Config
from tui_desk.store import Store, ingest as store_ingest
from tui_desk.sync.imap_sync import AccountSync, ChangeCallback, FetchOutcome, noop_changed


async def fetch_over_limit(store: Store, config: Config, conv_id: int, passwords: Callable[[str, str], str | None], *,
                           on_change: ChangeCallback = noop_changed) -> list[FetchOutcome] | None:
    """Fetch in full every message of a conversation that the sync kept header-only for its
    size. None when there is no such conversation. A connection or login failure fails that
    account's messages (each outcome says why) rather than raising, so what worked is reported;
    a password that cannot be looked up raises SecretError/ConfigError as for the sync."""
    conv = await store_ingest.resolve_conversation(store, conv_id)
    if conv is None:
        return None
    by_account: dict[str, list[tuple[int, str, int]]] = {}
    for rowid, mid, account_name in await store_ingest.over_limit_messages(store, conv):
        by_account.setdefault(account_name, []).append((rowid, mid, conv))
    outcomes: list[FetchOutcome] = []
    for name, messages in by_account.items():
        account = next((a for a in config.accounts if a.name == name and a.imap is not None), None)
        if account is None:
            outcomes += [FetchOutcome(mid, c, error=f"account '{name}' is not configured for IMAP")
                         for _, mid, c in messages]
            continue
        sync = AccountSync(store, account, passwords(name, "imap") or "", is_agent=config.is_agent_address,
                           on_change=on_change)
        outcomes += await sync.fetch_whole(messages)
    return outcomes
