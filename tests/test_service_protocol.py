"""The real Desk satisfies DeskService, the one boundary the UI uses: every method the
protocol names, with the same parameters (names, order, defaults) and the same async-ness,
and every attribute it names."""

from __future__ import annotations

import inspect

from tui_desk.desk.background import Background
from tui_desk.desk.service import Desk
from tui_desk.desk.views import BackgroundWork, DeskService


def _members(protocol: type) -> tuple[dict[str, object], set[str]]:
    methods = {name: value for name, value in vars(protocol).items()
               if inspect.isfunction(value) and not name.startswith("_")}
    attributes = set(getattr(protocol, "__annotations__", {}))
    return methods, attributes


def _parameters(function: object) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _mismatches(implementation: type, protocol: type) -> list[str]:
    methods, attributes = _members(protocol)
    assert methods, f"{protocol.__name__} names no methods: the check would check nothing"
    wrong = []
    for name, wanted in methods.items():
        got = getattr(implementation, name, None)
        if got is None or not callable(got):
            wrong.append(f"{name}: missing")
            continue
        if inspect.iscoroutinefunction(wanted) != inspect.iscoroutinefunction(got):
            wrong.append(f"{name}: async in one, not in the other")
        if _parameters(wanted) != _parameters(got):
            wrong.append(f"{name}: {inspect.signature(got)} is not {inspect.signature(wanted)}")
    try:
        init = inspect.getsource(implementation.__init__)
    except TypeError:  # object's own __init__: no source
        init = ""
    for name in attributes:  # on the class, or set by __init__
        if not hasattr(implementation, name) and f"self.{name} =" not in init:
            wrong.append(f"{name}: attribute missing")
    return wrong


def test_the_real_desk_satisfies_the_protocol_the_ui_uses():
    assert _mismatches(Desk, DeskService) == []
    assert {"background", "undo_send_seconds", "store_version", "check_store", "send_now"} <= set(
        _members(DeskService)[0])


def test_the_desks_background_is_the_background_work_the_ui_runs():
    assert _mismatches(Background, BackgroundWork) == []
    assert inspect.signature(Desk.background).return_annotation in ("Background | None", Background | None)


def test_the_check_sees_a_difference():
    class Partial:
        agent = "me"

        def snippets(self, extra):  # noqa: ANN001, ANN201 - wrong on purpose
            return []

    wrong = _mismatches(Partial, DeskService)
    assert any(w.startswith("snippets: (self, extra) is not (self)") for w in wrong), wrong
    assert any(w.startswith("queue_ids: missing") for w in wrong)
