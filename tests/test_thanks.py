"""The one rule for "the customer's mail only thanks" (desk.thanks), in the languages the
desk's customers write: a thank-you closes the matter, anything that asks for more does not."""

from __future__ import annotations

import pytest

from tui_desk.desk.thanks import only_thanks


@pytest.mark.parametrize("text", [
    "Thanks, it worked!",
    "Thank you so much, all sorted now :)\n\nBest regards,\nLukas Davis",
    "Спасибо, всё получилось!",
    "Большое спасибо!\n-- \nАнна, ООО Ромашка, +7 495 000 00 00, пишите если что-то понадобится",
    "谢谢，问题解决了！",
    "非常感谢！",
    "Thanks!!! 🎉\n\nOn Mon, 2 Nov 2026 at 10:00, Support <support@desk.test> wrote:\n> Please try again.\n"
    "> It should work now, but tell us if it does not.",
])
def test_a_thank_you_closes_the_matter(text):
    assert only_thanks(text)


@pytest.mark.parametrize("text", [
    "Thanks, but it still does not work.",
    "Thanks!!! 🎉 but one more question",
    "Thanks in advance for the refund of order #20201",
    "Thank you. Can I also change my address?",
    "Thanks, that didn't help.",
    "Спасибо, но ошибка осталась.",
    "Спасибо! А когда придёт заказ?",
    "谢谢，但是还是不能登录。",
    "谢谢，可以退款吗",
    "I was charged twice for my order, please refund the second charge.",
    "",
    "Thanks! " + "The printer on the third floor makes a noise when it starts, and it has done so for weeks. " * 3,
])
def test_mail_that_asks_for_more_is_not_a_thank_you(text):
    assert not only_thanks(text)


THANK_YOUS = ["Thanks, it worked!", "thank you!", "Thx!", "Cheers, sorted.", "Much appreciated!", "Danke!",
              "Merci !", "¡Gracias!", "Grazie!", "Спасибо, всё получилось!", "СПАСИБО!", "Спс", "Благодарю!",
              "谢谢，问题解决了！", "非常感谢！", "多谢", "谢了", "ありがとうございました。解決しました。"]


@pytest.mark.parametrize("text", THANK_YOUS)
def test_every_thank_you_holds_a_stem_the_body_phase_looks_for(text):
    """store.queries.THANKS_STEMS: the body phase reads a conversation again only when a new
    customer mail holds one (store.ingest.replace_bodies); a thank-you this rule knows without
    one would reopen until the next change."""
    from tui_desk.store.queries import THANKS_STEMS
    assert only_thanks(text)
    assert any(stem in text.casefold() for stem in THANKS_STEMS)
