from __future__ import annotations

from pathlib import Path

import pytest

from tui_desk.desk.snippets import (
    SnippetError,
    bundled_dir,
    default_snippet_dirs,
    fill,
    filter_snippets,
    load_snippets,
    parse_snippet,
    placeholders,
)
from tui_desk.desk.csat import LINK_PLACEHOLDERS
from tui_desk.desk.views import Snippet

KNOWN = {"customer_first_name", "customer_name", "ticket_id", "agent_name", "order_id", "subject",
         "expected_wait",  # measured for the conversation (desk.expected_wait)
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
