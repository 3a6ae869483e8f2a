from __future__ import annotations

from pathlib import Path

import pytest

from tui_desk.desk.snippets import (
    SnippetError,
    bundled_dir,
    captured_values,
    default_snippet_dirs,
    fill,
    filter_snippets,
    first_name,
    load_snippets,
    parse_snippet,
    placeholders,
)
from tui_desk.desk.csat import LINK_PLACEHOLDERS
from tui_desk.desk.views import Snippet

KNOWN = {"customer_first_name", "customer_name", "ticket_id", "agent_name", "order_id", "subject",
         "expected_wait",  # measured for the conversation (desk.expected_wait)
         "incident",  # the incident's title (desk.incident)
         *LINK_PLACEHOLDERS}  # the satisfaction survey's answer links (desk.csat)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def snip(name: str, title: str, tags: tuple[str, ...] = (), body: str = "Hi") -> Snippet:
    return Snippet(name=name, title=title, tags=tags, body=body)


def test_bundled_snippets_all_load() -> None:
    folder = bundled_dir("snippets")
    assert folder is not None
    snippets, errors = load_snippets([folder])
    assert errors == []
    assert len(snippets) >= 12
    for s in snippets:
        assert s.title and s.body, s.name
        assert s.tags or placeholders(s.body), s.name
        # Every reply greets and signs the same way.
        assert s.body.startswith("Hi {{customer_first_name}},"), s.name
        assert s.body.rstrip().endswith("{{agent_name}}"), s.name
        assert "lorem" not in s.body.lower()


def test_bundled_placeholders_are_the_house_set() -> None:
    snippets, _ = load_snippets([bundled_dir("snippets")])  # type: ignore[list-item]
    extra = {p for s in snippets for p in placeholders(s.body)} - KNOWN
    # Only the status page link is left for the desk's settings to fill in.
    assert extra <= {"status_page_url"}


@pytest.mark.parametrize("mail_text, order", [
    ("Hi, I want a refund for order #4412, it arrived broken.", "4412"),
    ("My order #25655 was supposed to arrive last week.", "25655"),
    ("Order no. 12345, charged twice", "12345"),
    ("Возврат средств за заказ #98765", "98765"),
    # a new-user tryout's mail: "is" between the words and the number left {{order_id}} empty
    ("Where is it? My order number is #12253.", "12253"),
    ("Order ID: 5567 never came", "5567"),
    ("订单号 123456 还没到", "123456"),
])
def test_bundled_order_snippets_capture_the_order_number(mail_text: str, order: str) -> None:
    # Nothing else fills {{order_id}}: without a capture the bundled snippet could never be sent
    # as it is ("fill these before sending: {{order_id}}").
    snippets, _ = load_snippets([bundled_dir("snippets")])  # type: ignore[list-item]
    using = [s for s in snippets if "order_id" in placeholders(s.body)]
    assert {s.name for s in using} == {"refund-issued", "charged-twice", "order-delayed"}
    for s in using:
        assert captured_values([s], s.body, mail_text) == {"order_id": order}, s.name
        assert captured_values([s], s.body, "I ordered 3 items on 2026-01-01") == {}, s.name


def test_default_dirs_bundled_then_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user = tmp_path / "tui-desk" / "snippets"
    assert default_snippet_dirs() == [bundled_dir("snippets"), user]
    user.mkdir(parents=True)
    write(user, "refund-issued.md", "---\ntitle: My refund\n---\nHi {{customer_first_name}}\n")
    snippets, errors = load_snippets(default_snippet_dirs())
    assert errors == []
    mine = next(s for s in snippets if s.name == "refund-issued")
    assert mine.title == "My refund"  # the user's file overrides the bundled one


def test_front_matter_both_tag_styles(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ntitle: Alpha\ntags: [x, y]\n---\n\nBody A\n")
    write(tmp_path, "b.md", "---\ntitle: Beta\ntags: x, z\n---\nBody B")
    write(tmp_path, "c.md", "---\ntitle: Gamma\ntags: []\n---\nBody C")
    (a, b, c), errors = load_snippets([tmp_path])
    assert errors == []
    assert (a.name, a.title, a.tags, a.body) == ("a", "Alpha", ("x", "y"), "Body A")
    assert (b.tags, c.tags) == (("x", "z"), ())
    assert a.path == str(tmp_path / "a.md")


def test_no_front_matter_title_from_first_line(tmp_path: Path) -> None:
    write(tmp_path, "plain.md", "\nQuick thanks\n\nThanks, {{customer_first_name}}!\n")
    write(tmp_path, "heading.md", "# Heading title\n\nBody here\n")
    (heading, plain), errors = load_snippets([tmp_path])
    assert errors == []
    assert plain.title == "Quick thanks" and plain.body.startswith("Quick thanks")
    assert (heading.title, heading.body) == ("Heading title", "Body here")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("---\ntitle: T\nauthor: me\n---\nbody", 3, "unknown key 'author'"),
        ("---\ntitle: T\njust words\n---\nbody", 3, "expected 'key: value'"),
        ("---\ntitle: T\ntags: [a, b\n---\nbody", 3, "unbalanced"),
        ("---\ntitle: T\ntitle: U\n---\nbody", 3, "duplicate"),
        ("---\ntitle:\n---\nbody", 2, "empty title"),
        ("---\ntags: a\n---\nbody", 1, "no title"),
        ("---\ntitle: T\ntags: a\n", 1, "not closed"),
    ],
)
def test_malformed_front_matter_names_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, "broken.md", text)
    with pytest.raises(SnippetError) as info:
        parse_snippet(path)
    assert (info.value.path, info.value.line) == (str(path), line)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert words in str(info.value)


def test_broken_file_is_skipped_and_reported(tmp_path: Path) -> None:
    write(tmp_path, "good.md", "---\ntitle: Good\n---\nfine")
    write(tmp_path, "bad.md", "---\ntitle: Bad\noops: 1\n---\nbody")
    write(tmp_path, "empty.md", "  \n")
    write(tmp_path, "no body.md", "---\ntitle: Odd name\n---\nbody")
    (tmp_path / "latin1.md").write_bytes(b"caf\xe9")
    snippets, errors = load_snippets([tmp_path, tmp_path / "missing"])
    assert [s.name for s in snippets] == ["good"]
    assert sorted(Path(e.path).name for e in errors) == [
        "bad.md", "empty.md", "latin1.md", "no body.md"
    ]


def test_filter_ranks_name_then_title_then_tags_then_body() -> None:
    snippets = [
        snip("zz-body", "Other", body="we will issue a refund soon"),
        snip("charged-twice", "Charged twice", tags=("billing", "refund")),
        snip("policy", "Refund policy"),
        snip("refund-issued", "Money back"),
        snip("unrelated", "Password reset", tags=("account",)),
        snip("x-ref", "Our refunds desk"),
    ]
    names = [s.name for s in filter_snippets(snippets, "REFUND")]
    assert names == ["refund-issued", "policy", "x-ref", "charged-twice", "zz-body"]
    assert filter_snippets(snippets, "  ") == snippets
    assert filter_snippets(snippets, "nothing like this") == []
    # Several words: each must appear somewhere.
    assert [s.name for s in filter_snippets(snippets, "billing twice")] == ["charged-twice"]


def test_filter_bundled() -> None:
    snippets, _ = load_snippets([bundled_dir("snippets")])  # type: ignore[list-item]
    assert filter_snippets(snippets, "outage")[0].name.startswith("outage-")
    assert filter_snippets(snippets, "gdpr")[0].name == "data-deleted"


def test_placeholders_unique_in_order() -> None:
    body = "Hi {{ customer_first_name }}, #{{ticket_id}} {{customer_first_name}} {{no way}} {x}"
    assert placeholders(body) == ["customer_first_name", "ticket_id"]


def test_fill_reports_unknown_and_keeps_them_visible() -> None:
    body = "Hi {{customer_first_name}}, {{order_id}} — {{status_page_url}} — {{agent_name}}"
    values = {"customer_first_name": "Ann", "order_id": "  ", "agent_name": "Bo {{x}}"}
    text, missing = fill(body, values)
    assert text == "Hi Ann, {{order_id}} — {{status_page_url}} — Bo {{x}}"
    assert missing == ["order_id", "status_page_url"]


def test_fill_everything_known() -> None:
    text, missing = fill("{{ a }}{{b}}{{a}}", {"a": "1", "b": "2"})
    assert (text, missing) == ("121", [])


# --- captured values and {{agent_first_name}} (issue 17) ------------------------------------

CAPTURING = ("---\ntitle: Where is my order\ncapture: {order_number: 'order\\s*#?(\\d+)', "
             "tracking: \"track(?:ing)?:\\\\s*([A-Z0-9]+)\"}\nkb: https://help.test/orders\n---\n"
             "Hi {{customer_first_name}}, order {{order_number}} ({{tracking}}) is on its way. {{agent_first_name}}\n")


def test_front_matter_capture_and_kb(tmp_path: Path) -> None:
    s = parse_snippet(write(tmp_path, "where-is-it.md", CAPTURING))
    assert s.capture == (("order_number", r"order\s*#?(\d+)"), ("tracking", r"track(?:ing)?:\s*([A-Z0-9]+)"))
    assert s.kb == "https://help.test/orders"
    assert s.body.startswith("Hi {{customer_first_name}}")


def test_auto_flag_marks_snippets_for_the_desks_own_mail(tmp_path: Path) -> None:
    assert parse_snippet(write(tmp_path, "ack.md", "---\ntitle: Ack\nauto: True\n---\nHi\n")).auto is True
    assert parse_snippet(write(tmp_path, "off.md", "---\ntitle: Off\nauto: false\n---\nHi\n")).auto is False
    assert parse_snippet(write(tmp_path, "plain.md", "---\ntitle: Plain\n---\nHi\n")).auto is False
    assert parse_snippet(write(tmp_path, "bare.md", "# Bare\nHi\n")).auto is False


def test_bundled_snippets_for_automatic_mail_are_marked_auto() -> None:
    """Their placeholders (answer links, the incident, the measured wait) are filled only when
    the desk mails them by itself: the agents' picker leaves them out (ui.snippets)."""
    snippets, _ = load_snippets([bundled_dir("snippets")])  # type: ignore[list-item]
    auto = {s.name for s in snippets if s.auto}
    assert auto == {"csat", "auto-ack", "incident-ack", "incident-fixed"}
    for s in snippets:
        if s.name not in auto:  # what an agent picks can be sent from the composer
            assert not set(placeholders(s.body)) & {*LINK_PLACEHOLDERS, "incident", "expected_wait"}, s.name


@pytest.mark.parametrize(("line", "message"), [
    ("capture: order_number: 'x(\\d+)'", "capture is {placeholder: 'regex', ...}"),
    ("capture: {order_number: x(\\d+)}", "capture: expected name: 'regex'"),
    ("capture: {a: '(\\d+', }", "capture a: not a regex"),
    ("capture: {a: '(a+)+b'}", "capture a: a repeated group with a repeat inside"),
    ("capture: {a: '(\\w+\\s?)*$'}", "capture a: a repeated group with a repeat inside"),
    ("capture: {a: '\\d*'}", "capture a: the regex matches nothing at all"),
    ("capture: {a: 'x', a: 'y'}", "capture: a is given twice"),
    ("capture: {a: '\\s*\\s*\\s*x'}", "capture a: more than 2 open-ended repeats"),
    ("capture: {a: '" + "x" * 201 + "'}", "capture a: the regex is over 200 characters"),
    ("kb: javascript:alert(1)", "kb is an http(s) URL"),
    ("auto: yes", "auto is true or false"),
])
def test_bad_capture_or_kb_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, "bad.md", f"---\ntitle: T\n{line}\n---\nBody\n")
    with pytest.raises(SnippetError) as info:
        parse_snippet(path)
    assert info.value.line == 3 and message in info.value.message, info.value


def test_captured_values_come_from_the_mail_answered(tmp_path: Path) -> None:
    s = parse_snippet(write(tmp_path, "where-is-it.md", CAPTURING))
    mail = "Hello,\n\nmy ORDER #4711 has not arrived.\nTracking: ZX99\n\n> order 1 quoted\n"
    assert captured_values([s], s.body, mail) == {"order_number": "4711", "tracking": "ZX99"}
    # only what the text uses, and nothing when the mail does not say it
    assert captured_values([s], "order {{order_number}}", "no number here") == {}
    assert captured_values([s], "nothing to fill", mail) == {}
    text, missing = fill(s.body, {"customer_first_name": "Ann", "agent_first_name": "Alice",
                                  **captured_values([s], s.body, mail)})
    assert (text, missing) == ("Hi Ann, order 4711 (ZX99) is on its way. Alice", [])


def test_capture_searches_within_a_length_budget(tmp_path: Path) -> None:
    from tui_desk.desk.snippets import CAPTURE_LINE_CHARS, CAPTURE_TEXT_CHARS
    s = Snippet("x", "x", (), "{{code}}", capture=(("code", r"code:(\d+)"),))
    late = "a\n" * (CAPTURE_TEXT_CHARS // 2) + "code:12\n"
    assert captured_values([s], s.body, late) == {}  # past the text budget
    long_line = "y" * CAPTURE_LINE_CHARS + "code:34\n"
    assert captured_values([s], s.body, long_line) == {}  # past the line budget
    assert captured_values([s], s.body, "y" * (CAPTURE_LINE_CHARS - 10) + "code:56") == {"code": "56"}
    # the worst pattern a file may hold (two open-ended repeats that overlap) on a hostile line:
    # only the budget of it is searched (bench-free: the point is that it returns at all)
    slow = Snippet("y", "y", (), "{{v}}", capture=(("v", r"\s*\s*x"),))
    assert captured_values([slow], slow.body, " " * 100_000 + "\n" + " " * 100_000) == {}


def test_first_name() -> None:
    assert (first_name("Alice Martin"), first_name("bob"), first_name("  ")) == ("Alice", "bob", "")


async def test_a_reply_fills_captured_values_and_the_agents_first_name(tmp_path: Path) -> None:
    import email
    from email import policy

    from tests.mailfactory import make_mail
    from tui_desk.config import AccountConfig, Config
    from tui_desk.desk.service import Desk
    from tui_desk.mail.parse import parse_message
    from tui_desk.store import ingest, outbox

    config = Config(agent="Alice Martin", agent_addresses=("*@helpdesk.test",),
                    accounts=(AccountConfig(name="support", address="support@helpdesk.test"),))
    desk = await Desk.open(tmp_path / "desk.db", config)
    try:
        raw = make_mail("q1@c.test", subject="Where is it", sender="Ann Lee <ann@c.test>",
                        body="Hi, my order #4711 did not come.\n")
        result = await ingest.ingest(desk.store, [ingest.NewMessage(raw=raw, parsed=parse_message(raw))])
        [conv] = result.conversations
        desk._snippets = [parse_snippet(write(tmp_path, "where-is-it.md", CAPTURING))]
        assert {"agent_first_name", "order_number", "tracking"} <= set(desk.reply_placeholders())
        outbox_id, _ = await desk.reply(conv, "Order {{order_number}} ships today. {{agent_first_name}}",
                                        snippets=["where-is-it"])
        item = await outbox.get(desk.store, outbox_id)
        assert item is not None
        plain = email.message_from_bytes(item.raw, policy=policy.default).get_body(("plain",)).get_content()
        assert "Order 4711 ships today. Alice" in plain
        with pytest.raises(ValueError, match=r"\{\{tracking\}\}"):  # not in the mail: the agent fills it
            await desk.reply(conv, "Tracking {{tracking}}")
    finally:
        await desk.close()
