"""The satisfaction survey's mail formats (desk.csat sends and reads them): what makes a mail
an answer to a survey, from its header fields alone, so every client classifies it alike.

- A survey mail's Message-ID starts `csat.` (`csat.<32 hex>@domain`): a reply to it carries
  that id in In-Reply-To.
- An answer by link is mail to a plus address carrying a token and the rating:
  `support+csat-<token>-great@example.com` (token: 16 characters of base32, lower case).

An answer is not a customer turn: the parser marks it `auto_submitted` (mail.parse.entry), like
an auto-reply, so it neither reopens the conversation nor counts as the customer waiting.
Whether its token is good is the desk's business (desk.csat), never the parser's.
"""

from __future__ import annotations

import re
from typing import Iterable

SURVEY_ID_PREFIX = "csat."
RATINGS = {"great": 3, "okay": 2, "bad": 1}  # the rating and its score
TOKEN_LENGTH = 16  # base32 characters: 80 bits
_PLUS = re.compile(rf"\+csat-([a-z2-7]{{{TOKEN_LENGTH}}})-(great|okay|bad)@", re.I)
_ADDRESS = re.compile(r"[^\s<>,;\"]+@[^\s<>,;\"]+")
# the first word of an answer by reply: a digit (the score) or a word
_WORDS = {"3": "great", "2": "okay", "1": "bad", "great": "great", "good": "great", "excellent": "great",
          "okay": "okay", "ok": "okay", "fine": "okay", "bad": "bad", "poor": "bad"}
_FIRST_WORD = re.compile(r"^\W*([0-9]|[a-z]+)\b", re.I)


def survey_message_id(digest: str, domain: str) -> str:
    """A survey mail's Message-ID (without brackets) from a hex digest the caller derives."""
    return f"{SURVEY_ID_PREFIX}{digest[:32]}@{domain}"


def is_survey_id(message_id: str | None) -> bool:
    return message_id is not None and message_id.strip("<> ").lower().startswith(SURVEY_ID_PREFIX)


def answer_address(address: str, token: str, rating: str) -> str:
    """`support@x` -> `support+csat-<token>-great@x` (a plus part of the address is replaced)."""
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}+csat-{token}-{rating}@{domain}"


def token_in(addresses: Iterable[str]) -> tuple[str, str] | None:
    """(token, rating) from the first survey plus address among `addresses`, or None."""
    for text in addresses:
        for found in _ADDRESS.findall(text or ""):
            m = _PLUS.search(found)
            if m:
                return m.group(1).lower(), m.group(2).lower()
    return None


def is_survey_answer(recipients: Iterable[str], in_reply_to: str | None) -> bool:
    """A mail to a survey plus address (To, Cc, Delivered-To, X-Original-To), or a reply to a
    survey mail (its In-Reply-To). References alone do not make one: later mail of the thread
    names the survey too."""
    return is_survey_id(in_reply_to) or token_in(recipients) is not None


def rating_in(text: str) -> str | None:
    """The rating a reply gives by its first word: 3 / 2 / 1, or great / okay / bad (a few
    synonyms); None when the first word is neither."""
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _FIRST_WORD.match(line.strip())
        return _WORDS.get(m.group(1).lower()) if m else None
    return None


def comment_after_rating(text: str) -> str:
    """The reply's text without its leading rating word."""
    stripped = text.strip()
    m = _FIRST_WORD.match(stripped)
    if m and m.group(1).lower() in _WORDS:
        stripped = stripped[m.end():].lstrip(" \t.,:;!-)").strip()
    return stripped


def delivered_to(raw: bytes) -> list[str]:
    """The Delivered-To / X-Original-To values of a raw mail's header block (where a plus
    address survives when To does not show it: a Bcc, a list)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii", "replace")
    out = []
    for line in head.replace("\r\n", "\n").split("\n"):
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in ("delivered-to", "x-original-to"):
            out.append(value.strip())
    return out
