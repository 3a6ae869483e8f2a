"""The one MIME parser: raw RFC 5322 bytes -> :class:`ParsedMessage`.

Built on ``email`` with ``policy.default``. Nothing a message contains may raise out of
:func:`parse_message`: damage becomes human-readable ``defects`` (the stdlib's defect class
names plus our own notes) and the record stays usable.

Stdlib traps handled here (tests/test_parse.py has a message for each):

* Header values are decoded by ``policy.default`` lazily and superlinearly (a 209 KB
  Subject takes 0.5 s, 840 KB 12 s). :class:`_CappingPolicy` shortens every over-long field
  of every header block, nested parts included, as the parser reads it, before anything
  decodes it.
* Raw 8-bit bytes in headers come back as lone surrogates. Each header we read is first
  decoded (UTF-8, then the message's own charsets, then windows-1252) and only then parsed.
* ``From: a@x <b@y>`` is read as ``a@x`` (mail-parser #132); a lenient tokenizer
  cross-checks every address header and wins when the two disagree.
* ``From: Evil \\e]0;PWNED\\e\\ <evil@x>``: the stdlib stops at the escape; the lenient
  tokenizer leaves a terminal escape sequence in a name out whole (an OSC's ";" would split
  the entry and lose the address), names lose their control characters, and the defect
  quotes both readings sanitized (a quoted ESC would swallow its words).
* A multipart whose boundary never shows (or whose ``<<...>>`` boundary the stdlib strips)
  has no parts and ``get_content()`` raises: the boundary is recovered from the raw header
  when possible, else the raw body is shown.
* Unknown or wrong charsets raise ``LookupError``/``UnicodeDecodeError`` in
  ``get_content()``: bodies are decoded here with fallbacks instead.
* ``Subject :`` (space before the colon, RFC 5322 obs-syntax) makes the stdlib see no
  headers at all: such header blocks are repaired and parsed again.
* Re-serialising a parsed message (``as_bytes``, ``as_string``, the generators) re-folds its
  headers, and ``_fold_mime_parameters`` loops forever on a long parameter name with a long
  quoted value: nothing here re-serialises; attached messages are measured and returned
  from the parts as read (:func:`_source_text`).
* The stdlib's header value parser raises on some fields (``text/plain; a*`` IndexError,
  400 "(" RecursionError): such a field is read without its parameters, with a defect,
  and the rest of the message is read as usual (:func:`_unreadable_header`).
* Python "text encodings" no mail is written in (punycode: quadratic, idna, undefined,
  unicode_escape...) are treated as unknown charsets (:data:`_REFUSED_CODECS`).
* Whatever still hangs or crashes the parser is bounded by ``parse_pool`` (a time budget
  per message, in worker processes), whose last resort is :func:`last_resort_record`.

Strings in the record are not sanitized for the terminal (``tui_desk.sanitize`` does that at
display) but carry no lone surrogates and no NUL, so they can be stored and encoded; address
names carry no control character either (they are written into replies).

Files (each one seam; only stdlib_tree.py touches private stdlib internals):

* ``common.py``: limits, small text helpers, the defect list;
* ``charsets.py``: charset labels to codecs, guessing chains;
* ``header_values.py``: plain MIME header values read fast, raw fields, the stdlib's header objects;
* ``stdlib_tree.py``: the header-capping policy, :class:`_Part`, :class:`_TreeBuilder` -
  everything that relies on private ``email`` / ``codecs`` names (tests/test_stdlib_internals.py);
* ``headers.py``: header access, message ids, dates;
* ``addresses.py``: address lists;
* ``body.py``: the MIME tree walked: body text, format=flowed, file names, attachments;
* ``repair.py``: header lines repaired before parsing;
* ``quick.py``: the quick route's split of plain mail (below);
* ``entry.py``: the entry points below.

Quoted-text splitting is a display heuristic and lives in ``tui_desk/desk/quoting.py``.

Speed (bulk sync and import; ``bench/parse_speed.py`` measures it): the stdlib is still what
reads mail, but its slow paths are skipped where their result is known. :class:`_TreeBuilder`
builds the very tree ``email.feedparser`` builds, slicing bodies between boundary lines
instead of reading line by line (feedparser also compiles a regex per boundary, and every
mail has its own); mail it does not reproduce (message/* parts, digests, lone CRs, a few
corner cases) goes to ``BytesParser``. Plain Content-Type / Content-Disposition values and
plain address lists are read without the stdlib's header value parser (40-130 us a header),
by :func:`_simple_mime` and :func:`_simple_addresses`, which accept only forms whose stdlib
reading is known; :class:`_Part` memoizes header lookups per part. tests/test_parse.py checks
every fast path against the stdlib.

The quick route (``quick.py``, taken by ``entry._parse`` first): most mail has a plain header
block (printable ASCII, every line a field or its continuation, a plain Content-Type) and a
body that is one text/plain or text/html part or a flat multipart/alternative of them. Such
mail is split directly, without the stdlib's tree, and read by the same field readers and text
decoding as the full route; anything else returns None there and takes the full route. One
parser, two ways into it: tests/test_parse_quick.py holds them to the same record on every
corpus mail and on generated shapes (``_parse(..., quick=False)`` is the full route).
"""

from tui_desk.mail.parse.common import (
    HEADER_LIMIT, HTML_LIMIT, MAX_DEFECTS, MAX_DELIMITER_LINES, MAX_DEPTH, MAX_PARTS, REFERENCES_LIMIT, TEXT_LIMIT,
)
from tui_desk.mail.parse.entry import (
    attachment_payloads, last_resort_record, parse_body, parse_header_block, parse_message, read_headers,
)
from tui_desk.mail.parse.headers import normalize_msgid, synthetic_message_id

# Private names the tests reach through ``tui_desk.mail.parse`` (they check the fast paths
# against the stdlib); the code imports them from their own files.
from tui_desk.mail.parse.addresses import _addresses, _read_addresses, _simple_addresses  # noqa: F401 - for the tests (above)
from tui_desk.mail.parse.common import _Defects  # noqa: F401 - for the tests (above)
from tui_desk.mail.parse.header_values import _simple_mime  # noqa: F401 - for the tests (above)
from tui_desk.mail.parse.stdlib_tree import (  # noqa: F401 - for the tests (above)
    _PARSE_POLICY, _CappingPolicy, _Part, _TreeBuilder, _Unsupported,
)

__all__ = ["attachment_payloads", "last_resort_record", "parse_body", "parse_header_block", "parse_message", "read_headers",
           "normalize_msgid", "synthetic_message_id", "HEADER_LIMIT", "HTML_LIMIT", "MAX_DEFECTS",
           "MAX_DELIMITER_LINES", "MAX_DEPTH", "MAX_PARTS", "REFERENCES_LIMIT", "TEXT_LIMIT"]
