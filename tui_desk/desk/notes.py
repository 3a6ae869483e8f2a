"""Internal notes: Markdown from agents, kept beside the conversation's mail and shared through a
`Notes` folder on the server; never sent to the customer.

A note is a small mail from the agent to the desk itself. Its References name the
conversation's messages, so it threads where it belongs on every client; its Message-ID is
on NOTE_DOMAIN, so a note is recognised wherever it is found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_desk.desk.commands import CommandError
from tui_desk.desk.history import record_message
from tui_desk.desk.replies import conversation_mail
from tui_desk.mail.compose import ComposeError, Outgoing, build_message, new_message_id
from tui_desk.mail.model import NOTE_DOMAIN, NOTES_FOLDER, Address
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest, server_ops

if TYPE_CHECKING:
    from tui_desk.desk.core import DeskCore

MAX_REFERENCES = 40


async def add_note(desk: "DeskCore", conv_id: int, body_markdown: str, message_id: str | None = None) -> str:
    """`message_id`: fixed by a rule (desk.rules.execute), so running it again adds no second note."""
    if not body_markdown.strip():
        raise CommandError("the note is empty")
    conv, messages = await conversation_mail(desk, conv_id)
    ids = list(dict.fromkeys(store_ingest.wire_message_id(m["message_id"]) for m in messages))
    refs = ids[:1] + ids[1:][-(MAX_REFERENCES - 1):]
    account = desk.config.accounts[0] if desk.config.accounts else None
    desk_addr = account.address if account else "desk@" + NOTE_DOMAIN
    message_id = message_id or new_message_id(NOTE_DOMAIN)
    try:
        raw = build_message(Outgoing(
            sender=Address(desk.config.agent, desk_addr), to=[Address("", desk_addr)],
            subject=f"[note] [#{conv_id}] {conv['subject']}", body_markdown=body_markdown,
            # the text part keeps the Markdown as written: the desk shows a note from it, as
            # Markdown (ui.note_markdown), where a link made plain would show its address twice
            body_text=body_markdown, in_reply_to=ids[-1], references=refs), message_id)
    except ComposeError as e:
        raise CommandError(str(e)) from None
    parsed = parse_message(raw)
    result = store_ingest.IngestResult()
    async with desk.store.transaction():
        await store_ingest.ingest_in_transaction(desk.store, [store_ingest.NewMessage(
            raw=raw, parsed=parsed, source="note", is_agent=True, is_note=True)], result)
        await record_message(desk, conv_id, "note", {"message_id": message_id})
        if account and account.imap:
            await server_ops.enqueue(desk.store, account.name, "append_note", message_id,
                                     {"folder": NOTES_FOLDER, "at": desk.now()})
    await desk.refresh(result.conversations)
    return f"note added to #{conv_id}"
