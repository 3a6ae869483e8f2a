"""split_quoted (desk/quoting.py): a reply's own words and the quoted mail, told apart for
display; nothing lost, nothing added."""

from __future__ import annotations

import pytest

from tui_desk.desk.quoting import split_quoted


def flags(text: str) -> list[tuple[str, bool]]:
    runs = split_quoted(text)
    assert "".join(t for t, _ in runs) == text  # nothing lost, nothing added
    return runs


def test_split_quoted_prefix_lines() -> None:
    text = "My answer.\n\n> their question\n>> older\n\n> more\nMine again\n"
    assert flags(text) == [
        ("My answer.\n\n", False),
        ("> their question\n>> older\n\n> more\n", True),
        ("Mine again\n", False),
    ]


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, Jan 15, 2024 at 10:00 AM John Doe <john@example.com> wrote:",
        "15.01.2024, 10:00, \"Иван\" <ivan@example.ru> написал(а):",
        "Иван Петров написал:",
        "在 2024年1月15日 10:00，张三 <zhang@example.cn> 写道：",
        "Am 15.01.2024 um 10:00 schrieb Hans <hans@example.de>:",
        "Le lun. 15 janv. 2024 à 10:00, Jean <jean@example.fr> a écrit :",
    ],
)
def test_split_quoted_attributions(attribution: str) -> None:
    text = f"Thanks!\n\n{attribution}\n> original\n> text\n"
    assert flags(text) == [("Thanks!\n\n", False), (f"{attribution}\n> original\n> text\n", True)]


def test_split_quoted_wrapped_gmail_attribution() -> None:
    text = ("Yes.\n\nOn Mon, Jan 15, 2024 at 10:00 AM Someone With A Long Name <\n"
            "someone@example.com> wrote:\n\n> hi\n")
    runs = flags(text)
    assert runs[0] == ("Yes.\n\n", False)
    assert runs[1][1] and runs[1][0].startswith("On Mon")


def test_split_quoted_interleaved_reply() -> None:
    text = "On Mon, X wrote:\n> q1\nanswer 1\n> q2\nanswer 2\n"
    assert flags(text) == [("On Mon, X wrote:\n> q1\n", True), ("answer 1\n", False),
                           ("> q2\n", True), ("answer 2\n", False)]


def test_split_quoted_top_posting_without_prefixes() -> None:
    text = "Sure.\n\nOn Tue, 2 Jan 2024, Bob wrote:\nthe whole old message\nunprefixed\n"
    assert flags(text) == [("Sure.\n\n", False),
                           ("On Tue, 2 Jan 2024, Bob wrote:\nthe whole old message\nunprefixed\n", True)]


@pytest.mark.parametrize(
    "separator",
    ["-----Original Message-----", "----- Original Message -----", "-----Исходное сообщение-----",
     "From: Bob <bob@example.com>\nSent: Monday, January 15, 2024 10:00 AM"],
)
def test_split_quoted_outlook_separators(separator: str) -> None:
    text = f"Reply text\n\n{separator}\nTo: me\nSubject: old\n\nold body\n"
    runs = flags(text)
    assert runs[0] == ("Reply text\n\n", False)
    assert runs[1][1] and runs[1][0].startswith(separator.splitlines()[0])
    assert len(runs) == 2


def test_split_quoted_edge_cases() -> None:
    assert split_quoted("") == []
    assert flags("no quotes at all") == [("no quotes at all", False)]
    assert flags("> only quoted") == [("> only quoted", True)]
    assert flags("a\r\n> b\r\n") == [("a\r\n", False), ("> b\r\n", True)]
    assert flags("I wrote: this is not an attribution\n") == [
        ("I wrote: this is not an attribution\n", False)]


def test_split_quoted_big_text_completes() -> None:
    text = ("On x wrote:\n" * 10_000) + ("> q\nanswer\n" * 50_000) + ("a" * 100_000 + " wrote:\n")
    runs = split_quoted(text)
    assert "".join(t for t, _ in runs) == text
