"""The tables of mail the desk sends by itself or in bulk: [rules] (the rules file and how old
new mail may be to fire them), [autoreply] (limits and the acknowledgement), [followup] (the
bulk follow-ups' pace) and [csat] (the satisfaction survey)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_desk.config.common import ConfigError, TomlTable, _duration, _expect, _unknown_key


@dataclass(frozen=True)
class AutoReplyConfig:
    """[autoreply]: limits on mail the desk sends by itself (rules' replies, acknowledgements)."""
    customer_interval_minutes: int = 180  # at most one automatic mail per customer in this time
    conversation_interval_minutes: int = 180  # ... and per conversation
    max_per_hour: int = 30  # the whole desk's hard cap
    snippet: str = "auto-ack"  # the acknowledgement's snippet (it may use {{expected_wait}})
    default_wait_seconds: int = 4 * 3600  # default_wait = "4h": the expected wait with too little history
    min_samples: int = 5  # fewer measured first responses than this: default_wait
    # every new conversation gets `snippet` without a rule (desk.rules.acknowledge), unless a
    # rule replies to that mail itself
    acknowledge: bool = False


@dataclass(frozen=True)
class FollowupConfig:
    """[followup]: bulk follow-ups (desk.followup) go out through the outbox at this pace."""
    per_minute: int = 30  # follow-up mails per minute, all follow-ups together (the outbox spaces them)


@dataclass(frozen=True)
class CsatConfig:
    """[csat]: the satisfaction survey mailed after a close (desk.csat)."""
    enabled: bool = False
    delay_minutes: int = 0  # after the close, on the desk's clock
    snippet: str = "csat"  # the survey's text (bundled)
    min_days_between: int = 30  # never two surveys to one customer within this many days
    answer_days: int = 30  # a survey's links and replies count this long after it was sent
    secret_file: Path | None = None  # the token key; none: secret_command, else csat.secret beside the store
    secret_command: str | None = None


def _rules(path: Path, table: TomlTable) -> dict[str, Any]:
    """[rules]: `file` (the rules file) and `horizon_hours`; at least one of them."""
    for k in table:
        if k not in ("file", "horizon_hours"):
            raise _unknown_key(path, f"rules.{k}", ("file", "horizon_hours"))
    if not table:
        raise ConfigError(f"{path}: key 'rules.file' is missing")
    out: dict[str, Any] = {}
    if "horizon_hours" in table:
        hours = _expect(path, "rules.horizon_hours", table["horizon_hours"], int, "a whole number of hours")
        if hours < 0:
            raise ConfigError(f"{path}: key 'rules.horizon_hours' must be 0 or more, not {hours!r}")
        out["rules_horizon_hours"] = hours
    if "file" in table:
        file = Path(_expect(path, "rules.file", table["file"], str, "a file path")).expanduser()
        out["rules_file"] = file if file.is_absolute() else path.parent / file  # relative: beside the config
    return out


def _autoreply(path: Path, table: TomlTable) -> AutoReplyConfig:
    kwargs: dict[str, Any] = {}  # checked key by key: AutoReplyConfig's fields are the types
    for key, value in table.items():
        full = f"autoreply.{key}"
        if key == "default_wait":
            kwargs["default_wait_seconds"] = _duration(path, full, value)
            continue
        if key == "snippet":
            kwargs[key] = _expect(path, full, value, str, "a snippet's name")
            continue
        if key == "acknowledge":
            kwargs[key] = _expect(path, full, value, bool, "true or false")
            continue
        if key not in AutoReplyConfig.__dataclass_fields__ or key == "default_wait_seconds":
            raise _unknown_key(path, full, set(AutoReplyConfig.__dataclass_fields__) - {"default_wait_seconds"})
        kwargs[key] = _expect(path, full, value, int, "a whole number")
        if kwargs[key] < 0 or (key == "min_samples" and kwargs[key] == 0):
            raise ConfigError(f"{path}: key '{full}' must be {'1' if key == 'min_samples' else '0'} or more, "
                              f"not {value!r}")
    return AutoReplyConfig(**kwargs)


def _followup(path: Path, table: TomlTable) -> FollowupConfig:
    for key in table:
        if key != "per_minute":
            raise _unknown_key(path, f"followup.{key}", ("per_minute",))
    per_minute = _expect(path, "followup.per_minute", table.get("per_minute", FollowupConfig.per_minute), int,
                         "a whole number")
    if per_minute < 1:
        raise ConfigError(f"{path}: key 'followup.per_minute' must be 1 or more, not {per_minute!r}")
    return FollowupConfig(per_minute)


def _csat(path: Path, table: TomlTable) -> CsatConfig:
    kwargs: dict[str, Any] = {}  # checked key by key: CsatConfig's fields are the types
    for key, value in table.items():
        full = f"csat.{key}"
        if key == "enabled":
            kwargs[key] = _expect(path, full, value, bool, "true or false")
        elif key in ("snippet", "secret_command"):
            kwargs[key] = _expect(path, full, value, str, "a snippet's name" if key == "snippet" else "a command")
        elif key == "secret_file":
            file = Path(_expect(path, full, value, str, "a file path")).expanduser()
            kwargs[key] = file if file.is_absolute() else path.parent / file
        elif key in ("delay_minutes", "min_days_between", "answer_days"):
            kwargs[key] = _expect(path, full, value, int, "a whole number")
            if kwargs[key] < 0 or (key == "answer_days" and kwargs[key] == 0):
                raise ConfigError(f"{path}: key '{full}' must be {'1' if key == 'answer_days' else '0'} or more, "
                                  f"not {value!r}")
        else:
            raise _unknown_key(path, full, ("enabled", "snippet", "secret_command", "secret_file", "delay_minutes",
                                            "min_days_between", "answer_days"))
    return CsatConfig(**kwargs)
