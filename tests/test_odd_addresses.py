"""Odd address shapes from a customer's From/Reply-To: a reply either goes to exactly the
addresses its To line names (the SMTP envelope and the header agree) or is refused in one
clean line; never an extra recipient, never a different one (issue 13)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.utils import getaddresses

import pytest

from tui_desk.config import AccountConfig, Config, ServerConfig
from tui_desk.desk.importer import import_paths
from tui_desk.desk.service import Desk
from tui_desk.store import outbox

ODD = [
    '"a>b"@x.example',
    '"a,b"@x.example',
    'x <a@x.example> NOTIFY=SUCCESS ORCPT=rfc822;b@y.example',
    '<a@x.example> NOTIFY=SUCCESS ORCPT=rfc822;b@y.example>',
    '"x" <a@x.example>, b@y.example',  # two senders: the reply goes to both, or is refused
    'a@x.example (comment <b@y.example>)',
    '=?utf-8?q?b=40y=2Eexample?= <a@x.example>',
    'a@x.example\t<b@y.example>',
]
CONTROL = set(range(0, 9)) | set(range(10, 32)) | {0x7F} | set(range(0x80, 0xA0))


@pytest.mark.parametrize("sender", ODD)
async def test_a_reply_goes_to_what_its_to_line_says_or_is_refused(tmp_path, sender):
    mail = tmp_path / "m.eml"
    mail.write_bytes((f"From: {sender}\r\nTo: support@helpdesk.test\r\nSubject: odd\r\n"
                      "Message-ID: <odd@x.example>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0000\r\n\r\nHi\r\n").encode())
    account = AccountConfig(name="support", address="support@helpdesk.test",
                            smtp=ServerConfig("127.0.0.1", 2525, "none", ""))
    desk = await Desk.open(tmp_path / "desk.sqlite3", Config(agent="alice", accounts=(account,)))
    try:
        await import_paths(desk, [mail])
        [conv] = await desk.queue_ids()
        try:
            await desk.reply(conv, "Hello")
        except Exception as e:  # noqa: BLE001 - refused: one clean line saying why
            said = str(e)
            assert "\n" not in said and not any(ord(c) in CONTROL for c in said), said
            assert await outbox.items(desk.store) == []
            return
        [item] = await outbox.items(desk.store)
        sent = message_from_bytes(item.raw, policy=policy.SMTP)
        header_to = [a.lower() for _, a in getaddresses([str(sent["To"] or ""), str(sent["Cc"] or "")]) if a]
        assert sorted(a.lower() for a in item.recipients) == sorted(header_to), (item.recipients, str(sent["To"]))
        assert all("@" in a and " " not in a and ">" not in a for a in item.recipients)
    finally:
        await desk.close()
