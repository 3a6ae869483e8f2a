"""What a customer asked, as terms: the text half of frequent questions (desk/questions.py).

Pure functions, no IO. The steps, in order:

- ``clean_subject``: reply/forward prefixes (Re, Fwd, AW, SV, Ответ, 回复, 转发 ... repeated,
  with counters like ``Re[2]:``) and ticket markers (``[#123]``, ``[Ticket #123]``, ``(#123)``)
  are taken off.
- ``strip_quoted``: quoted (``>``) lines go; the body is cut at the first line that starts
  quoted history: ``On ... wrote:`` (also wrapped over up to three lines), its Russian
  (``... написал(а):``, ``пишет:``) and Chinese (``在 ... 写道：``) forms, an Outlook header block
  (From:/发件人:/От: followed by Sent:/Date:/发送时间:/Отправлено:), ``-----Original
  Message-----`` and its ru/zh forms, a long ``____`` rule; and at a signature (a ``--`` line).
  A header with nothing above it (a bottom-posted reply) is dropped alone. Only the first
  BODY_CHARS of what is left are read: the question is at the top.
- ``terms``: Unicode NFKC, lower-case; URLs and e-mail addresses are dropped; digits split
  words and are dropped, so "order 12345" and "order 98765" give the same terms ("ORD12345"
  gives "ord", "订单12345" gives 订单). Latin and Cyrillic runs become words (2+ letters),
  stop words out, then a light suffix stripper (English, Russian: ``stem``). Han, Kana and
  Hangul runs are split at Chinese stop words and function characters (的, 了, 吗 ...) and
  become character bigrams (a lone character stays a unigram).

Tokens map to terms through a cache (``TermCache``): a run over 100k conversations stems
each distinct word once.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

BODY_CHARS = 800   # read of the body after quotes are cut: the ask is at the top
SCAN_CHARS = 6000  # how far the quote markers are looked for

_PREFIX_WORDS = ("re|fwd?|aw|wg|sv|vs|vb|tr|rif|antw|odp|ynt|"
                 "ответ|отв|пересл|fw|回复|回覆|答复|答覆|转发|轉發|转寄|轉寄")
SUBJECT_PREFIX_RE = re.compile(
    r"^(?:\s*(?:(?:" + _PREFIX_WORDS + r")\s*(?:\[\d+\]|\(\d+\))?\s*[:：]|\[[^\]\n]{0,40}#\s*\d+[^\]\n]{0,10}\]"
    r"|\(#\d+\)))+\s*", re.IGNORECASE)
SUBJECT_MARKER_RE = re.compile(r"\s*(?:\[[^\]\n]{0,40}#\s*\d+[^\]\n]{0,10}\]|\(#\d+\))\s*")

# Searched in the lower-cased body. A quote header is found by its line start, except the
# "... wrote:" kind, found by its end (then cut at its line, or the "on ..." line before it).
QUOTE_START_RE = re.compile(
    r"^(?:[ \t]*--[ \t]*$"                                            # signature ("-- ")
    r"|[ \t]*-{2,}[ \t]*(?:original message|исходное сообщение|原始邮件|原始郵件)[ \t]*-{2,}"
    r"|[ \t]*_{10,}[ \t]*$"
    r"|[ \t]*(?:from|от|发件人|發件人)[ \t]*[:：][^\n]*\n(?:[^\n]*\n)?"
    r"[ \t]*(?:sent|date|отправлено|дата|发送时间|發送時間|日期)[ \t]*[:：])",
    re.MULTILINE)
QUOTED_LINE_RE = re.compile(r"^[ \t]*>[^\n]*(?:\n|$)", re.MULTILINE)
WROTE_RE = re.compile(r"(?:\bwrote|написал\(а\)|написала|написал|пишет|写道|寫道)[ \t]*[:：][ \t]*$", re.MULTILINE)
_WROTE_HINTS = ("wrote", "написал", "пишет", "写道", "寫道")

# URLs and addresses (space-separated words holding "@", "://" or starting "www.") are taken out
# first; then tokens are runs of letters (digits and "_" split them), so "order 12345", "a12345"
# and "12345" leave only "order" (single letters are no words), "ORD-12345" and "ORD12345" both
# give "ord", and "订单12345" gives 订单.
TOKEN_RE = re.compile(r"[^\W\d_]+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RE = re.compile(r"[" + _CJK + r"]+")
_PIECE_RE = re.compile(r"[" + _CJK + r"]+|[^\W\d_" + _CJK + r"]+")

STOP_EN = frozenset("""
a about above after again all also am an and any are as at be been before being below between both
but by can cannot could did do does doing don done down during each few for from further get got
had has have having he her here hers him his how however hi hello i if in into is it its itself
just let like me more most my myself no nor not now of off on once only or other our ours out over
own please pls same she should so some such than thank thanks that the their them then there these
they this those through to too under until up very via was we were what when where which while who
whom why will with would you your yours dear regards best kind hey team support ok okay still
yet us since am pm want need tried try trying know able get gets getting hasn isn doesn didn wasn
weren haven hadn won wouldn couldn shouldn aren ll ve re question questions
""".split())
STOP_RU = frozenset("""
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне
было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него
до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы
тебя их чем была сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому
этого какой совсем ним здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда
можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая много
разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда
конечно всю между это мои мой моего моей мою ваш ваша ваше вашей здравствуйте привет добрый день
спасибо пожалуйста подскажите скажите уважаемые коллеги заранее также очень просто как-то
вопрос вопроса вопросы вопросу вопросом
""".split())
STOP_ZH = frozenset("""
你好 您好 请问 谢谢 感谢 我们 你们 他们 什么 怎么 怎样 如何 可以 一下 这个 那个 为什么 因为 所以 但是
已经 还是 没有 现在 时候 如果 问题 需要 帮忙 帮助 麻烦 能否 是否 一个 今天 昨天 非常 您的 我们的
""".split())
# Split points inside a Han run: particles and pronouns that carry no topic.
ZH_STOP_CHARS = "的了吗呢吧啊呀嘛么我你您他她它是在和与也都就还很这那个把被给对从又"
_ZH_SPLIT_RE = re.compile("(?:" + "|".join(sorted(STOP_ZH, key=len, reverse=True)) + "|[" + ZH_STOP_CHARS + "])+")

_EN_SUFFIXES = ("ational", "ations", "ation", "ingly", "ings", "ing", "edly", "ied", "ies", "ed",
                "ments", "ment", "ness", "ly", "es", "s")
_RU_SUFFIXES = tuple(sorted("""
иями ями ами ией ией иях ях ах ов ев ей ой ий ый ая яя ое ее ие ые ую юю ого его ому ему ими ыми ом ем
ам ям ия ие ию ью ться тся ешь ете ишь ите ет ют ут ит ат ят ила ыла ела ило ило ил ыл ел ла ли ло
ать ять ить еть уть ти ть ость ости ы и а я о е у ю ь й
""".split(), key=len, reverse=True))
_DOUBLE_OK = frozenset("lsz")


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and ticket markers, spaces collapsed."""
    text = subject or ""
    if ":" in text or "：" in text or "#" in text:   # no prefix or marker without one of these
        text = SUBJECT_PREFIX_RE.sub("", text)
        if "#" in text:
            text = SUBJECT_MARKER_RE.sub(" ", text)
    return " ".join(text.split())


def strip_quoted(body: str) -> str:
    """The customer's own words, lower-cased: the body without quoted (">") lines, cut at a quote
    header or a signature (one at the very top - a bottom-posted reply - is dropped alone), at
    most BODY_CHARS."""
    body = (body or "")[:SCAN_CHARS].lower()
    if ">" in body:
        body = QUOTED_LINE_RE.sub("", body)
    colon = ":" in body or "：" in body
    if not colon and "--" not in body and "__" not in body:
        return body[:BODY_CHARS]      # none of the headers can be there
    while True:
        start, end = _quote_header(body, colon)
        if start is None:
            return body[:BODY_CHARS]
        if body[:start].strip():
            return body[:start][:BODY_CHARS]
        body = body[end:]             # a header with nothing above: the answer is below it


def _quote_header(body: str, colon: bool) -> tuple[int | None, int]:
    """Where the first quote header (or signature) starts, and where its line ends."""
    starts = []
    found = QUOTE_START_RE.search(body)
    if found:
        starts.append(found.start())
    if colon and any(hint in body for hint in _WROTE_HINTS):
        wrote = WROTE_RE.search(body)
        if wrote:
            cut = body.rfind("\n", 0, wrote.start()) + 1
            before = cut
            for _ in range(2):    # "on mon, 3 mar 2025, anna\n<a@b>\nwrote:"
                if not before:
                    break
                before = body.rfind("\n", 0, before - 1) + 1
                if body[before:cut].lstrip().startswith("on "):
                    cut = before
                    break
            starts.append(cut)
    if not starts:
        return None, 0
    start = min(starts)
    # the earliest start is found's, or else wrote's cut (so wrote matched): no run-time check here
    line_end = body.find("\n", found.end() if found and found.start() == start else wrote.end())  # type: ignore[union-attr]  # see above
    return start, len(body) if line_end < 0 else line_end + 1


def stem(word: str) -> str:
    """A light suffix stripper: English for Latin words, Russian for Cyrillic; stems keep 3+ letters."""
    if "а" <= word[0] <= "я" or word[0] == "ё":
        word = word.replace("ё", "е")
        for suffix in _RU_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[:-len(suffix)]
        return word
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _EN_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[:-len(suffix)]
            if suffix in ("ied", "ies"):
                word += "y"
            elif len(word) > 3 and word[-1] == word[-2] and word[-1] not in _DOUBLE_OK and word[-1].isalpha():
                word = word[:-1]   # shipping -> shipp -> ship
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]           # arrive / arriving -> arriv
    return word


class TermCache:
    """Token -> its terms (a stop word has none), and term -> the shortest word seen for it (for
    labels). Tokens hold no digits, so order ids do not fill the cache."""

    def __init__(self) -> None:
        self.tokens: dict[str, tuple[str, ...]] = {}
        self.surface: dict[str, str] = {}

    def _analyse(self, token: str) -> tuple[str, ...]:
        out: list[str] = []
        for piece in _PIECE_RE.findall(token):
            if CJK_RE.match(piece):
                out.extend(cjk_terms(piece))
            elif len(piece) >= 2 and piece not in STOP_EN and piece not in STOP_RU:
                term = stem(piece)
                out.append(term)
                seen = self.surface.get(term)
                if seen is None or (len(piece), piece) < (len(seen), seen):
                    self.surface[term] = piece
        found = self.tokens[token] = tuple(out)
        return found

    def terms(self, text: str, lowered: bool = False) -> list[str]:
        """The terms of one text, in order, repeats kept (stop words out)."""
        if not text:
            return []
        if not lowered:
            text = text.lower()
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        if "@" in text or "://" in text or "www." in text:
            text = " ".join(w for w in text.split() if not _is_address(w))
        tokens = TOKEN_RE.findall(text)
        parts = list(map(self.tokens.get, tokens))
        if None in parts:
            parts = [self._analyse(token) if found is None else found for token, found in zip(tokens, parts)]
        # no None is left: none was there, or each was analysed above (no per-call cast in this hot path)
        return list(chain.from_iterable(parts))  # type: ignore[arg-type]  # see the line above

    def word_for(self, term: str) -> str:
        return self.surface.get(term, term)


def _is_address(word: str) -> bool:
    return "@" in word or "://" in word or word.startswith(("www.", "<www.", "(www."))


def cjk_terms(run: str) -> list[str]:
    """Character bigrams of a Han/Kana/Hangul run, split first at stop words and function characters."""
    out = []
    for piece in _ZH_SPLIT_RE.split(run):
        if len(piece) == 1:
            out.append(piece)
            continue
        out.extend(piece[i:i + 2] for i in range(len(piece) - 1))
    return out
