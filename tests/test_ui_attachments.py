"""The attachments popup's save prompt (`s` on a conversation, Enter on an attachment): what it
shows before anything is typed is what Enter does."""

from __future__ import annotations

from tui_desk.ui.triage import ActionPrompt

try:
    from tests.ui_support import open_attachments, started, until
except ImportError:
    from ui_support import open_attachments, started, until


async def test_the_save_prompt_suggests_the_new_name_enter_saves_to(demo, tmp_path, monkeypatch):
    """The download folder is filled in; its grey completion once showed the folder's first
    file (an existing DEVELOPERS.md) although Enter saved a safe new name: it shows that name
    now, the next free copy's once the name is taken, and Enter saves there."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "AAA-existing.md").write_text("not to be replaced\n")
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(downloads))
    make_app, _ = demo
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await started(app, pilot)
        await open_attachments(app, pilot)
        popup = app.screen
        before = {"AAA-existing.md"}
        for _ in range(2):
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ActionPrompt))
            prompt = app.screen
            assert prompt.text_input.value == f"{downloads}/"
            await until(pilot, lambda: prompt.text_input._suggestion != "")
            suggested = prompt.text_input._suggestion
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is popup)
            [new] = {p.name for p in downloads.iterdir()} - before
            assert suggested == f"{downloads}/{new}", "the grey completion is where Enter saved"
            before.add(new)
        first, second = sorted(before - {"AAA-existing.md"}, key=len)
        assert "(1)" in second and "(1)" not in first  # the second time: the next free copy
        assert (downloads / "AAA-existing.md").read_text() == "not to be replaced\n"

