"""[snippets]: when snippets are offered for automation or a new one is suggested, and
[snippets.values], the team's own placeholders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_desk.config.common import ConfigError, TomlTable, _expect, _unknown_key


@dataclass(frozen=True)
class SnippetsConfig:
    """[snippets]: when `tui-desk snippets suggest` offers a snippet for automation or a new one."""
    automate_share: float = 0.8  # a snippet that solves this share of its conversations ...
    min_uses: int = 10  # ... answered at least this many: offered as a rule draft
    good_share: float = 0.5  # a question group whose top snippet solves less: offered a new snippet
    # [snippets.values]: the team's own placeholders, the same in every reply ({{status_page_url}})
    values: tuple[tuple[str, str], ...] = ()


def _snippets(path: Path, table: TomlTable) -> SnippetsConfig:
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        full = f"snippets.{key}"
        if key in ("automate_share", "good_share"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ConfigError(f"{path}: key '{full}' must be a share above 0 and at most 1 (0.8), not {value!r}")
            kwargs[key] = float(value)
        elif key == "min_uses":
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 1:
                raise ConfigError(f"{path}: key '{full}' must be 1 or more, not {value!r}")
        elif key == "values":
            kwargs[key] = _snippet_values(path, _expect(path, full, value, dict, "a table"))
        else:
            raise _unknown_key(path, full, ("automate_share", "good_share", "min_uses", "values"))
    return SnippetsConfig(**kwargs)


# filled by the desk for each reply (desk.replies.placeholder_values): not the team's to set
DESK_PLACEHOLDERS = frozenset({"customer_first_name", "customer_name", "ticket_id", "agent_name", "agent_first_name",
                               "subject", "expected_wait", "incident"})


def _snippet_values(path: Path, table: TomlTable) -> tuple[tuple[str, str], ...]:
    """[snippets.values]: name = "text" for {{name}} in every snippet and reply."""
    out = []
    for name, value in table.items():
        full = f"snippets.values.{name}"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{path}: key '{full}' is not a placeholder name (letters, digits, _)")
        if name in DESK_PLACEHOLDERS:
            raise ConfigError(f"{path}: key '{full}': the desk fills {{{{{name}}}}} itself")
        out.append((name, _expect(path, full, value, str, "a text")))
    return tuple(out)
