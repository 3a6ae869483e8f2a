"""sync.collector: the garbage collector's thresholds while mail moves in bulk, and after."""

from __future__ import annotations

import gc

import pytest

from tui_desk.sync import collector


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_bulk_raises_the_young_threshold_and_restores_it(thresholds):
    with collector.bulk():
        assert gc.get_threshold() == (collector.BULK_THRESHOLD, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_contexts_restore_once_the_last_ends(thresholds):
    # two accounts syncing side by side: the first to end must not restore under the other
    first, second = collector.bulk(), collector.bulk()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == collector.BULK_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10)


def test_an_error_inside_restores_too(thresholds):
    with pytest.raises(RuntimeError), collector.bulk():
        raise RuntimeError("the connection dropped")
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_process_is_kept(thresholds):
    gc.set_threshold(50_000, 10, 10)
    with collector.bulk():
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold()[0] == 50_000


def test_the_older_thresholds_set_meanwhile_are_kept(thresholds):
    # the app sets its own (ui.app: gen2 1000) once started, perhaps while a first sync runs
    with collector.bulk():
        gc.set_threshold(gc.get_threshold()[0], 10, 1000)
    assert gc.get_threshold() == (700, 10, 1000)


def test_a_young_threshold_set_meanwhile_is_kept(thresholds):
    with collector.bulk():
        gc.set_threshold(2000, 10, 10)
    assert gc.get_threshold() == (2000, 10, 10)
