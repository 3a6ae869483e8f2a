"""desk/mailcap.py: the user's mailcap files read as the stdlib ``mailcap`` module read them
(the module is gone in Python 3.13). Crafted files, exact expectations; and where the stdlib
module still exists (3.11, 3.12), the two compared on the same files. How an entry is then
used (no terminal, no shell, the file a word of its own) is tested in test_attachments.py."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from tui_desk.desk import mailcap
from tui_desk.desk.attachments import opener

FIRST = (
    "# a comment; with: a semicolon\n"
    "\n"
    "   \n"
    "image/png; pngview %s; needsterminal\n"
    " Image / JPEG ; jpegview '%s' ; test=test -n \"$DISPLAY\" ; description = A \\; picture\n"
    "text/plain; pager %s; copiousoutput; x-flag=1; x-flag=2\n"
    "application/pdf; pdfview \\\n"
    "  --continued %s; nametemplate=%s.pdf\n"
    "image/*; anyimage %s\n"
    "no-view-field-here\n"
    "; view-without-type %s\n"
    "audio/ogg;\n"
    "video/mp4; escaped \\\\; played\n"
)
SECOND = (
    "image/png; second-png %s\r\n"
    "application/pdf; trailing-continuation %s \\\n"
)


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text(FIRST, encoding="utf-8")
    second.write_bytes(SECOND.encode())
    return [str(first), str(tmp_path / "missing"), str(second)]


def test_entries_fields_and_order(files: list[str]) -> None:
    caps = mailcap.getcaps(files)
    assert sorted(caps) == ["application/pdf", "audio/ogg", "image/*", "image/jpeg", "image/png", "text/plain",
                            "video/mp4"]
    assert caps["image/png"] == [{"view": "pngview %s", "needsterminal": "", "lineno": 0},
                                 {"view": "second-png %s", "lineno": 7}]
    assert caps["image/jpeg"] == [{"view": "jpegview '%s'", "test": 'test -n "$DISPLAY"',
                                   "description": "A \\; picture", "lineno": 1}]
    # the first of two fields with one name wins
    assert caps["text/plain"] == [{"view": "pager %s", "copiousoutput": "", "x-flag": "1", "lineno": 2}]
    # a continuation joins the next line, newline and indentation included
    assert caps["application/pdf"] == [
        {"view": "pdfview   --continued %s", "nametemplate": "%s.pdf", "lineno": 3},
        {"view": "trailing-continuation %s", "lineno": 8},
    ]
    assert caps["image/*"] == [{"view": "anyimage %s", "lineno": 4}]
    # an empty view is an entry too; lines without a type or without a view field are not
    assert caps["audio/ogg"] == [{"view": "", "lineno": 5}]
    # "\\;": the backslash escapes the backslash, and the ";" splits; escapes are kept as written
    assert caps["video/mp4"] == [{"view": "escaped \\\\", "played": "", "lineno": 6}]


def test_lookup_gives_the_type_then_its_wildcard_in_file_order(files: list[str]) -> None:
    caps = mailcap.getcaps(files)
    assert [e["view"] for e in mailcap.lookup(caps, "image/png")] == ["pngview %s", "anyimage %s", "second-png %s"]
    assert [e["view"] for e in mailcap.lookup(caps, "image/gif")] == ["anyimage %s"]
    assert mailcap.lookup(caps, "model/stl") == []


def test_which_files_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILCAPS", os.pathsep.join(["/a/one", "/b/two"]))
    assert mailcap.mailcap_files() == ["/a/one", "/b/two"]
    monkeypatch.delenv("MAILCAPS")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mailcap.mailcap_files() == [f"{tmp_path}/.mailcap", "/etc/mailcap", "/usr/etc/mailcap",
                                       "/usr/local/etc/mailcap"]
    (tmp_path / ".mailcap").write_text("text/x-home; homeview %s\n")
    assert mailcap.lookup(mailcap.getcaps(), "text/x-home")[0]["view"] == "homeview %s"
    monkeypatch.delenv("HOME")
    assert mailcap.mailcap_files()[0] == "./.mailcap"


def test_a_file_that_is_not_utf8_is_skipped_not_fatal(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.write_bytes(b"text/plain; caf\xe9view %s\n")
    good.write_text("text/plain; goodview %s\n")
    assert [e["view"] for e in mailcap.lookup(mailcap.getcaps([str(bad), str(good)]), "text/plain")] == ["goodview %s"]


def test_a_directory_or_an_unreadable_path_is_skipped(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_text("text/plain; goodview %s\n")
    assert mailcap.getcaps([str(tmp_path), "", str(good)]) == {"text/plain": [{"view": "goodview %s", "lineno": 0}]}


def test_the_viewer_comes_from_the_files_named_by_MAILCAPS(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """opener() goes through this reader: flags and shell-needing commands skipped as before."""
    file = tmp_path / "mailcap"
    file.write_text("image/png; pngview %s; needsterminal\nimage/*; /usr/bin/anyimage --type %t %s\n")
    monkeypatch.setenv("MAILCAPS", str(file))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no xdg-open
    assert opener("image/png") == ["/usr/bin/anyimage", "--type", "image/png", "%s"]


# --- the same results as the stdlib module, where it still exists ------------------------------

SAMPLES = [
    FIRST, SECOND, "", "\n\n", "#only a comment", "text/plain", "text/plain;", ";;;", "a/b; v\\", "a/b; v \\\n",
    "a/b; v; test\n", "a/b; v; =x; =y\n", "A/B; v %s; Flag; flag; FLAG=1\n", "a/b;v;x= 1 ;y =2\n",
    "a/b; one \\; two; three\n", "a/b ; v\\\\\n", "a/b; v\r\nc/d; w\n", "a/b; v\rc/d; w\r",
    "x/y; v \\\n\\\nz\n", "lineno/x; v; lineno=9\n",
    "a/b/c; v\n", " /x ; v\n", "*/*; v\n", "a/b; \t v \t ; k=\tv\t\n", "a/b; v\x0bw\x0cq\n", "a/b; v\u2028w\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_same_as_the_stdlib_module(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        stdlib = pytest.importorskip("mailcap", reason="the stdlib mailcap module is gone in this Python")
    one, two = tmp_path / "one", tmp_path / "two"
    one.write_bytes(text.encode())
    two.write_text("a/b; from-the-second %s\nimage/*; any %s\n")
    monkeypatch.setenv("MAILCAPS", os.pathsep.join([str(one), str(tmp_path / "missing"), str(two)]))
    theirs = stdlib.getcaps()
    assert mailcap.getcaps() == theirs
    for ctype in ["a/b", "text/plain", "image/png", "x/y", "lineno/x", "*/*"]:
        assert mailcap.lookup(mailcap.getcaps(), ctype) == stdlib.lookup(theirs, ctype)
