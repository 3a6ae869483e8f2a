"""The private stdlib internals the parser relies on are still there, as it expects them.

tui_desk/mail/parse/stdlib_tree.py is the one file that uses private names of ``email``,
``email.feedparser`` and ``codecs`` (its docstring lists them and says why). Each check here
names the internal it checks: when one fails, the running Python changed that internal and
stdlib_tree.py must follow before anything else is trusted. A second test keeps every other
file of the parser free of such names, so this list stays complete.

What the tree builder must reproduce is compared, tree against tree, in tests/test_parse.py;
here only the names, signatures and copied patterns are checked, fast and by name.
"""

from __future__ import annotations

import ast
import codecs
import email._encoded_words
import email._header_value_parser
import email.feedparser
import email.message
import inspect
import re
import sys
from collections.abc import Callable
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from pathlib import Path

import pytest

# The parser is imported inside the checks that need it: with an internal gone, importing it
# fails, and the checks below should still say which internal it was.
PARSE_DIR = Path(__file__).resolve().parents[1] / "tui_desk" / "mail" / "parse"
WHERE = "tui_desk/mail/parse/stdlib_tree.py"


def changed(internal: str, detail: str) -> str:
    return (f"Python {sys.version.split()[0]} changed the stdlib internal {internal}: {detail}. "
            f"{WHERE} relies on it (see its docstring); adapt it there.")


def params(func: Callable) -> list[str]:
    return list(inspect.signature(func).parameters)


# --- each internal, checked by name ----------------------------------------------------------


def check_splitparam() -> None:
    f = getattr(email.message, "_splitparam", None)
    assert callable(f), changed("email.message._splitparam", "missing")
    assert params(f) == ["param"], changed("email.message._splitparam", f"signature {inspect.signature(f)}")
    assert f("text/plain; charset=x") == ("text/plain", "charset=x"), changed(
        "email.message._splitparam", f"returns {f('text/plain; charset=x')!r}")


def check_parseparam() -> None:
    f = getattr(email.message, "_parseparam", None)
    assert callable(f), changed("email.message._parseparam", "missing")
    assert params(f) == ["s"], changed("email.message._parseparam", f"signature {inspect.signature(f)}")
    got = f('text/plain; a="1;2"; b=3')
    assert got == ["text/plain", 'a="1;2"', "b=3"], changed("email.message._parseparam", f"returns {got!r}")


def check_unquotevalue() -> None:
    f = getattr(email.message, "_unquotevalue", None)
    assert callable(f), changed("email.message._unquotevalue", "missing")
    assert params(f) == ["value"], changed("email.message._unquotevalue", f"signature {inspect.signature(f)}")
    assert f('"a b"') == "a b" and f(("utf-8", "", '"x"')) == ("utf-8", "", "x"), changed(
        "email.message._unquotevalue", "no longer unquotes strings and RFC 2231 triples")


def check_headers_list() -> None:
    msg = Message()
    assert isinstance(getattr(msg, "_headers", None), list), changed(
        "email.message.Message._headers", "not a list on a new Message")
    msg["X-One"] = "1"
    assert msg._headers == [("X-One", "1")], changed(
        "email.message.Message._headers", f"holds {msg._headers!r} after msg['X-One'] = '1'")
    msg._headers.append(("X-Two", "2"))  # what the tree builder does
    assert msg["X-Two"] == "2", changed("email.message.Message._headers", "fields appended to it are not seen")


def check_payload_attr() -> None:
    msg = Message()
    assert hasattr(msg, "_payload") and msg._payload is None, changed(
        "email.message.Message._payload", "missing on a new Message")
    msg._payload = "body\n"  # what the tree builder does
    assert msg.get_payload() == "body\n", changed("email.message.Message._payload", "a body set there is not read")
    part = Message()
    part.attach(Message())
    assert isinstance(part._payload, list), changed("email.message.Message._payload", "attach() no longer makes a list")


def check_get_params_preserve() -> None:
    f = getattr(Message, "_get_params_preserve", None)
    assert callable(f), changed("email.message.Message._get_params_preserve", "missing")
    assert params(f) == ["self", "failobj", "header"], changed(
        "email.message.Message._get_params_preserve", f"signature {inspect.signature(f)}")
    calls: list[tuple[object, str]] = []

    class Spy(EmailMessage):
        def _get_params_preserve(self, failobj, header):  # type: ignore[no-untyped-def]
            calls.append((failobj, header))
            return super()._get_params_preserve(failobj, header)

    msg = Spy()
    msg["Content-Type"] = 'multipart/mixed; boundary="b"'
    msg["Content-Disposition"] = 'attachment; filename="f.txt"'
    assert (msg.get_boundary(), msg.get_filename(), msg.get_param("boundary")) == ("b", "f.txt", "b")
    assert {h for _, h in calls} >= {"content-type", "content-disposition"}, changed(
        "email.message.Message._get_params_preserve",
        "get_boundary / get_filename / get_param no longer go through it (the memo of _Part is bypassed)")


def check_overridden_signatures() -> None:
    """The public methods _Part overrides keep the signatures it overrides them with."""
    expected = {
        "get": ["self", "name", "failobj"],
        "__contains__": ["self", "name"],
        "get_content_type": ["self"],
        "get_content_disposition": ["self"],
        "get_param": ["self", "param", "failobj", "header", "unquote"],
    }
    for name, want in expected.items():
        got = params(getattr(Message, name))
        assert got == want, changed(f"email.message.Message.{name}", f"signature now {got}, _Part overrides {want}")
        from tui_desk.mail.parse.stdlib_tree import _Part
        assert params(getattr(_Part, name)) == want
    for name, want in {"header_fetch_parse": ["self", "name", "value"],
                       "header_source_parse": ["self", "sourcelines"]}.items():
        got = params(getattr(EmailPolicy, name))
        assert got == want, changed(f"email.policy.EmailPolicy.{name}",
                                    f"signature now {got}, _CappingPolicy expects {want}")


def check_feedparser_patterns() -> None:
    header_re = getattr(email.feedparser, "headerRE", None)
    assert header_re is not None and header_re.pattern == r"^(From |[\041-\071\073-\176]*:|[\t ])", changed(
        "email.feedparser.headerRE", f"pattern now {getattr(header_re, 'pattern', None)!r}, "
        "_FEED_HEADER_LINES copies the old one")
    eol = getattr(email.feedparser, "NLCRE_eol", None)
    assert eol is not None and eol.pattern == r"(\r\n|\r|\n)\Z", changed(
        "email.feedparser.NLCRE_eol", f"pattern now {getattr(eol, 'pattern', None)!r}, _strip_eol copies the old one")
    for name in ("_parsegen", "_parse_headers"):
        assert callable(getattr(email.feedparser.FeedParser, name, None)), changed(
            f"email.feedparser.FeedParser.{name}", "missing: _TreeBuilder follows it step by step")


BOUNDARY_END = r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"


def check_feedparser_boundary() -> None:
    """The boundary line _TreeBuilder.match recognizes: SEP, then this, matched at the line start.
    Python 3.13 holds it in boundaryendRE; 3.11 and 3.12 compile it inside _parsegen."""
    end_re = getattr(email.feedparser, "boundaryendRE", None)
    if end_re is not None:
        assert end_re.pattern == BOUNDARY_END, changed(
            "email.feedparser.boundaryendRE",
            f"pattern now {end_re.pattern!r}, _TreeBuilder.match copies {BOUNDARY_END!r}")
        return
    try:
        source = inspect.getsource(email.feedparser.FeedParser._parsegen)
    except OSError:
        pytest.fail(changed("email.feedparser.FeedParser._parsegen", "its source is not installed, the boundary "
                            "pattern cannot be checked"))
    assert "'(?P<sep>' + re.escape(separator) +" in source and f"r'){BOUNDARY_END}'" in source, changed(
        "email.feedparser.FeedParser._parsegen",
        "the boundary regex it compiles is no longer the one _TreeBuilder copies")


def check_encoded_words_decode() -> None:
    f = getattr(email._encoded_words, "decode", None)
    assert callable(f), changed("email._encoded_words.decode", "missing")
    assert params(f) == ["ew"], changed("email._encoded_words.decode", f"signature {inspect.signature(f)}")
    got = f("=?utf-8?q?caf=C3=A9?=")
    assert got == ("café", "utf-8", "", []), changed("email._encoded_words.decode", f"returns {got!r}")
    from tui_desk.mail.parse.stdlib_tree import _decode_encoded_word
    assert _decode_encoded_word("=?utf-8?b?Y2Fmw6k=?=")[0] == "café"


def check_header_value_parser_sets() -> None:
    """header_values._TOKEN / _PARAM_WORD: the ASCII characters TOKEN_ENDS / ATTRIBUTE_ENDS leave."""
    from tui_desk.mail.parse import header_values
    hvp = email._header_value_parser
    for internal, ours in (("TOKEN_ENDS", header_values._TOKEN), ("ATTRIBUTE_ENDS", header_values._PARAM_WORD)):
        ends = getattr(hvp, internal, None)
        assert isinstance(ends, (set, frozenset)), changed(f"email._header_value_parser.{internal}", "missing")
        word = re.compile(ours)
        differ = [c for c in map(chr, range(0x21, 0x7F)) if bool(word.fullmatch(c)) == (c in ends)]
        assert differ == [], changed(f"email._header_value_parser.{internal}",
                                     f"now disagrees with our copy on {''.join(differ)!r}")


def check_get_encoded_word() -> None:
    """addresses._simple_encoded_word ends a word where get_encoded_word does."""
    f = getattr(email._header_value_parser, "get_encoded_word", None)
    assert callable(f), changed("email._header_value_parser.get_encoded_word", "missing")
    source = inspect.getsource(f)
    for line in ("tok, *remainder = value[2:].split('?=', 1)", "remstr[0] in hexdigits", "remstr[1] in hexdigits",
                 "tok.count('?') < 2", "rest, *remainder = remstr.split('?=', 1)"):
        assert line in source, changed("email._header_value_parser.get_encoded_word",
                                       f"no longer has {line!r}: where a word ends may differ from our copy")


def check_codec_is_text_encoding() -> None:
    info = codecs.lookup("utf-8")
    assert hasattr(info, "_is_text_encoding"), changed("codecs.CodecInfo._is_text_encoding", "missing")
    flags = {name: codecs.lookup(name)._is_text_encoding for name in ("utf-8", "cp1252", "base64_codec", "rot13")}
    assert flags == {"utf-8": True, "cp1252": True, "base64_codec": False, "rot13": False}, changed(
        "codecs.CodecInfo._is_text_encoding", f"now {flags}")
    from tui_desk.mail.parse.stdlib_tree import _is_text_encoding
    assert _is_text_encoding(info) is True


CHECKS = [check_splitparam, check_parseparam, check_unquotevalue, check_headers_list, check_payload_attr,
          check_get_params_preserve, check_overridden_signatures, check_feedparser_patterns,
          check_feedparser_boundary, check_encoded_words_decode, check_header_value_parser_sets,
          check_get_encoded_word, check_codec_is_text_encoding]


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__.removeprefix("check_") for c in CHECKS])
def test_stdlib_internal(check: Callable[[], None]) -> None:
    check()


# --- the list above is complete: no other file of the parser uses private stdlib names ------

PRIVATE_ATTRS = {"_headers", "_payload", "_is_text_encoding", "_get_params_preserve"}
CHECKED = {"_splitparam", "_parseparam", "_unquotevalue", "_encoded_words", "_header_value_parser"} | PRIVATE_ATTRS


def private_stdlib_uses(path: Path) -> list[str]:
    """Private stdlib names a file imports, and the private Message / CodecInfo attributes it
    reads, sets or overrides."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("email", "codecs"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            if any(p.startswith("_") for p in (node.module or "").split(".")):
                found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in ("email", "codecs")
                      and any(p.startswith("_") for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRS:
            found.append(f".{node.attr}")
        elif isinstance(node, ast.FunctionDef) and node.name in PRIVATE_ATTRS:
            found.append(node.name)
    return found


def test_only_stdlib_tree_uses_private_stdlib_names() -> None:
    elsewhere = {p.name: uses for p in sorted(PARSE_DIR.glob("*.py"))
                 if p.name != "stdlib_tree.py" and (uses := private_stdlib_uses(p))}
    assert elsewhere == {}, f"private stdlib names outside {WHERE}: {elsewhere}"
    ours = private_stdlib_uses(PARSE_DIR / "stdlib_tree.py")
    assert ours, "the scan found nothing in stdlib_tree.py: it no longer sees what it looks for"
    unchecked = sorted({u.rsplit(".", 1)[-1] for u in ours} - CHECKED)
    assert unchecked == [], f"{WHERE} uses private names this file does not check: {unchecked}"
