"""Rebinding keys in config.toml ([keys]): applied, shown in ? help, problems said in one line."""

from __future__ import annotations

import re
from pathlib import Path

from ui_fake_desk import settle
from ui_support import make_app, plain_text
from tui_desk.config import load_config
from tui_desk.ui.app import DeskApp
from tui_desk.ui.main_screen import MainScreen
from tui_desk.ui.registry import REBINDABLE, VIEW_BINDINGS
from tui_desk.ui.help import HelpScreen
from tui_desk.ui.keymap import plan_keymap
from tui_desk.ui.queue import QueueView
from tui_desk.ui.triage import ActionPrompt

FIXED = [*VIEW_BINDINGS, *QueueView.BINDINGS]


def test_every_app_key_has_an_id_and_the_defaults_never_clash():
    described = [b for b in (*DeskApp.BINDINGS, *MainScreen.BINDINGS) if b.description]
    assert all(b.id for b in described)
    keymap, problems = plan_keymap(REBINDABLE, FIXED, [])
    assert keymap == {} and problems == []
    seen: dict[str, str] = {}
    for b in REBINDABLE:
        for key in b.key.split(","):
            assert key not in seen, f"{key}: {seen.get(key)} and {b.id}"
            seen[key] = b.id


def test_plan_keeps_good_rebindings_and_says_what_is_wrong_in_one_line_each():
    keymap, problems = plan_keymap(REBINDABLE, FIXED, [
        ("tag", "ctrl+t"), ("no_such", "x"), ("note", "j"), ("reply", "t"), ("help", "?")])
    assert keymap == {"tag": "ctrl+t", "reply": "t", "help": "question_mark"}  # t is free once tag moved
    assert len(problems) == 2 and all("\n" not in p for p in problems)
    assert problems[0].startswith("[keys] no_such: no such action")
    assert "j would be both note and the fixed key of" in problems[1] and "note keeps the default" in problems[1]
    keymap, problems = plan_keymap(REBINDABLE, FIXED, [("close", "z")])  # z is snooze's
    assert keymap == {} and problems == ["[keys] z would be both snooze and close: close keeps the default"]


def test_config_keys_table_is_read(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\ntag = "ctrl+t"\nreply = "r, ctrl+r"\n')
    assert load_config(config).keys == (("tag", "ctrl+t"), ("reply", "r, ctrl+r"))


async def test_a_rebound_key_acts_and_help_shows_it():
    app = make_app(keys=[("tag", "ctrl+t"), ("no_such", "x")])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert any("no_such: no such action" in str(n.message) for n in app._notifications)
        await pilot.press("t")  # no longer tag
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = plain_text(app.screen.query_one("#help-text"))
        tag_line = next(line for line in text.splitlines() if "Tag:" in line)
        assert "^t" in tag_line.lower() or "ctrl+t" in tag_line.lower(), tag_line


def test_the_readme_names_every_rebindable_key():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed = readme.split("<!-- key-ids -->")[1].split("<!-- /key-ids -->")[0]
    import re
    assert re.findall(r"`(\w+)`", listed) == [b.id for b in REBINDABLE]


def test_a_key_textual_cannot_deliver_is_said_and_the_default_kept():
    """`close = "zz"` was taken as a key: `c` stopped closing and nothing could close (`z z`
    snoozes). A key is one key name, with modifiers if any; anything else is said in one line."""
    for wanted in ("zz", "ctrl+", "frobnicate", "ctrl+zz", "hyper+", "Ctrl+t", "c,zz", "latin_small_letter_c",
                   "ctrl+ctrl+t", "+t"):
        keymap, problems = plan_keymap(REBINDABLE, FIXED, [("close", wanted)])
        assert keymap == {}, wanted
        assert len(problems) == 1 and "\n" not in problems[0], (wanted, problems)
        assert problems[0].startswith("[keys] close: ") and "close keeps the default" in problems[0], problems
        bad = next(k for k in wanted.split(",") if k != "c")
        assert repr(bad) in problems[0], (wanted, problems)


def test_every_key_textual_can_deliver_is_taken():
    from tui_desk.ui.keymap import is_key, keys_of
    for wanted in ("ctrl+t", "?", "question_mark", "+", "plus", "f5", "shift+f5", "alt+c", "ctrl+shift+up", "C",
                   "space", "escape", "é", "pageup", "ctrl+space", "full_stop"):
        assert [is_key(k) for k in keys_of(wanted)] == [True], wanted
    keymap, problems = plan_keymap(REBINDABLE, FIXED, [("close", "ctrl+k, alt+c"), ("reopen", "+")])
    assert problems == [] and keymap == {"close": "ctrl+k,alt+c", "reopen": "plus"}


async def test_an_impossible_key_leaves_close_on_c():
    app = make_app(keys=[("close", "zz")])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        said = [str(n.message) for n in app._notifications]
        assert any("[keys] close: 'zz'" in m for m in said), said
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = plain_text(app.screen.query_one("#help-text"))
        close_line = next(line for line in text.splitlines() if "Close" in line)
        assert "zz" not in close_line and re.search(r"(^|\W)c(\W|$)", close_line), close_line
