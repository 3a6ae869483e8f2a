"""The view records (tui_desk.desk.views) are plain slotted dataclasses at run time, frozen only
to mypy (views.record: frozen=True was ~3.5 ms of the first paint). For the whole suite each
record's fields are made set-once here, so a test run still fails on any code, the UI's
included (which mypy does not check), that changes a record after making it."""

from __future__ import annotations

import dataclasses
from typing import Any


def _set_once(self: Any, name: str, value: Any) -> None:
    try:
        getattr(self, name)
    except AttributeError:  # an empty slot: __init__ (or unpickling) setting it
        object.__setattr__(self, name, value)
        return
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r} of {type(self).__name__}")


def _no_delete(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r} of {type(self).__name__}")


def view_records() -> list[type]:
    from tui_desk.desk import views

    return [c for c in vars(views).values()
            if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == views.__name__]


def guard_view_records() -> None:
    for cls in view_records():
        cls.__setattr__ = _set_once  # type: ignore[method-assign,assignment]
        cls.__delattr__ = _no_delete  # type: ignore[method-assign,assignment]
