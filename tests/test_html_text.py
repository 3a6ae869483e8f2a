"""HTML bodies rendered to readable text (stdlib html.parser behind a linear normalizer)."""

from __future__ import annotations

import pytest

from tui_desk.mail.html_text import html_to_text


def test_paragraphs_breaks_and_whitespace() -> None:
    html = "<p>First   paragraph\n spans\tlines.</p><p>Second<br>with a break</p>  <div>div</div>"
    assert html_to_text(html) == "First paragraph spans lines.\n\nSecond\nwith a break\n\ndiv"


def test_double_br_is_one_blank_line_and_more_do_not_pile_up() -> None:
    assert html_to_text("a<br><br>b") == "a\n\nb"
    assert html_to_text("a<br><br><br><br><br>b") == "a\n\nb"
    assert html_to_text("<br><br>a<br><br>") == "a"


def test_inline_tags_do_not_add_spaces() -> None:
    assert html_to_text("<p>foo<b>bar</b> <i>baz</i>, <span>qux</span></p>") == "foobar baz, qux"


def test_headings_are_blocks() -> None:
    assert html_to_text("<h1>Title</h1>text<h2>Sub</h2>more") == "Title\n\ntext\n\nSub\n\nmore"


def test_lists() -> None:
    html = "<p>Do:</p><ul><li>one</li><li>two<ul><li>inner</li></ul></li></ul><ol><li>a<li>b</ol>"
    assert html_to_text(html) == "Do:\n\n- one\n- two\n  - inner\n\n1. a\n2. b"


def test_ordered_list_start() -> None:
    assert html_to_text('<ol start="3"><li>c</li><li>d</li></ol>') == "3. c\n4. d"


def test_blockquote_lines_are_quoted() -> None:
    html = ("<p>Reply</p><blockquote><p>old line</p><p>older</p>"
            "<blockquote>oldest</blockquote></blockquote>after")
    assert html_to_text(html) == "Reply\n\n> old line\n>\n> older\n>\n> > oldest\n\nafter"


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<a href="https://example.com/x">the docs</a>', "the docs <https://example.com/x>"),
        ('<a href="https://example.com/">https://example.com</a>', "https://example.com"),
        ('<a href="http://example.com">example.com</a>', "example.com"),
        ('<a href="mailto:help@example.com">help@example.com</a>', "help@example.com"),
        ('<a href="mailto:help@example.com">write us</a>', "write us <mailto:help@example.com>"),
        ('<a href="https://t.example/img"><img src="x.png"></a>', "https://t.example/img"),
        ('<a href="https://t.example/"><img alt="Logo"></a>', "[Logo] <https://t.example/>"),
        ('<a href="#top">back</a>', "back"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a name="anchor">plain</a>', "plain"),
        ('<a href="https://x.example/?a=1&amp;b=2">q</a>', "q <https://x.example/?a=1&b=2>"),
        ('see <a href="u">this</a>, ok', "see this <u>, ok"),
    ],
)
def test_links(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_dropped_elements() -> None:
    html = (
        "<html><head><title>Title</title><style>p { color: red }</style>"
        "<script>alert('x')</script><meta charset=utf-8></head>"
        "<body><script type='text/javascript'>var a = '<p>not text</p>';</script>"
        "<p>Body</p><!-- a comment <p>hidden</p> --><template><p>tpl</p></template></body></html>"
    )
    assert html_to_text(html) == "Body"


def test_outlook_conditional_comments() -> None:
    html = "<!--[if mso]><p>mso only</p><![endif]--><![if !mso]><p>for others</p><![endif]>"
    assert html_to_text(html) == "for others"


def test_text_before_body_without_head_close_is_kept() -> None:
    assert html_to_text("<html><head><meta charset=utf-8>Hello there") == "Hello there"


def test_entities() -> None:
    html = "<p>Tom &amp; Jerry &lt;3 &quot;cheese&quot; &eacute;t&eacute; &#8364;5 &#x1F600; &nbsp;x&copy</p>"
    assert html_to_text(html) == 'Tom & Jerry <3 "cheese" été €5 😀 x©'


def test_pre_keeps_its_layout() -> None:
    html = "<p>Log:</p><pre>\n  line 1\n    line 2\n\n\nend</pre><p>after</p>"
    assert html_to_text(html) == "Log:\n\n  line 1\n    line 2\n\n\nend\n\nafter"


def test_tables_row_by_row() -> None:
    html = (
        "<table><tr><th>Item</th><th>Qty</th></tr>"
        "<tr><td>Apples</td><td>3</td></tr><tr><td></td><td>4</td></tr></table>total"
    )
    assert html_to_text(html) == "Item | Qty\nApples | 3\n4\n\ntotal"


def test_layout_tables_do_not_sprout_separators() -> None:
    html = "<table><tr><td><table><tr><td>inner</td></tr></table></td><td></td></tr></table>"
    assert html_to_text(html) == "inner"


def test_images_show_alt_text() -> None:
    assert html_to_text('Hi<img src="a.png" alt="Company logo">there<img src=p.gif alt="">') == (
        "Hi [Company logo] there"
    )


def test_hr() -> None:
    assert html_to_text("a<hr>b") == "a\n\n----------\n\nb"


def test_preheader_padding_is_dropped() -> None:
    html = "<div>Sale!&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;&zwnj;&nbsp;&#173;&#8203;</div><p>Body</p>"
    assert html_to_text(html) == "Sale!\n\nBody"


def test_textarea_and_xmp_content_is_literal() -> None:
    assert html_to_text("<xmp><b>not bold</b></xmp>") == "<b>not bold</b>"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "plain text, no tags",
        "<",
        "<<<>>>",
        "a < b > c",
        "<p>unclosed <b>bold <i>italic",
        "</p></div></li></ul></blockquote></a></pre></table>",
        "<![<![<![",  # raises AssertionError in CPython 3.11's HTMLParser
        "<!DOCTYPE",
        "<!-- never closed",
        "<script>never closed",
        "<style>never closed",
        "<title>never closed",
        "<a href='unterminated>text",
        '<a href="x>y">z</a>',
        "<?php echo 1; ?>text",
        "<![CDATA[x]]>y",
        "&#xFFFFFFFF; &#0; &#55296; &bogus; &",
        "<p\x00>nul\x00</p>",
        "<\u00e9t\u00e9>",
        "</>< />",
        "<svg><foreignObject><p>x</p></foreignObject></svg>",
    ],
)
def test_malformed_markup_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_unclosed_constructs_keep_the_text_a_browser_would() -> None:
    assert html_to_text("a < b and c > d") == "a < b and c > d"
    assert html_to_text("<title>no end") == "no end"
    assert html_to_text("before<script>if (a < b) {") == "before"
    assert html_to_text("<p>open <a href=x>link") == "open link <x>"


@pytest.mark.parametrize(
    "chunk",
    ["<a b", "<!--", "</", "<!", "<?", "<![", "<a\n", '<a b="', '<a x"=" y>', "<title>",
     "<blockquote>x", "<ul><li>x", "<td>x", "<a href=x>y", "&#", "<p>x"],
)
def test_hostile_input_completes(chunk: str) -> None:
    # CPython 3.11's HTMLParser takes ~26 s on "<a b" * 20000; no timing assertion here, a
    # quadratic path would blow the suite timeout instead.
    out = html_to_text(chunk * 40_000)
    assert isinstance(out, str)


def test_deep_nesting_is_drawn_at_a_bounded_depth() -> None:
    out = html_to_text("<blockquote>" * 5000 + "deep" + "</blockquote>" * 5000)
    assert out.endswith("deep")
    assert len(out) < 100
