"""Placeholders put data into the agent's Markdown: a customer's name written as Markdown (or
HTML) is their name in both parts of the reply, never a link; the agent's own Markdown renders."""

from __future__ import annotations

import email
from email.policy import default

import pytest

from tui_desk.config import AccountConfig, Config
from tui_desk.mail.compose import escape_markdown, markdown_to_html

CONFIG = Config(agent="alice", agent_addresses=("*@helpdesk.test",),
                accounts=(AccountConfig(name="support", address="support@helpdesk.test", display_name="Support"),))
BODY = "Hi {{customer_name}},\n\nsee **this** and [the docs](https://docs.example/).\n\n{{agent_name}}\n"

NAMES = [
    "[Verify your account](https://evil.example/login)",
    "![x](https://evil.example/pixel.png) Eve",
    "<https://evil.example/auto>",
    "<b>Eve</b> <img src=x>",
    "*Eve* _x_ `code` &amp; Eve",
    "# Eve\n- not a list",
]


async def reply_parts(tmp_path, name: str) -> tuple[str, str]:
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.service import Desk
    from tui_desk.store import outbox

    name_header = email.header.Header(name.replace("\n", " "), "utf-8").encode()  # any bytes in a name
    (tmp_path / "m.eml").write_bytes(
        (f"From: {name_header} <eve@customer.test>\nTo: support@helpdesk.test\nSubject: Help\n"
         "Date: Fri, 20 Nov 2026 10:00:00 +0000\nMessage-ID: <q1@customer.test>\n\nHelp me\n").encode())
    desk = await Desk.open(tmp_path / "desk.db", CONFIG)
    try:
        await import_paths(desk, [tmp_path / "m.eml"], workers=1)
        await queue_reply(desk, 1, BODY)
        (item,) = await outbox.items(desk.store)
    finally:
        await desk.close()
    msg = email.message_from_bytes(item.raw, policy=default)
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


@pytest.mark.parametrize("name", NAMES)
async def test_a_name_inserted_by_a_placeholder_is_text_in_both_parts(tmp_path, name):
    plain, html = await reply_parts(tmp_path, name)
    shown = " ".join(name.split())
    assert f"Hi {shown}," in plain  # the text part has the name as written
    assert 'href="https://evil' not in html and "<img" not in html and "<b>" not in html
    assert "<em>" not in html and "<code>" not in html and "<h1" not in html and "<li" not in html
    # the agent's own Markdown still renders
    assert "<strong>this</strong>" in html and 'href="https://docs.example/"' in html


def test_escaped_markdown_renders_as_the_text():
    for name in NAMES:
        html = markdown_to_html("x " + escape_markdown(name))
        text = html.split("<p", 1)[1].split(">", 1)[1].rsplit("</p>", 1)[0]
        import html as html_module

        assert html_module.unescape(text) == "x " + " ".join(name.split())


@pytest.mark.parametrize("name", ["csat", "auto-ack"])
async def test_bundled_auto_snippets_read_well_in_both_parts(tmp_path, name):
    """The sign-off keeps its line break in the HTML part (Markdown joins lines: every line
    break of a reply is a hard one, as in the text part), and the text part shows a link as
    words and its address (as the HTML part reads as text), never as Markdown's
    [words](address); the reply queued as the desk queues the bundled snippet."""
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.replies import queue_reply
    from tui_desk.desk.service import Desk
    from tui_desk.desk.snippets import bundled_dir, parse_snippet
    from tui_desk.mail.html_text import html_to_text
    from tui_desk.store import outbox
    snippet = parse_snippet(bundled_dir("snippets") / f"{name}.md")
    links = {f"csat_{w}": f"mailto:agent1+csat-{w}@helpdesk.test?subject=Re%3A%20%5B%232%5D" for w in ("great", "okay", "bad")}
    (tmp_path / "m.eml").write_bytes(
        b"From: Ann Lee <ann@customer.test>\nTo: support@helpdesk.test\nSubject: Printer on fire\n"
        b"Date: Fri, 20 Nov 2026 10:00:00 +0000\nMessage-ID: <q1@customer.test>\n\nHelp me\n")
    desk = await Desk.open(tmp_path / "desk.db", CONFIG)
    try:
        await import_paths(desk, [tmp_path / "m.eml"], workers=1)
        await queue_reply(desk, 1, snippet.body, extra_values={**links, "agent_name": "Alice Martin"})
        (item,) = await outbox.items(desk.store)
    finally:
        await desk.close()
    msg = email.message_from_bytes(item.raw, policy=default)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = msg.get_body(("html",)).get_content()
    shown = html_to_text(html).splitlines()
    assert "For the support team," in shown and "Alice Martin" in shown, shown
    assert "For the support team,\nAlice Martin" in text
    assert "](" not in text, text
    if name == "csat":
        for word in ("Great", "Okay", "Bad"):
            assert f"- {word} <{links['csat_' + word.lower()]}>" in text, text
        assert 'href="mailto:agent1+csat-great@helpdesk.test' in html
