from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from textual.color import Color
from textual.theme import Theme

from tui_desk.desk.snippets import bundled_dir
from tui_desk.desk.themes import (
    THEME_KEYS,
    ThemeError,
    default_theme_dirs,
    load_theme_specs,
    remember_theme,
    remembered_theme,
    state_file,
)

REQUIRED = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
            "warning", "error", "success")  # fmt: skip


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two opaque colours."""

    def luminance(text: str) -> float:
        def channel(c: int) -> float:
            s = c / 255
            return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

        r, g, b = Color.parse(text).rgb
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture
def specs() -> dict[str, dict]:
    folder = bundled_dir("themes")
    assert folder is not None
    return {spec["name"]: spec for spec in load_theme_specs([folder])}


def test_keys_match_textual_theme() -> None:
    # If Textual adds or renames a Theme field, the loader's key list must follow.
    assert THEME_KEYS == {f.name for f in dataclasses.fields(Theme)}


def test_bundled_themes_build_real_textual_themes(specs: dict[str, dict]) -> None:
    assert set(specs) == {"tui-desk-dark", "tui-desk-light", "tui-desk-high-contrast"}
    for name, spec in specs.items():
        for key in REQUIRED:
            assert spec.get(key), f"{name}: {key}"
        theme = Theme(**spec)
        generated = theme.to_color_system().generate()  # parses every colour
        assert generated["background"].upper() == spec["background"].upper()
        assert contrast(spec["foreground"], spec["background"]) >= 7, name
        for key in ("primary", "accent", "error", "warning", "success"):
            assert contrast(spec[key], spec["background"]) >= 3, f"{name}: {key}"
    assert specs["tui-desk-dark"]["dark"] is True
    assert specs["tui-desk-light"]["dark"] is False


def test_high_contrast_is_wcag_aaa(specs: dict[str, dict]) -> None:
    hc = specs["tui-desk-high-contrast"]
    assert Color.parse(hc["background"]) == Color(0, 0, 0)
    assert Color.parse(hc["foreground"]) == Color(255, 255, 255)
    accent = Color.parse(hc["accent"])
    assert accent.r > 240 and accent.g > 240 and accent.b < 20  # bright yellow
    colours = Theme(**hc).to_color_system().generate()
    assert colours["text"].upper() == "#FFFFFF"
    text_keys = ["text", "text-muted", "text-primary", "text-accent", "text-warning",
                 "text-error", "text-success", "footer-key-foreground", "link-color"]  # fmt: skip
    for key in ["foreground", "accent", "primary", "warning", "error", "success", *text_keys]:
        value = hc[key] if key in hc else colours[key]
        assert contrast(value, "#000000") >= 7, key
    assert contrast(colours["block-cursor-foreground"], colours["block-cursor-background"]) >= 7
    selection = colours["input-selection-foreground"], colours["input-selection-background"]
    assert contrast(*selection) >= 7


def test_default_dirs_and_user_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user = tmp_path / "tui-desk" / "themes"
    assert default_theme_dirs() == [bundled_dir("themes"), user]
    user.mkdir(parents=True)
    (user / "mine.toml").write_text('name = "tui-desk-dark"\nprimary = "#123456"\n')
    (user / "solar.toml").write_text('primary = "rgb(10, 20, 30)"\ndark = false\n')
    specs = {s["name"]: s for s in load_theme_specs(default_theme_dirs())}
    assert specs["tui-desk-dark"] == {"name": "tui-desk-dark", "primary": "#123456"}
    assert specs["solar"]["dark"] is False  # name defaults to the file stem
    Theme(**specs["solar"]).to_color_system().generate()


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ('primary = "#000"\nforegrund = "#fff"\n', "foregrund", "unknown key"),
        ('primary = "#00000G"\n', "primary", "not a colour"),
        ('primary = "#000"\ndark = "yes"\n', "dark", "true or false"),
        ('primary = "#000"\ntext_alpha = 2\n', "text_alpha", "0 to 1"),
        ('primary = "#000"\nvariables = { border = 1 }\n', "variables", "table of string"),
        ('name = ""\nprimary = "#000"\n', "name", "non-empty"),
        ('accent = "#000"\n', "primary", "required"),
    ],
)
def test_bad_theme_names_file_and_key(tmp_path: Path, toml: str, key: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ThemeError) as info:
        load_theme_specs([tmp_path])
    assert (info.value.path, info.value.key) == (str(path), key)
    assert str(info.value).startswith(f"{path}: {key}: ") and words in str(info.value)


def test_bad_theme_collected_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('primary = "#000"\n')
    (tmp_path / "b.toml").write_text("primary = \n")  # not TOML at all
    errors: list[ThemeError] = []
    assert [s["name"] for s in load_theme_specs([tmp_path], errors)] == ["a"]
    assert [(Path(e.path).name, e.key) for e in errors] == [("b.toml", None)]
    assert "cannot read" in str(errors[0])


def test_theme_memory_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert state_file() == tmp_path / "state" / "tui-desk" / "state.json"
    assert remembered_theme() is None
    state_file().parent.mkdir(parents=True)
    state_file().write_text(json.dumps({"other": 1}))
    remember_theme("tui-desk-light")
    assert remembered_theme() == "tui-desk-light"
    remember_theme("tui-desk-high-contrast")
    assert remembered_theme() == "tui-desk-high-contrast"
    assert json.loads(state_file().read_text())["other"] == 1  # other state is kept
    state_file().write_text("{not json")
    assert remembered_theme() is None  # a damaged file does not stop the app
