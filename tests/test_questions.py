"""Frequent questions (issue 15): conversations grouped by what the customer asked, in English,
Russian and Chinese; quoted text, reply prefixes and order numbers do not decide the group."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

from tui_desk.desk.question_text import TermCache, clean_subject, stem, strip_quoted
from tui_desk.desk.questions import Asked, QuestionCache, frequent_questions, questions_json, trend_direction

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)   # a Monday

# (family, subject, first message) - the same ask in different words
CORPUS = [
    ("password-en", "How do I reset my password?", "Hi, I forgot my password. How can I reset it?"),
    ("password-en", "Can't log in, forgot password",
     "I can't log in to my account since yesterday, I think I forgot my password."),
    ("password-en", "password reset link not arriving",
     "I clicked 'forgot password' three times but the reset link never arrives in my inbox."),
    ("refund-en", "Refund for order 12345", "Please refund my order 12345, the item was not what I expected."),
    ("refund-en", "I want my money back",
     "I returned the jacket last week, when will I get the refund for order 98765?"),
    ("refund-en", "Refund request", "Hello, I'd like a refund for order 55501, it arrived too late."),
    ("invoice-en", "Invoice for order 4411",
     "Could you send me an invoice for order 4411 with our company VAT number?"),
    ("invoice-en", "Need a copy of my invoice", "Our accounting needs a copy of the invoice for last month's order."),
    ("invoice-en", "Invoice missing", "The invoice for order 7788 is missing from my account page."),
    ("shipping-en", "Where is my order 3321?",
     "My order 3321 has not been delivered yet and the tracking shows nothing."),
    ("shipping-en", "Order 8812 not delivered", "It has been two weeks and my order 8812 is still not delivered."),
    ("shipping-en", "Package not delivered yet",
     "The package with my order was shipped ten days ago but is still not delivered, tracking is stuck."),
    ("password-ru", "Как сбросить пароль?", "Здравствуйте! Я забыл пароль от личного кабинета, как его сбросить?"),
    ("password-ru", "Не могу войти",
     "Не могу войти в аккаунт: пароль не подходит, а письмо для восстановления пароля не приходит."),
    ("password-ru", "Забыл пароль",
     "Подскажите, пожалуйста, как восстановить пароль? Ссылка для сброса пароля не работает."),
    ("refund-ru", "Возврат денег за заказ 12345", "Прошу вернуть деньги за заказ 12345, товар не подошёл."),
    ("refund-ru", "Когда вернут деньги?",
     "Я отправил товар обратно две недели назад, а деньги за заказ 777 так и не вернули."),
    ("refund-ru", "Хочу вернуть деньги", "Оформите, пожалуйста, возврат денег за заказ 4545, товар пришёл с браком."),
    ("invoice-ru", "Нужен счёт для заказа 5521",
     "Пришлите, пожалуйста, счёт на оплату заказа 5521 с реквизитами нашей компании."),
    ("invoice-ru", "Счёт для бухгалтерии", "Бухгалтерия просит копию счёта за прошлый месяц."),
    ("invoice-ru", "Где скачать счёт?", "В личном кабинете не нашёл счёт за заказ 6610, где его скачать?"),
    ("password-zh", "如何重置密码？", "你好，我忘记了登录密码，请问怎么重置密码？"),
    ("password-zh", "忘记密码，无法登录", "我忘记密码了，现在无法登录账户。"),
    ("password-zh", "收不到重置密码的邮件", "我点了忘记密码，但是一直收不到重置密码的邮件。"),
    ("refund-zh", "订单12345申请退款", "订单12345的商品不合适，请帮我办理退款。"),
    ("refund-zh", "退款什么时候到账？", "两周前已经退货了，订单778的退款还没有到账。"),
    ("refund-zh", "我要退款", "商品质量有问题，订单9090我要申请退款。"),
    ("shipping-zh", "我的订单3321在哪里？", "我的订单3321到现在还没有送到，物流信息查不到。"),
    ("shipping-zh", "包裹一直没到", "包裹一周前就发货了，物流信息一直没有更新，还没有送到。"),
    ("shipping-zh", "订单8812还没有送到", "订单8812已经两周了还没有送到，物流信息查不到。"),
]


def asked(rows=CORPUS, start=T0, snippets=None):
    return [Asked(f"c{i:02d}", start + dt.timedelta(hours=7 * i), subject, body,
                  tuple((snippets or {}).get(i, ())))
            for i, (_, subject, body) in enumerate(rows)]


def families(rows=CORPUS):
    out: dict[str, set[str]] = {}
    for i, (family, _, _) in enumerate(rows):
        out.setdefault(family, set()).add(f"c{i:02d}")
    return out


def test_paraphrased_questions_in_three_languages_group_by_what_was_asked():
    groups = frequent_questions(asked())
    found = sorted(sorted(g.conv_ids) for g in groups)
    assert found == sorted(sorted(ids) for ids in families().values())
    assert all(g.size == 3 and len(g.conv_ids) == 3 for g in groups)


def test_password_questions_worded_differently_are_one_group_apart_from_billing_and_shipping():
    groups = frequent_questions(asked())
    password = next(g for g in groups if "c00" in g.conv_ids)
    assert set(password.conv_ids) == {"c00", "c01", "c02"}
    assert "password" in password.terms
    assert set(password.example_subjects) == {"How do I reset my password?", "Can't log in, forgot password",
                                              "password reset link not arriving"}
    zh = next(g for g in groups if "c21" in g.conv_ids)
    assert "密码" in zh.terms and set(zh.conv_ids) == {"c21", "c22", "c23"}


def test_order_numbers_are_normalised():
    cache = TermCache()
    assert cache.terms("Where is my order 12345?") == cache.terms("Where is my order #98765?") == ["order"]
    assert cache.terms("Order A-12345 / #12345 / 12345") == ["order"]
    assert cache.terms("ORD-12345") == cache.terms("ORD98765") == ["ord"]
    assert cache.terms("订单12345申请退款") == cache.terms("订单98765申请退款")
    assert "订单" in cache.terms("订单12345申请退款")
    rows = [("x", f"Where is my order {n}?", f"Order {n} was placed on 2026-02-{d:02d} and has not arrived.")
            for n, d in ((12345, 1), (98765, 3), (55555, 9), (10001, 12))]
    [group] = frequent_questions(asked(rows))
    assert group.size == 4
    assert group.example_subjects == ("Where is my order 12345?",)   # one subject, worded as the oldest


def test_quoted_history_and_signatures_are_not_the_question():
    assert strip_quoted("My invoice is wrong.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <s@x.test> wrote:\n"
                        "> Your refund was sent.") == "my invoice is wrong.\n\n"
    assert strip_quoted("My invoice is wrong.\nOn Mon, 2 Mar 2026 at 10:00, Support Team\n<s@x.test>\nwrote:\n"
                        "> refund") == "my invoice is wrong.\n"
    assert strip_quoted("Счёт неверный.\n2 марта 2026 г., в 10:00, Поддержка <s@x.test> написал(а):\n> возврат") \
        == "счёт неверный.\n"
    assert strip_quoted("发票有误。\n在 2026年3月2日 10:00，客服 <s@x.test> 写道：\n> 退款") == "发票有误。\n"
    assert strip_quoted("Invoice wrong\n-- \nAnna, ACME refunds team") == "invoice wrong\n"
    assert strip_quoted("Invoice wrong\n> refund\n> refund") == "invoice wrong\n"
    assert strip_quoted("Invoice wrong\nFrom: Support <s@x.test>\nSent: Monday\nrefund") == "invoice wrong\n"
    assert strip_quoted("Invoice wrong\n-----Original Message-----\nrefund") == "invoice wrong\n"
    assert strip_quoted("I wrote: the invoice is wrong") == "i wrote: the invoice is wrong"
    # bottom-posted: the header and the quote above, the question below
    assert strip_quoted("On Mon, 2 Mar 2026, Shop <s@x.test> wrote:\n> Big refund sale!\n> Refunds for all\n\n"
                        "My invoice is wrong.\n-- \nAnna") == "\nmy invoice is wrong.\n"
    assert strip_quoted("> Где мой возврат?\nСчёт неверный.") == "счёт неверный."
    # a long quoted refund answer under each password question does not pull them to refunds
    quote = ("\n\nOn Tue, 3 Mar 2026, Support <s@x.test> wrote:\n> We have issued a refund for your order.\n"
             "> The refund will arrive in 5 days. Refund reference attached.\n")
    rows = [(f, s, b + quote if f == "password-en" else b) for f, s, b in CORPUS]
    groups = frequent_questions(asked(rows))
    assert {"c00", "c01", "c02"} in [set(g.conv_ids) for g in groups]


def test_reply_and_forward_prefixes_and_ticket_markers_leave_the_subject():
    assert clean_subject("Re: AW: Fwd: Where is my order?") == "Where is my order?"
    assert clean_subject("RE[2]: SV: [#123] Where is my order?") == "Where is my order?"
    assert clean_subject("Ответ: Отв: Где мой заказ?") == "Где мой заказ?"
    assert clean_subject("回复：转发: 我的订单在哪里？") == "我的订单在哪里？"
    assert clean_subject("[Ticket #4411] Invoice (#12) missing") == "Invoice missing"
    assert clean_subject("Real estate question") == "Real estate question"   # "Re" only as a prefix
    rows = [(f, "Re: Fwd: [#77] " + s if i % 3 == 0 else s, b) for i, (f, s, b) in enumerate(CORPUS)]
    assert sorted(sorted(g.conv_ids) for g in frequent_questions(asked(rows))) \
        == sorted(sorted(ids) for ids in families().values())


def test_words_are_stemmed_lightly():
    assert stem("passwords") == stem("password") == "password"
    assert stem("refunded") == stem("refunds") == stem("refund") == "refund"
    assert stem("shipping") == stem("shipped") == "ship"
    assert stem("invoices") == stem("invoice")
    assert stem("пароля") == stem("пароль") == stem("паролем")
    assert stem("заказа") == stem("заказ") == stem("заказы")
    assert stem("class") == "class"


def test_the_top_snippet_is_the_one_used_in_most_of_the_group():
    snippets = {0: ["reset-link"], 1: ["reset-link", "greeting"], 2: ["greeting", "reset-link", "reset-link"],
                3: ["refund-issued"], 4: ["greeting"], 5: ["refund-issued", "greeting"]}
    groups = {g.conv_ids[0]: g for g in frequent_questions(asked(snippets=snippets))}
    assert groups["c00"].top_snippet == ("reset-link", 3)   # counted once per conversation
    assert groups["c03"].top_snippet == ("greeting", 2)      # a 2-2 tie goes to the name first in order
    assert groups["c06"].top_snippet is None


def test_examples_are_the_most_asked_subjects_each_worded_as_its_oldest_use():
    """Subjects are told apart with case and numbers ignored; each example is worded as the
    oldest conversation with it asked it, digits and all; most asked first, ties by wording."""
    body = "I need the invoice for my order, it is missing from my account."
    subjects = ["INVOICE for order 17", "Invoice missing", "invoice for order 9", "Where is the invoice?",
                "Invoice Missing", "Invoice for Order 4242", "Where is the invoice?", "Invoice for order 3",
                "Re: [#88] invoice missing"]
    items = [Asked(f"v{i}", T0 + dt.timedelta(hours=i), s, body) for i, s in enumerate(subjects)]
    [group] = frequent_questions(list(reversed(items)))   # the order given does not matter
    assert group.example_subjects == ("INVOICE for order 17", "Invoice missing", "Where is the invoice?")
    assert group.label == "INVOICE for order 17" and group.size == 9
    # a newer wording of a key does not replace the oldest one, even when it is more common
    more = items + [Asked(f"w{i}", T0 + dt.timedelta(days=1, hours=i), "where is THE invoice?", body)
                    for i in range(4)]
    [group] = frequent_questions(more)
    assert group.example_subjects == ("Where is the invoice?", "INVOICE for order 17", "Invoice missing")


def test_trend_counts_weeks_and_says_which_way():
    rows, stamps = [], []
    for week, count in enumerate([1, 2, 4, 6]):
        for k in range(count):
            rows.append(("invoice", f"Invoice for order {week}{k}", "I need the invoice for my order, it is missing."))
            stamps.append(T0 + dt.timedelta(days=7 * week, hours=k))
    items = [Asked(f"i{i}", at, s, b) for i, ((_, s, b), at) in enumerate(zip(rows, stamps))]
    [group] = frequent_questions(items, period_end=T0 + dt.timedelta(days=27))
    assert group.trend.week_counts == (1, 2, 4, 6)
    assert group.trend.direction == "rising"
    assert group.trend.period_start == T0.timestamp()
    # the period can be wider than the conversations: empty weeks count
    [wide] = frequent_questions(items, period_start=T0 - dt.timedelta(days=14), period_end=T0 + dt.timedelta(days=27))
    assert wide.trend.week_counts == (0, 0, 1, 2, 4, 6) and wide.trend.direction == "rising"
    # weeks before the desk's first mail are no news: a question of a store two weeks old whose
    # period is 30 days is judged on those two weeks (the tryout's demo had every question rising)
    young = [Asked(f"y{i}", T0 + dt.timedelta(days=21 + (i % 2) * 7, hours=i), s, b)
             for i, (_, s, b) in enumerate(rows[:8])]
    [steady] = frequent_questions(young, period_start=T0, period_end=T0 + dt.timedelta(days=35))
    assert steady.trend.week_counts == (0, 0, 0, 4, 4) and steady.trend.direction == "steady"
    # conversations after the period's end are in the group but in no week
    [short] = frequent_questions(items, period_end=T0 + dt.timedelta(days=13, hours=23))
    assert short.size == 13 and short.trend.week_counts == (1, 2)
    assert trend_direction([6, 4, 2, 1]) == "falling"
    assert trend_direction([3, 3, 4, 3, 3]) == "steady"
    assert trend_direction([5]) == "steady"
    assert trend_direction([0, 0, 0]) == "steady"


def test_same_input_same_groups_in_any_order():
    items = asked(snippets={0: ["reset-link"], 3: ["refund-issued"]})
    first = questions_json(frequent_questions(items))
    for seed in range(5):
        shuffled = list(items)
        random.Random(seed).shuffle(shuffled)
        assert questions_json(frequent_questions(shuffled)) == first
    assert questions_json(frequent_questions(items)) == first


def test_a_question_asked_once_or_twice_is_not_frequent():
    rows = CORPUS[:2] + CORPUS[3:12]   # two password questions only
    assert all("c00" not in g.conv_ids for g in frequent_questions(asked(rows)))
    pairs = frequent_questions(asked(rows), min_size=2)
    assert {"c00", "c01"} in [set(g.conv_ids) for g in pairs]
    assert frequent_questions([]) == []


def test_json_keys_are_stable_and_documented():
    import tui_desk.desk.questions as questions
    groups = frequent_questions(asked(snippets={0: ["reset-link"]}))
    data = json.loads(json.dumps(questions_json(groups)))
    keys = {"label", "size", "conv_ids", "example_subjects", "trend", "top_snippet", "terms"}
    for entry in data:
        assert set(entry) == keys
        assert set(entry["trend"]) == {"period_start", "week_counts", "direction"}
        assert entry["size"] == len(entry["conv_ids"]) == sum(entry["trend"]["week_counts"])
        assert entry["trend"]["period_start"] == "2026-03-02T09:00:00Z"
    password = next(e for e in data if "c00" in e["conv_ids"])
    assert password["top_snippet"] == {"name": "reset-link", "count": 1}
    assert all(e["top_snippet"] is None for e in data if e is not password)
    for key in keys | {"period_start", "week_counts", "direction"}:
        assert f"    {key} " in questions.__doc__ or f"{key} (" in questions.__doc__, key


def test_same_groups_in_another_process_whatever_its_hash_seed():
    """Sets and dicts of strings iterate in a per-process order: nothing may depend on it."""
    script = ("import json, sys; sys.path.insert(0, 'tests'); import test_questions as t; "
              "from tui_desk.desk.questions import frequent_questions, questions_json; "
              "print(json.dumps(questions_json(frequent_questions(t.asked(snippets={0: ['b', 'a'], 1: ['a', 'b']})))))")
    root = Path(__file__).resolve().parents[1]
    outputs = {subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outputs) == 1
    here = questions_json(frequent_questions(asked(snippets={0: ["b", "a"], 1: ["a", "b"]})))
    assert json.loads(outputs.pop()) == here


def test_a_cache_kept_between_runs_changes_nothing_but_the_work():
    cache = QuestionCache()
    items = asked(snippets={0: ["reset-link"]})
    plain = questions_json(frequent_questions(items))
    assert questions_json(frequent_questions(items, cache=cache)) == plain
    assert questions_json(frequent_questions(items, cache=cache)) == plain     # warm
    assert set(cache.bodies) == {item.conv_id for item in items}
    # the same conversation with another first message (say, after a merge) is read again
    changed = [Asked(a.conv_id, a.at, "Invoice missing", "The invoice for my order is missing from my account.")
               if a.conv_id == "c00" else a for a in items]
    groups = frequent_questions(changed, cache=cache)
    assert questions_json(groups) == questions_json(frequent_questions(changed))
    assert "c00" in next(g for g in groups if "c06" in g.conv_ids).conv_ids
    # conversations no longer asked about are forgotten once they are most of the cache
    frequent_questions(items[:3], cache=cache)
    assert set(cache.bodies) == {"c00", "c01", "c02"}


def test_a_trend_needs_mail_on_both_sides():
    """A window that starts before the desk's mail does says no trend (its earlier weeks are empty
    because there was no mail at all, not because the question was asked less); a question the
    desk never had before its last week is "new", not "rising" (tryout s17: every question of the
    demo's 30 days read "↑ rising")."""
    body = "I need the invoice for my order, it is missing."
    # mail starts on a Thursday of week 2 of a 30-day window: weeks 2 (part) and 3 only
    young = [Asked(f"y{i}", T0 + dt.timedelta(days=17 + i), f"Invoice for order {i}", body) for i in range(12)]
    [group] = frequent_questions(young, period_start=T0, period_end=T0 + dt.timedelta(days=30))
    assert group.trend.week_counts == (0, 0, 4, 7, 1) and group.trend.direction == ""
    # the desk has had mail from the start; this question only in its last whole week
    other = [Asked(f"o{i}", T0 + dt.timedelta(days=i, hours=3), "Cancel my subscription",
                   "Please cancel my subscription, I do not need it any more.") for i in range(0, 28, 2)]
    late = [Asked(f"n{i}", T0 + dt.timedelta(days=22 + i), f"Invoice for order {4410 + i}", body) for i in range(4)]
    found = {g.label: g for g in frequent_questions(other + late, period_start=T0,
                                                    period_end=T0 + dt.timedelta(days=28))}
    assert found["Invoice for order …"].trend.week_counts == (0, 0, 0, 4)
    assert found["Invoice for order …"].trend.direction == "new"
    assert found["Cancel my subscription"].trend.direction == "steady"


# the demo's first messages that were grouped with another question (tryout s17)
EMAIL = "How do I change my email address?"
EMAIL_BODIES = ["How can I change the email address on my account?\n\nBarbara",
                "Hello,\n\nHow can I change the email address on my account?\n\nMary",
                "Hi,\n\nHow can I change the email address on my account? My old email address will stop working at"
                " the end of the month.\n\nAshley",
                "Dear support team,\n\nHow can I change the email address on my account?\n\nPaul",
                "Hello,\n\nHow can I change the email address on my account? My old email address will stop working"
                " at the end of the month.\n\nNancy",
                "Hi,\n\nHow can I change the email address on my account?\n\nDavid"]
SHIPPING = [("Change shipping address for order #46431",
             "Dear support team,\n\nI moved last week: please ship order #46431 to my new address. The new address is"
             " in my profile. Can you change it before the order ships?\n\nJohn"),
            ("Change shipping address for order #73629",
             "Hi,\n\nI moved last week: please ship order #73629 to my new address.\n\nMichael")]
PRICING = "We are a team of 12. Which plan fits us, and is there a yearly discount?"
PRICING_BODIES = [PRICING + " Do you offer an invoice instead of card payment for the plans?\n\nLukas",
                  "Hello,\n\n" + PRICING + "\n\nJennifer",
                  "Hi there,\n\n" + PRICING + " Do you offer an invoice instead of card payment for the plans?\n\nPaul",
                  PRICING + " Do you offer an invoice instead of card payment for the plans?\n\nElizabeth"]
THANKS = ("Thanks!!! 🎉 but one more question",
          "Hi,\n\nThanks, the last answer helped a lot! One more question: can I add a second user to my plan?\n\nMatthew")


def test_unrelated_questions_sharing_a_word_or_two_stay_apart():
    rows = ([(EMAIL, b) for b in EMAIL_BODIES] + SHIPPING + [("Question about pricing plans", b) for b in PRICING_BODIES]
            + [THANKS])
    items = [Asked(f"d{i:02d}", T0 + dt.timedelta(hours=5 * i), s, b) for i, (s, b) in enumerate(rows)]
    groups = {g.label: g for g in frequent_questions(items)}
    assert set(groups) == {EMAIL, "Question about pricing plans"}
    assert groups[EMAIL].example_subjects == (EMAIL,) and groups[EMAIL].size == len(EMAIL_BODIES)
    assert groups["Question about pricing plans"].size == len(PRICING_BODIES)
