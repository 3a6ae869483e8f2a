"""Whether a customer's mail only thanks: "Thanks, it worked!", "Спасибо, всё получилось!",
"谢谢，问题解决了" close the matter; "Thanks, but it still fails", "thanks in advance", a
question do not. The one rule the reports read it by (desk.report_data marks such a mail, and
from that mark FCR and the reopen count (desk.metrics.timeline) and a snippet's "solved"
(desk.snippet_stats) all take it the same way: it asks for nothing more).

The mail's own words (quotes and the signature cut) must hold a thank-you, no question, nothing
that says there is more to do (but, still, not, again, please …), and be short.
"""

from __future__ import annotations

import re

from tui_desk.desk.quoting import split_quoted

MAX_OWN_CHARS = 200  # a thank-you and a sign-off; longer mail says more than thanks

_WORD_THANKS = re.compile(r"\b(?:thanks?|thank\s+you|thx|ty|cheers|appreciated?|danke|merci|gracias|grazie|"
                          r"спасибо|спс|благодар\w*)\b", re.I)
_CJK_THANKS = ("谢谢", "感谢", "多谢", "谢了", "ありがとう")
# more to do: a question, a "but", a negation, a request
_WORD_MORE = re.compile(r"\b(?:but|however|still|not|no\s+longer|again|another|also|one\s+more|problem|issue|"
                        r"error|wrong|please|pls|advance|help|need|"
                        r"но|однако|ещ[её]|не|нет|опять|снова|вопрос\w*|проблем\w*|ошибк\w*|пожалуйста|заранее|"
                        r"aber|noch|nicht|mais|pas|pero|todavía)\b", re.I)
_CJK_MORE = ("?", "？", "但", "可是", "不过", "还", "不", "没", "吗", "再", "请", "提前", "问题是")
_NEGATION_SUFFIX = re.compile(r"n['’]t\b", re.I)
_SIGNATURE = re.compile(r"^--\s*$", re.M)


def own_words(text: str) -> str:
    """The mail's own words: quoted mail and the signature (after a "-- " line) left out."""
    own = "".join(t for t, quoted in split_quoted(text) if not quoted)
    return _SIGNATURE.split(own, maxsplit=1)[0].strip()


def only_thanks(text: str) -> bool:
    """Whether the mail's own words only thank (module docstring)."""
    if not text or not (_WORD_THANKS.search(text) or any(w in text for w in _CJK_THANKS)):
        return False  # no thank-you anywhere: the quotes need not be cut (most mail; a summary reads each)
    own = own_words(text)
    if not own or len(own) > MAX_OWN_CHARS:
        return False
    if not (_WORD_THANKS.search(own) or any(w in own for w in _CJK_THANKS)):
        return False
    return not (_WORD_MORE.search(own) or _NEGATION_SUFFIX.search(own) or any(w in own for w in _CJK_MORE))
