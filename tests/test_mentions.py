"""@mentions in internal notes reach the teammate mentioned (Help Scout, Front): a notice once
when a teammate's note naming me arrives by sync, and the Mentions view (`mentions:me`), unseen
first, newest mention first, until I open the conversation. Two agents, two stores, one real
Dovecot mailbox: the note travels through the server's Notes folder."""

from __future__ import annotations

import dataclasses
import mailbox

import pytest

from tests.accounts import AGENTS, agent
from tests.mailfactory import make_mail
from tui_desk.desk.service import Desk
from tui_desk.store.queries import thread_message_ids
from tui_desk.sync.imap_sync import AccountSync
from tui_desk.store.search import SearchError, mention_name, parse_query


async def conv_of(desk, message_id) -> int:
    return next(c for c, ids in (await thread_message_ids(desk.store)).items() if message_id in ids)


async def reopened(desk: Desk) -> Desk:
    path, config = desk.store.path, desk.config
    await desk.close()
    return await Desk.open(path, config)


async def unseen_rows(desk: Desk, ids: list[int]) -> set[int]:
    return {row.id for row in await desk.queue_rows(ids) if row.mention_unseen}


def sync_of(desk: Desk, dovecot, user) -> AccountSync:
    [account] = desk.config.accounts
    return AccountSync(desk.store, account, dovecot.password_of(user), is_agent=desk.config.is_agent_address,
                       on_change=desk.refresh)


async def test_a_note_naming_its_own_author_is_no_mention(tmp_path):
    """The one mention rule (store.search.mention_condition): the search, the notices and the
    seen marks skip a note whose author it names, however the author's name is spaced or cased."""
    from tui_desk.store import queries
    from tui_desk.store.db import Store
    from tui_desk.store.search import mention_condition

    store = await Store.open(tmp_path / "s.db")
    async with store.transaction():
        for n, (author, body) in enumerate([("Chen Wei", "@Chen.Wei note to self"),
                                            ("chen  wei", "@chen.wei again"),
                                            ("Bob Okafor", "@Chen.Wei have a look"),
                                            ("Chen Weiss", "@Chen.Wei from another Chen")], 1):
            await store.execute("INSERT INTO messages (message_id, conv_id, body, is_note, sender_name, added_at)"
                                " VALUES (?, ?, ?, 1, ?, 0)", (f"<n{n}@t>", n, body, author))
    condition, params = mention_condition("body", "sender_name", "Chen.Wei")
    rows = await store.fetchall(f"SELECT conv_id FROM messages WHERE {condition} ORDER BY id", params)
    assert [r[0] for r in rows] == [3, 4]
    assert [n["conv_id"] for n in await queries.notes_mentioning(store, "Chen.Wei")] == [3, 4]
    await store.close()


def test_a_name_is_written_without_spaces_and_mention_terms_take_either_form():
    assert mention_name("  Chen   Wei ") == "Chen.Wei"
    assert parse_query('mention:"Chen Wei"').mentions == parse_query("mention:@Chen.Wei").mentions == ["Chen.Wei"]
    assert parse_query("mentions:me", me="Bob Okafor").mentions == ["Bob.Okafor"]
    for nobody in ("mention:@", 'mention:"@ "'):
        with pytest.raises(SearchError, match="^mention: needs a value, e.g. mention:me$"):
            parse_query(nobody)
    with pytest.raises(SearchError, match="'mentions:me' is for searches and views"):
        parse_query("mentions:me", rule_keys=True)  # a rule has nobody to be "me"


async def test_a_teammates_mention_is_said_once_and_listed_until_opened(tmp_path, dovecot, mail_user):
    dovecot.load_maildir(mail_user, [make_mail("m1@t", subject="Refund twice", minutes=-30),
                                     make_mail("m2@t", subject="Export broken", sender="Dan <dan@c.test>",
                                               minutes=-20),
                                     make_mail("m3@t", subject="Login loop", sender="Eve <eve@c.test>",
                                               minutes=-10)])
    chen, chen_sync = await agent(tmp_path, "Chen Wei", dovecot, mail_user)
    bob, bob_sync = await agent(tmp_path, "Bob Okafor", dovecot, mail_user)
    assert await bob.mention_news() == [] and await chen.mention_news() == []  # first looks take note
    refund, export, login = [await conv_of(chen, m) for m in ("m1@t", "m2@t", "m3@t")]
    await chen.add_note(refund, "@Bob.Okafor can you check\x1b[31m the   **double charge** before Friday "
                                "please, it is the third time this month for this customer")
    await chen.add_note(login, "Not for @Bob.Okafore, nor bob.okafor@x.test, nor @Bob, nor x@Bob.Okafor")
    await chen.add_note(export, "Later: ask @bob.okafor.")
    await chen.add_note(login, "@Chen.Wei note to self")
    await chen_sync.sync_once()  # appends the notes to Notes
    await bob_sync.sync_once()
    assert await chen.mention_news() == []  # my own notes never tell me
    b_refund, b_export, b_login = [await conv_of(bob, m) for m in ("m1@t", "m2@t", "m3@t")]

    news = await bob.mention_news()
    assert [(n.conv_id, n.author) for n in news] == [(b_refund, "Chen Wei"), (b_export, "Chen Wei")]
    # plain text: the escape sequence gone, the spaces one, the Markdown as written, cut at a word
    assert news[0].text == (f"Chen Wei mentioned you on #{b_refund}: @Bob.Okafor can you check the "
                            "**double charge** before…")
    assert news[1].text == f"Chen Wei mentioned you on #{b_export}: Later: ask @bob.okafor."
    assert await bob.mention_news() == []  # said once
    bob = await reopened(bob)
    assert await bob.mention_news() == []  # and not again at the next start

    assert ("Mentions", "mentions:me") in bob.views()
    assert await bob.view_ids("mentions:me") == [b_export, b_refund]  # newest mention first
    assert await bob.queue_ids("mention:Bob.Okafor") == [b_export, b_refund]
    assert await bob.queue_ids('mentions:"bob okafor" refund') == [b_refund]
    assert await bob.queue_ids("mention:Bob") == [b_login]  # "@Bob," names a Bob, not Bob.Okafor
    assert await bob.queue_ids("mention:Chen.Wei") == []  # Chen's note to self mentions nobody
    assert await chen.view_ids("mentions:me") == []  # nor is it in his own Mentions view
    # the rows say which mentions are not seen yet (the queue's "@" marker)
    assert await unseen_rows(bob, [b_refund, b_export, b_login]) == {b_refund, b_export}
    assert await unseen_rows(chen, [refund, export, login]) == set()  # my own note to self
    await bob.conversation(b_export)  # opened: seen
    assert await bob.view_ids("mentions:me") == [b_refund, b_export]  # not seen first
    assert await unseen_rows(bob, [b_refund, b_export, b_login]) == {b_refund}
    bob = await reopened(bob)
    assert await bob.view_ids("mentions:me") == [b_refund, b_export]  # seen is kept in the store

    await chen.add_note(export, "@Bob.Okafor one more thing")  # a new mention: not seen again
    await chen_sync.sync_once()
    await sync_of(bob, dovecot, mail_user).sync_once()
    assert [n.conv_id for n in await bob.mention_news()] == [b_export]
    assert await bob.view_ids("mentions:me") == [b_export, b_refund]
    assert await unseen_rows(bob, [b_refund, b_export, b_login]) == {b_refund, b_export}
    for d in (chen, bob):
        await d.close()


async def test_a_first_look_on_a_store_that_has_mentions_says_nothing_then_only_new_ones(tmp_path):
    """An agent's first start (or an old store) says nothing of the mentions it holds already:
    the Mentions view lists them; a note arriving later is said."""
    config = dataclasses.replace(AGENTS, agent="Bob")
    desk = await Desk.open(tmp_path / "desk.db", dataclasses.replace(config, agent="Ann"))
    from tui_desk.desk.importer import import_paths
    box = mailbox.mbox(tmp_path / "mail.mbox")
    box.add(make_mail("a1@t", subject="Hello"))
    box.close()
    await import_paths(desk, [tmp_path / "mail.mbox"], workers=1)
    cid = await conv_of(desk, "a1@t")
    await desk.add_note(cid, "@Bob look")
    await desk.close()
    bob = await Desk.open(tmp_path / "desk.db", config)
    assert await bob.mention_news() == []
    assert await bob.view_ids("mentions:me") == [cid]
    await bob.close()
    ann = await Desk.open(tmp_path / "desk.db", dataclasses.replace(config, agent="Ann"))
    await ann.add_note(cid, "@Bob and again")
    await ann.close()
    bob = await Desk.open(tmp_path / "desk.db", config)
    [news] = await bob.mention_news()
    assert news.text == f"Ann mentioned you on #{cid}: @Bob and again"
    await bob.close()


async def test_a_note_whose_body_is_still_to_come_waits_with_those_after_it(tmp_path):
    """A sync may store a note's headers first: its mention is said when the body is there, and
    a note stored after it waits with it (said once, in order); a body that never comes is
    passed after BODY_WAIT, so the notices never stop."""
    from tui_desk.desk.importer import import_paths
    from tui_desk.desk.mentions import BODY_WAIT
    config = dataclasses.replace(AGENTS, agent="Bob")
    clock = [1_800_000_000.0]
    ann = await Desk.open(tmp_path / "desk.db", dataclasses.replace(config, agent="Ann"), clock=lambda: clock[0])
    box = mailbox.mbox(tmp_path / "mail.mbox")
    box.add(make_mail("a1@t", subject="Hello"))
    box.close()
    await import_paths(ann, [tmp_path / "mail.mbox"], workers=1)
    cid = await conv_of(ann, "a1@t")
    bob = await Desk.open(tmp_path / "desk.db", config, clock=lambda: clock[0])
    assert await bob.mention_news() == []
    await ann.add_note(cid, "@Bob first")
    await ann.add_note(cid, "@Bob second")
    [first, _] = [r["id"] for r in await ann.store.fetchall("SELECT id FROM messages WHERE is_note = 1 ORDER BY id")]
    await ann.store.execute("UPDATE messages SET body_state = 'headers', body = '', added_at = ? WHERE id = ?",
                            (int(clock[0]), first))  # as a sync stores headers first
    assert await bob.mention_news() == []
    await ann.store.execute("UPDATE messages SET body_state = 'full', body = '@Bob first' WHERE id = ?", (first,))
    assert [n.text.rpartition(": ")[2] for n in await bob.mention_news()] == ["@Bob first", "@Bob second"]

    await ann.add_note(cid, "@Bob third")
    await ann.store.execute("UPDATE messages SET body_state = 'headers', body = '', added_at = ? WHERE id = "
                            "(SELECT max(id) FROM messages)", (int(clock[0]),))
    assert await bob.mention_news() == []
    clock[0] += BODY_WAIT + 1  # its body never came: passed, and what comes after is said again
    await ann.add_note(cid, "@Bob fourth")
    assert [n.text.rpartition(": ")[2] for n in await bob.mention_news()] == ["@Bob fourth"]
    for d in (ann, bob):
        await d.close()
