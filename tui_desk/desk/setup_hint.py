"""What a first start with nothing to show says: where the accounts go, and the demo.

Plain text: the CLI prints it on stderr, the app's empty queue shows it.
"""

from __future__ import annotations

from pathlib import Path

from tui_desk.config import Config, default_config_path
from tui_desk.store.db import StoreReads


def setup_hint_text(config_path: Path) -> str:
    home = Path.home()
    shown = f"~/{config_path.relative_to(home)}" if config_path.is_relative_to(home) else str(config_path)
    return ("No mail yet, and no account is set up.\n"
            f"Add an [accounts.NAME] table to {shown} (see README: Accounts),\n"
            "or load mail files: tui-desk import PATH.\n"
            "To look around first: tui-desk demo")


async def setup_hint(store: StoreReads, config: Config) -> str | None:
    """The hint when there is no account to sync and no conversation in the store, else None."""
    if config.accounts or await store.fetchone("SELECT 1 FROM conversations LIMIT 1") is not None:
        return None
    return setup_hint_text(config.path or default_config_path())
