"""frequent_questions works out the terms of texts that differ only in their ASCII digits once
(desk/questions.py: keyed by the text with its digits made 0). What that rests on: terms ignore
which digit is where - digits only split words, in every script and next to addresses, quotes,
NFKC forms and the cut at BODY_CHARS."""

from __future__ import annotations

import random

from tui_desk.desk.question_text import BODY_CHARS, TermCache, clean_subject, strip_quoted
from tui_desk.desk.questions import Asked, frequent_questions

TEXTS = [
    "Where is my order #12345? ORD12345 a1b2c3 x9y",
    "Заказ 12345 не пришёл, номер 3знак4 ²³ ①②",
    "订单12345什么时候发货 第2次 ５６７",
    "mail me at bob42@example.com or see https://shop.example/o/777?id=9 www.9x.example",
    "Hi,\nplease refund 44 items.\n\nOn Mon, 3 Mar 2025, Anna <a1@b.example>\nwrote:\n> 123 old text",
    "x" * (BODY_CHARS - 3) + "12 tail words here",
    "İstanbul 1st ǅ2 ß3 ﬁ4 café5 naïve6",
]


def digits_changed(text: str, rnd: random.Random) -> str:
    return "".join(rnd.choice("0123456789") if ch in "0123456789" else ch for ch in text)


def test_terms_do_not_depend_on_which_digits():
    rnd = random.Random(7)
    for text in TEXTS:
        for _ in range(5):
            other = digits_changed(text, rnd)
            assert TermCache().terms(other) == TermCache().terms(text)
            assert TermCache().terms(strip_quoted(other), lowered=True) == \
                TermCache().terms(strip_quoted(text), lowered=True)
            assert TermCache().terms(clean_subject(other)) == TermCache().terms(clean_subject(text))


def test_texts_differing_in_digits_group_alike_and_keep_their_own_subjects():
    asked = [Asked(i, 1_700_000_000.0 + i, f"Refund for order #{10_000 + i * 7}",
                   f"Please refund order {i * 31}, the item {i} was damaged.") for i in range(6)]
    asked += [Asked(100 + i, 1_700_000_000.0 + i, f"Cannot log in {i}", f"Reset {i} password {i * 3} times")
              for i in range(4)]
    groups = frequent_questions(asked)
    assert sorted(g.size for g in groups) == [4, 6]
    refund = next(g for g in groups if g.size == 6)
    assert refund.conv_ids == tuple(range(6))
    assert refund.example_subjects == ("Refund for order #10000",)  # the oldest wording, its digits


def test_the_clean_up_sees_a_digit_never_which_one():
    """frequent_questions looks subjects and short bodies up by their text with every ASCII digit
    made 0, before clean_subject and strip_quoted: so each must give the same text, digits
    aside, whatever the digits were (their patterns match a digit class, never a value)."""
    rnd = random.Random(11)
    subjects = ["Re[2]: AW: [#12345] Where is my order 777?", "RE(3)：[Ticket #9] 订单12345", "Fwd: (#42) Refund 5",
                "[Case #0042-7] Invoice 2026", "Real 1 estate", "Ответ[12]: Заказ 555"]
    bodies = TEXTS + ["Hi 42\n> quoted 1\n> 2\nOn Mon, 3 Mar 2025, Ann <a1@b.example> wrote:\n> 9",
                      "1\n-- \nAnna 555-0100", "From: x1@y\nSent: 3 March\nold 12", "9" * 7000 + " tail"]
    zero = str.maketrans("123456789", "000000000")
    for text in subjects + TEXTS:
        for _ in range(5):
            other = digits_changed(text, rnd)
            assert clean_subject(other).translate(zero) == clean_subject(text).translate(zero)
    for text in bodies:
        for _ in range(5):
            other = digits_changed(text, rnd)
            assert strip_quoted(other).translate(zero) == strip_quoted(text).translate(zero)
