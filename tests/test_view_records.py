"""The desk's view records are never changed once made: frozen to mypy (desk.views.record), and
set-once at run time for the whole suite (tests/record_guard.py, installed by conftest)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle

import pytest

from record_guard import view_records
from tui_desk.desk import views


def a_row() -> views.QueueRow:
    return views.QueueRow(id=1, customer="Ann", customer_addr="ann@x.test", subject="Hi", status="open",
                          tags=("vip",), message_count=1, last_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                          score=1.0, marker=" ", reasons=())


def test_a_record_cannot_be_changed_once_made():
    row = a_row()
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.subject = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del row.subject  # type: ignore[misc]
    with pytest.raises(AttributeError):
        row.extra = 1  # type: ignore[attr-defined]
    assert row.subject == "Hi"


def test_a_record_is_remade_not_changed_and_stays_hashable_and_picklable():
    row = a_row()
    other = dataclasses.replace(row, subject="Re: Hi")
    assert (row.subject, other.subject) == ("Hi", "Re: Hi")
    assert row == a_row() and hash(row) == hash(a_row()) and len({row, a_row(), other}) == 2
    assert pickle.loads(pickle.dumps(row)) == row  # the first page comes from a forked reader so


def test_every_view_record_is_made_by_record_and_guarded():
    records = view_records()
    assert views.QueueRow in records and len(records) >= 14
    for cls in records:
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert "__slots__" in vars(cls) and params.unsafe_hash and not params.frozen, cls
        assert cls.__setattr__ is not object.__setattr__, cls
