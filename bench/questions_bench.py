#!/usr/bin/env python3
"""Frequent questions at 100k conversations (issue 15): time and peak memory of
tui_desk.desk.questions.frequent_questions against the target (heatmap and frequent questions
<= 2 s; memory <= 200 MB).

    .venv/bin/python bench/questions_bench.py [--n 100000] [--seed 15] [--runs 3] [--noise 0.1]

The conversations are synthetic and made up front (not timed): 51 question families (17 asks in
English, Russian and Chinese), each with several paraphrased subjects and bodies, order numbers,
greetings and filler, sometimes a reply prefix, quoted history or a signature; plus a share of
noise (random words from all families, no shared ask). Spread over a year.

Printed: the median wall and CPU time of --runs runs, the same again with a warm QuestionCache
(what a live Reports screen pays when it reports again), a calibration (CPU seconds for
sum(range(10**7)), to compare machines), the tracemalloc peak of one more run (what the
grouping allocates on top of its input; tracemalloc slows the run, so it is timed apart), the
process's max RSS after the timed runs (and what it was once the input was made; tracemalloc's
own bookkeeping is not in it), the groups found and how pure they are (the share of each
group's conversations from its main family, weighted by size).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui_desk.desk.questions import Asked, QuestionCache, frequent_questions

TARGET_S = 2.0
TARGET_MB = 200

# family -> (subjects, body openings); {n} is an order/invoice number
FAMILIES_EN = {
    "password": (["How do I reset my password?", "Can't log in, forgot password", "Password reset link not arriving",
                  "forgot my password", "reset password email never came"],
                 ["I forgot my password and the reset link never arrives.", "I can't log in, the password reset email is not coming.",
                  "How can I reset my password? I requested a reset link twice."]),
    "refund": (["Refund request for order {n}", "I want my money back", "Requesting a refund", "When will I get my refund?"],
               ["Please refund order {n}, the item was not what I expected.", "I returned the item two weeks ago and still no refund.",
                "Can I get a refund for my purchase {n}?"]),
    "invoice": (["Need an invoice for order {n}", "Invoice copy please", "VAT invoice missing", "Where can I download my invoice?"],
                ["Could you send me an invoice for order {n} with our company VAT number?", "I need a copy of the invoice for accounting.",
                 "The invoice is missing from my account page."]),
    "shipping": (["Where is my order {n}?", "Order {n} not delivered yet", "Tracking number not working", "Package hasn't arrived"],
                 ["My order {n} still has not been delivered, the tracking shows nothing.", "The package was shipped a week ago but hasn't arrived.",
                  "Where is my parcel? Tracking number doesn't work."]),
    "cancel": (["Cancel my subscription", "How do I cancel?", "Stop automatic renewal", "Please cancel my plan"],
               ["I want to cancel my subscription before the next renewal.", "How can I stop the automatic renewal of my plan?",
                "Please cancel my account subscription, thanks."]),
    "address": (["Change delivery address for order {n}", "Wrong shipping address", "Update my address"],
                ["I entered the wrong delivery address for order {n}, can you change it?", "Please update the shipping address on my order."]),
    "coupon": (["Discount code not working", "Promo code invalid", "Coupon doesn't apply at checkout"],
               ["The discount code from your newsletter says invalid at checkout.", "My promo coupon does not apply to the cart."]),
    "payment": (["Payment failed", "Card declined at checkout", "Charged twice for order {n}"],
                ["My card was declined but the bank says the payment went through.", "I was charged twice for the same order {n}."]),
    "account": (["Delete my account", "Please remove my data", "Close my account and erase personal data"],
                ["I would like to delete my account and all personal data (GDPR).", "Please close my account and remove my data."]),
    "damaged": (["Item arrived damaged", "Broken product in package", "Received a damaged item in order {n}"],
                ["The item in order {n} arrived broken, the box was crushed.", "The product arrived damaged, what should I do?"]),
    "exchange": (["Exchange for a different size", "Wrong size, want to exchange", "Can I swap the size?"],
                 ["The shoes are too small, can I exchange them for a bigger size?", "I'd like to exchange the jacket for size M."]),
    "twofactor": (["Lost phone, two-factor code", "2FA code not received", "Can't get the authentication code"],
                  ["I lost my phone and can't get the two-factor authentication code.", "The SMS authentication code never arrives."]),
    "email_change": (["Change my email address", "Update login email", "New email for my account"],
                     ["How do I change the email address on my account?", "I need to update the login email to my new address."]),
    "warranty": (["Warranty claim", "Is this covered by warranty?", "Repair under warranty"],
                 ["My device stopped working after three months, is it covered by warranty?", "I'd like to file a warranty claim for a repair."]),
    "bulk": (["Bulk order discount", "Wholesale pricing", "Price for 500 units"],
             ["We'd like to order in bulk, do you offer wholesale pricing?", "What is the discount for a large order of 500 units?"]),
    "api": (["API key not working", "API returns 401 unauthorized", "How do I get an API token?"],
            ["Our API key returns 401 unauthorized since yesterday.", "Where do I generate an API token for the integration?"]),
    "hours": (["Opening hours", "When is your store open?", "Are you open on Sunday?"],
              ["What are your opening hours on weekends?", "Is the store open on Sunday?"]),
}
FAMILIES_RU = {
    "password": (["Как сбросить пароль?", "Не могу войти, забыл пароль", "Не приходит письмо для восстановления пароля"],
                 ["Я забыл пароль, а ссылка для сброса не приходит.", "Не могу войти в аккаунт, письмо для восстановления пароля не пришло."]),
    "refund": (["Возврат денег за заказ {n}", "Хочу вернуть деньги", "Когда вернут деньги?"],
               ["Прошу вернуть деньги за заказ {n}, товар не подошёл.", "Я отправил товар обратно две недели назад, деньги так и не вернули."]),
    "invoice": (["Нужен счёт для заказа {n}", "Пришлите счёт-фактуру", "Где скачать счёт?"],
                ["Пришлите, пожалуйста, счёт на оплату заказа {n} с реквизитами нашей компании.", "Нужна копия счёта для бухгалтерии."]),
    "shipping": (["Где мой заказ {n}?", "Заказ {n} не доставлен", "Посылка не пришла"],
                 ["Мой заказ {n} до сих пор не доставлен, трек-номер не отслеживается.", "Посылку отправили неделю назад, но она так и не пришла."]),
    "cancel": (["Отменить подписку", "Как отменить подписку?", "Отключите автопродление"],
               ["Хочу отменить подписку до следующего списания.", "Как отключить автоматическое продление подписки?"]),
    "address": (["Изменить адрес доставки заказа {n}", "Неправильный адрес доставки"],
                ["Я указал неправильный адрес доставки для заказа {n}, можно изменить?", "Пожалуйста, измените адрес доставки в заказе."]),
    "coupon": (["Промокод не работает", "Не применяется скидка по промокоду"],
               ["Промокод из рассылки не принимается при оформлении заказа.", "Скидка по промокоду не применяется в корзине."]),
    "payment": (["Не проходит оплата", "Карту отклонили при оплате", "Деньги списали дважды за заказ {n}"],
                ["Карту отклонили, но банк говорит, что оплата прошла.", "С меня дважды списали деньги за заказ {n}."]),
    "account": (["Удалить аккаунт", "Удалите мои персональные данные"],
                ["Прошу удалить мой аккаунт и все персональные данные.", "Пожалуйста, закройте аккаунт и удалите мои данные."]),
    "damaged": (["Товар пришёл повреждённым", "Разбитый товар в посылке"],
                ["Товар из заказа {n} пришёл разбитым, коробка смята.", "Товар пришёл повреждённым, что делать?"]),
    "exchange": (["Обмен на другой размер", "Не подошёл размер, хочу обменять"],
                 ["Ботинки малы, можно обменять на размер больше?", "Хочу обменять куртку на другой размер."]),
    "twofactor": (["Потерял телефон, код двухфакторной аутентификации", "Не приходит код подтверждения"],
                  ["Я потерял телефон и не могу получить код двухфакторной аутентификации.", "СМС с кодом подтверждения не приходит."]),
    "email_change": (["Сменить адрес почты", "Изменить email для входа"],
                     ["Как изменить адрес электронной почты в аккаунте?", "Нужно сменить email для входа на новый адрес."]),
    "warranty": (["Гарантийный ремонт", "Это гарантийный случай?"],
                 ["Устройство сломалось через три месяца, это гарантийный случай?", "Хочу оформить гарантийный ремонт."]),
    "bulk": (["Оптовый заказ", "Оптовые цены"],
             ["Хотим сделать оптовый заказ, есть ли оптовые цены?", "Какая скидка на оптовую партию в 500 штук?"]),
    "api": (["API ключ не работает", "Как получить API токен?"],
            ["Наш API ключ возвращает ошибку 401 со вчерашнего дня.", "Где сгенерировать API токен для интеграции?"]),
    "hours": (["Часы работы", "Вы работаете в воскресенье?"],
              ["Какие у вас часы работы в выходные?", "Магазин работает в воскресенье?"]),
}
FAMILIES_ZH = {
    "password": (["如何重置密码？", "忘记密码，无法登录", "收不到重置密码的邮件"],
                 ["我忘记了密码，重置密码的链接一直收不到。", "无法登录账户，重置密码的邮件没有收到。"]),
    "refund": (["订单{n}申请退款", "我要退款", "退款什么时候到账？"],
               ["订单{n}的商品不合适，请帮我退款。", "两周前已经退货了，退款还没有到账。"]),
    "invoice": (["订单{n}需要发票", "请开具增值税发票", "在哪里下载发票？"],
                ["请为订单{n}开具发票，抬头是我们公司。", "财务需要一份发票的复印件。"]),
    "shipping": (["我的订单{n}在哪里？", "订单{n}还没有送到", "包裹一直没到"],
                 ["我的订单{n}到现在还没有送到，物流信息查不到。", "包裹一周前就发货了，但是一直没有到。"]),
    "cancel": (["取消订阅", "怎么取消自动续费？", "请取消我的套餐"],
               ["我想在下次扣费之前取消订阅。", "如何关闭自动续费？"]),
    "address": (["修改订单{n}的收货地址", "收货地址填错了"],
                ["订单{n}的收货地址填错了，能修改吗？", "请帮我修改订单里的收货地址。"]),
    "coupon": (["优惠码不能用", "优惠券无法使用"],
               ["结账的时候优惠码显示无效。", "优惠券在购物车里用不了。"]),
    "payment": (["付款失败", "银行卡支付被拒绝", "订单{n}被扣了两次钱"],
                ["银行卡支付被拒绝了，但是银行说已经扣款。", "同一个订单{n}被扣了两次钱。"]),
    "account": (["注销账户", "删除我的个人数据"],
                ["请注销我的账户并删除所有个人数据。", "请帮我删除账户和个人信息。"]),
    "damaged": (["收到的商品损坏了", "包裹里的商品破损"],
                ["订单{n}的商品收到时已经破损，盒子被压坏了。", "商品到货就是坏的，怎么处理？"]),
    "exchange": (["换尺码", "尺码不合适想换货"],
                 ["鞋子小了，可以换大一码吗？", "我想把外套换成M码。"]),
    "twofactor": (["手机丢了，收不到验证码", "收不到短信验证码"],
                  ["我的手机丢了，收不到两步验证的验证码。", "短信验证码一直收不到。"]),
    "email_change": (["修改邮箱地址", "更换登录邮箱"],
                     ["怎么修改账户绑定的邮箱地址？", "我需要把登录邮箱换成新的地址。"]),
    "warranty": (["保修维修", "这个在保修范围内吗？"],
                 ["设备用了三个月就坏了，在保修范围内吗？", "我想申请保修维修。"]),
    "bulk": (["批量采购", "批发价格"],
             ["我们想批量采购，有批发价格吗？", "采购500件有什么折扣？"]),
    "api": (["API密钥无法使用", "如何获取API令牌？"],
            ["我们的API密钥从昨天开始返回401错误。", "在哪里生成集成用的API令牌？"]),
    "hours": (["营业时间", "周日营业吗？"],
              ["周末的营业时间是几点？", "商店周日开门吗？"]),
}
GREETINGS = {"en": ["Hi,", "Hello team,", "Dear support,", ""], "ru": ["Здравствуйте!", "Добрый день,", ""],
             "zh": ["你好，", "您好！", ""]}
CLOSINGS = {"en": ["Thanks!", "Best regards, Anna", "Thank you in advance."], "ru": ["Спасибо!", "С уважением, Иван"],
            "zh": ["谢谢！", "麻烦尽快处理。"]}
PREFIXES = ["", "", "", "Re: ", "Fwd: ", "AW: ", "Ответ: ", "回复：", "[#{n}] "]
QUOTE = {"en": "\n\nOn Mon, 3 Mar 2025 at 10:00, Support <help@shop.test> wrote:\n> Thank you for contacting us about your order.\n> We will get back to you soon.",
         "ru": "\n\n3 марта 2025 г., в 10:00, Поддержка <help@shop.test> написал(а):\n> Спасибо за обращение, мы скоро ответим.",
         "zh": "\n\n在 2025年3月3日 10:00，客服 <help@shop.test> 写道：\n> 感谢您的来信，我们会尽快回复。"}
SIGNATURE = "\n-- \nAnna Smith\nACME Corp, Procurement\n+1 555 0100"
SNIPPETS = {"password": "reset-link", "refund": "refund-issued", "invoice": "invoice-copy", "shipping": "tracking-info",
            "cancel": "cancel-sub", "address": "address-change", "coupon": "coupon-help", "payment": "payment-check"}


def make_conversations(n: int, seed: int, noise: float) -> tuple[list[Asked], list[str]]:
    """n conversations and, for each, its family ("lang:name", or "noise")."""
    rng = random.Random(seed)
    families = [("en", k, v) for k, v in FAMILIES_EN.items()] + [("ru", k, v) for k, v in FAMILIES_RU.items()] \
        + [("zh", k, v) for k, v in FAMILIES_ZH.items()]
    weights = [1.0 / (i + 1) ** 0.7 for i in range(len(families))]
    # noise: words of all families (Chinese cut into two-character pieces), no ask in common
    words = {w for _, _, (subjects, bodies) in families for text in subjects + bodies for w in text.split()}
    vocab = sorted({piece for w in words for piece in ([w] if w.isascii() or not w[0] >= "\u4e00"
                                                         else [w[i:i + 2] for i in range(0, len(w), 2)])})
    start = 1_735_689_600.0   # 2025-01-01
    out, truth = [], []
    for i in range(n):
        at = start + rng.random() * 365 * 86400
        number = str(rng.randrange(10000, 999999))
        if rng.random() < noise:
            words = rng.sample(vocab, 8)
            out.append(Asked(i, at, " ".join(words[:3]), " ".join(words[3:]), ()))
            truth.append("noise")
            continue
        lang, name, (subjects, bodies) = rng.choices(families, weights)[0]
        subject = rng.choice(PREFIXES).replace("{n}", number) + rng.choice(subjects).replace("{n}", number)
        body = " ".join(filter(None, [rng.choice(GREETINGS[lang]), rng.choice(bodies).replace("{n}", number),
                                      rng.choice(CLOSINGS[lang])]))
        if rng.random() < 0.3:
            body += QUOTE[lang]
        if lang == "en" and rng.random() < 0.2:
            body += SIGNATURE
        snippet = SNIPPETS.get(name)
        snippets = (snippet,) if snippet and rng.random() < 0.7 else ()
        out.append(Asked(i, at, subject, body, snippets))
        truth.append(f"{lang}:{name}")
    return out, truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--show", type=int, default=10, help="groups listed")
    args = parser.parse_args(argv)
    asked, truth = make_conversations(args.n, args.seed, args.noise)
    rss_input_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, cpu, groups = [], [], []
    for _ in range(args.runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        groups = frequent_questions(asked)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    cache = QuestionCache()
    frequent_questions(asked, cache=cache)
    warm, warm_cpu = [], []
    for _ in range(args.runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        frequent_questions(asked, cache=cache)
        warm.append(time.perf_counter() - began)
        warm_cpu.append(time.process_time() - began_cpu)
    began = time.process_time()
    sum(range(10_000_000))
    calibration = time.process_time() - began
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    frequent_questions(asked)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    grouped = sum(g.size for g in groups)
    pure = sum(Counter(truth[i] for i in g.conv_ids).most_common(1)[0][1] for g in groups)
    split = Counter(Counter(truth[i] for i in g.conv_ids).most_common(1)[0][0] for g in groups)
    families = len(set(truth) - {"noise"})
    print(f"conversations        {args.n:>10,}   ({families} families, {args.noise:.0%} noise)")
    print(f"time (median of {args.runs})   {statistics.median(times):>10.2f} s   target <= {TARGET_S:.0f} s   "
          f"({'ok' if statistics.median(times) <= TARGET_S else 'OVER'}); runs: {', '.join(f'{t:.2f}' for t in times)}")
    print(f"CPU time (median)    {statistics.median(cpu):>10.2f} s   (wall minus waiting for a core on a shared machine)")
    print(f"again, warm cache    {statistics.median(warm):>10.2f} s   wall, {statistics.median(warm_cpu):.2f} s CPU "
          f"(a QuestionCache kept between runs, as a live Reports screen would)")
    print(f"calibration          {calibration:>10.2f} s   CPU for sum(range(10**7)): this machine's pace")
    print(f"peak alloc (tracemalloc) {peak / 2**20:>6.0f} MB   target <= {TARGET_MB} MB   "
          f"({'ok' if peak / 2**20 <= TARGET_MB else 'OVER'})")
    print(f"max RSS              {rss_mb:>10.0f} MB   ({rss_input_mb:.0f} MB of it before grouping: the interpreter and the input)")
    print(f"groups               {len(groups):>10}   holding {grouped:,} conversations; purity {pure / max(1, grouped):.1%}; "
          f"families found {len(set(split) - {'noise'})}/{families}, "
          f"{sum(1 for f, n in split.items() if n > 1 and f != 'noise')} of them split over more than one group")
    index = {conv_id: i for i, conv_id in enumerate(a.conv_id for a in asked)}
    for g in groups[:args.show]:
        family, n = Counter(truth[index[c]] for c in g.conv_ids).most_common(1)[0]
        print(f"  {g.size:>6}  {family:<16} {n / g.size:>5.0%}  {g.trend.direction:<8} {g.label[:34]:<34}  "
              f"{g.top_snippet}  {', '.join(g.terms)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
