"""Conversations from References/In-Reply-To: order independence, missing parents, cycles,
duplicates, ticket markers, and never by subject alone."""

from __future__ import annotations

import itertools
import random

import pytest

from tests.conversations import add, partition
from tests.mailfactory import make_mail
from tui_desk.desk.service import Desk
from tui_desk.mail.parse import parse_message
from tui_desk.store import ingest as store_ingest
from tui_desk.store.queries import thread_message_ids


def sample_thread() -> list[bytes]:
    # a → b → c (c only references b), d replies to a missing parent x, e references x too,
    # f: In-Reply-To only; g: a stranger saying "Hello" (same subject as a, must stay alone)
    return [
        make_mail("a@t", subject="Hello"),
        make_mail("b@t", subject="Re: Hello", refs=["a@t"], in_reply_to="a@t", minutes=1),
        make_mail("c@t", subject="Re: Hello", refs=["b@t"], minutes=2),
        make_mail("d@t", subject="Re: lost", refs=["x@t"], minutes=3),
        make_mail("e@t", subject="Re: lost", refs=["x@t", "d@t"], minutes=4),
        make_mail("f@t", subject="Re: Hello", in_reply_to="c@t", minutes=5),
        make_mail("g@t", subject="Hello", sender="Zed <zed@other.test>", minutes=6),
    ]


EXPECTED = {frozenset({"a@t", "b@t", "c@t", "f@t"}), frozenset({"d@t", "e@t"}), frozenset({"g@t"})}


async def test_all_at_once(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, sample_thread())
    assert await partition(desk) == EXPECTED
    await desk.close()


@pytest.mark.parametrize("seed", range(6))
async def test_one_at_a_time_in_any_order_gives_the_same(tmp_path, seed):
    raws = sample_thread()
    random.Random(seed).shuffle(raws)
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, raws, batch=1)
    assert await partition(desk) == EXPECTED
    await desk.close()


async def test_every_order_of_a_merge(tmp_path):
    # p and q start apart; r references both and must join them whatever comes first
    raws = [make_mail("p@t"), make_mail("q@t", minutes=1), make_mail("r@t", refs=["p@t", "q@t"], minutes=2)]
    for n, order in enumerate(itertools.permutations(raws)):
        desk = await Desk.open(tmp_path / f"{n}.db")
        await add(desk, list(order), batch=1)
        assert await partition(desk) == {frozenset({"p@t", "q@t", "r@t"})}
        await desk.close()


async def test_cycle_and_self_reference(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, [make_mail("m1@t", refs=["m2@t"]), make_mail("m2@t", refs=["m1@t", "m2@t"])], batch=1)
    assert await partition(desk) == {frozenset({"m1@t", "m2@t"})}
    await desk.close()


async def test_duplicate_message_stored_once(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    raw = make_mail("dup@t")
    await add(desk, [raw, raw])
    await add(desk, [raw])
    assert await partition(desk) == {frozenset({"dup@t"})}
    await desk.close()


async def test_ticket_marker_joins_only_a_participant(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, [make_mail("t1@t", subject="Broken invoice", sender="ann@customer.test")])
    [conv] = (await thread_message_ids(desk.store)).keys()
    # same customer, new mail without threading headers but with the ticket marker: joins
    await add(desk, [make_mail("t2@t", subject=f"Re: [#{conv}] Broken invoice", sender="ann@customer.test",
                               minutes=5)])
    # a stranger quoting the marker does not
    await add(desk, [make_mail("t3@t", subject=f"[#{conv}] me too", sender="eve@evil.test", minutes=6)])
    assert await partition(desk) == {frozenset({"t1@t", "t2@t"}), frozenset({"t3@t"})}
    await desk.close()


async def test_same_subject_never_joins(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, [make_mail(f"h{i}@t", subject="Hello", sender=f"c{i}@x.test", minutes=i) for i in range(5)])
    assert len(await partition(desk)) == 5
    await desk.close()


async def test_merge_keeps_tags_and_aliases_the_old_ticket(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    await add(desk, [make_mail("p@t", sender="ann@customer.test"), make_mail("q@t", sender="ann@customer.test", minutes=1)], batch=1)
    ids = sorted((await thread_message_ids(desk.store)).keys())
    await desk.store.execute("INSERT INTO tags(conv_id, tag) VALUES (?, 'billing')", (ids[1],))
    await add(desk, [make_mail("r@t", refs=["p@t", "q@t"], minutes=2)])
    [survivor] = (await thread_message_ids(desk.store)).keys()
    assert survivor == ids[0]
    assert await store_ingest.resolve_conversation(desk.store, ids[1]) == survivor
    tags = await desk.store.fetchall("SELECT tag FROM tags WHERE conv_id=?", (survivor,))
    assert [t[0] for t in tags] == ["billing"]
    await desk.close()


async def test_copies_of_one_message_id_link_whatever_arrives_first(tmp_path):
    # two copies of dup@t reference different roots; notmuch joins all three in any order
    root, other = make_mail("root@t"), make_mail("other@t", minutes=1)
    copy1, copy2 = make_mail("dup@t", refs=["root@t"]), make_mail("dup@t", refs=["other@t"])
    for n, order in enumerate([[root, other, copy1, copy2], [root, other, copy2, copy1],
                               [copy2, root, copy1, other]]):
        desk = await Desk.open(tmp_path / f"{n}.db")
        await add(desk, order, batch=1)
        # two mails with one id: both kept (the second under a derived id), in one conversation
        [ids] = list(await partition(desk))
        assert len(ids) == 4 and {i.partition("#dup-")[0] for i in ids} == {"root@t", "other@t", "dup@t"}
        await desk.close()


def test_subject_prefixes_are_stripped_for_display_and_re_once():
    from tui_desk.mail.compose import reply_subject
    from tui_desk.mail.threading import strip_subject_prefixes
    assert strip_subject_prefixes("Re: AW: Ответ: 回复：Refund") == "Refund"
    assert strip_subject_prefixes("Fwd: RE[2]: Refund") == "Refund"
    assert strip_subject_prefixes("Fwd: Refund", forwards=False) == "Fwd: Refund"
    assert reply_subject("RE: Re: Refund", 12) == "Re: [#12] Refund"
    assert reply_subject("Re: [#12] Refund", 12) == "Re: [#12] Refund"


def test_reply_and_forward_subjects_carry_no_terminal_controls_back():
    """The customer's subject is written back without escape sequences and controls (the
    customer's mail client would show them as they are), bidi overrides marked; text, emoji
    and spacing as they were."""
    from tui_desk.mail.compose import forward_subject, reply_subject
    hostile = "\x1b[31mRED\x1b[0m [bold]markup[/bold] \u202eevil\x07 👩\u200d💻  two  spaces"
    expected = "[bold]markup[/bold] \ufffdevil 👩\u200d💻  two  spaces"
    assert reply_subject(hostile, 5) == f"Re: [#5] RED {expected}"
    assert forward_subject("Re: " + hostile) == f"Fwd: RED {expected}"
    assert reply_subject("Line\r\nbreak\tand tab") == "Re: Line break and tab"


async def test_another_mail_with_a_known_message_id_is_kept_beside_the_first(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    first = make_mail("same@t", subject="Invoice 1", body="the first\n")
    other = make_mail("same@t", subject="Invoice 1", body="another mail, same id\n", minutes=5)
    third = make_mail("same@t", subject="Unrelated", sender="Eve <eve@evil.test>", minutes=6)
    await add(desk, [first, other], batch=1)  # one at a time: the second knows the first from the store
    await add(desk, [third, make_mail("reply@t", refs=["same@t"], minutes=7)])
    [ids] = list(await partition(desk))  # the others join the first's conversation, never dropped
    assert len(ids) == 4 and "same@t" in ids and "reply@t" in ids
    rows = await desk.store.fetchall("SELECT message_id, body, defects_json FROM messages"
                                     " WHERE message_id LIKE 'same@t%' ORDER BY id")
    assert [r[1] for r in rows] == ["the first", "another mail, same id", "Hi there."]
    assert rows[0][2] == "[]"
    for derived, _, defects in rows[1:]:
        assert derived.startswith("same@t#dup-")
        assert f"another message has the same Message-ID <same@t>: this one is kept as <{derived}>" in defects
    # the same mails again, with other line endings, in one batch or one by one: nothing new
    for batch in (None, 1):
        before = await desk.store.fetchall("SELECT id, message_id FROM messages ORDER BY id")
        items = [store_ingest.NewMessage(raw=r.replace(b"\n", b"\r\n"), parsed=parse_message(r))
                 for r in (other, third, first, other)]
        for i in range(0, 4, batch or 4):
            result = await store_ingest.ingest(desk.store, items[i:i + (batch or 4)])
            assert result.added == 0 and result.id_conflicts == 0
        assert await desk.store.fetchall("SELECT id, message_id FROM messages ORDER BY id") == before
    await desk.close()


async def test_two_copies_of_one_mail_are_one_message_whatever_their_transit_fields(tmp_path):
    desk = await Desk.open(tmp_path / "s.db")
    raw = make_mail("copy@t", body="From the start.\n")  # a body line an mbox quotes as >From
    delivered = (b"Return-Path: <ann@customer.test>\nDelivered-To: billing@helpdesk.test\n"
                 b"Received: from mx.customer.test by mx.helpdesk.test;\n Mon, 2 Nov 2026 09:00:01 +0000\n" + raw)
    head, _, body = raw.partition(b"\n\n")
    in_mbox = head + b"\nStatus: RO\n\n" + body.replace(b"From the", b">From the")
    await add(desk, [raw, delivered.replace(b"\n", b"\r\n"), in_mbox])
    items = [store_ingest.NewMessage(raw=head + b"\n\n", parsed=parse_message(raw), body_state="headers")]
    assert (await store_ingest.ingest(desk.store, items)).duplicates == 1  # a header block alone
    assert await partition(desk) == {frozenset({"copy@t"})}
    assert store_ingest.same_mail(raw, True, raw.replace(b"start", b"end"), True) is False
    await desk.close()
