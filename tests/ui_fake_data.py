"""The stand-in desk's mail (tests/ui_fake_desk.py): hand-written conversations in priority
order, fixed snippets, and what generated conversations are made of.

A few hand-written conversations come first (English, Russian, Chinese, long subjects, many
tags, subjects that look like Rich markup, a pending one, a bounce); the snapshots and the UI
tests are written against them.
"""

from __future__ import annotations

import datetime as dt

from tui_desk.desk.sla import Sla, SlaTarget
from tui_desk.desk.views import AttachmentView, ConversationView, MessageView, QueueRow, Snippet, TextBlock

UTC = dt.timezone.utc
FIXED_NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def first_response(state: str, minutes_left: float) -> Sla:
    """An SLA whose first response is in `state`, due `minutes_left` from FIXED_NOW (the SLA tests'
    rows; the 80x24 tests' too)."""
    due = FIXED_NOW.timestamp() + minutes_left * 60
    return Sla("", (SlaTarget("first_response", 120, state, due, minutes_left * 60),
                    SlaTarget("next_response", None, "none"), SlaTarget("resolution", None, "none")))
SUPPORT = "Support <support@helpdesk.test>"
AGENT = "Alice Martin <agent1@helpdesk.test>"


def ago(**kw: float) -> dt.datetime:
    return FIXED_NOW - dt.timedelta(**kw)


def make_message(
    mid: int,
    sender: str,
    when: dt.datetime,
    *blocks: TextBlock,
    to: str = SUPPORT,
    cc: str = "",
    agent: bool = False,
    attachments: tuple[AttachmentView, ...] = (),
    defects: tuple[str, ...] = (),
) -> MessageView:
    return MessageView(
        id=mid,
        sender=sender,
        to=to,
        cc=cc,
        date=when,
        from_agent=agent,
        blocks=blocks,
        attachments=attachments,
        defects=defects,
    )


def plain(text: str) -> TextBlock:
    return TextBlock(text=text, quoted=False)


def quoted(text: str) -> TextBlock:
    return TextBlock(text=text, quoted=True)


QUOTED_ORDER = "\n".join(
    [
        "On Tue, Nov 17, 2026 at 09:12, Anna Petrova <anna.petrova@example.ru> wrote:",
        "> Hello,",
        "> I was charged twice for order #48213 (two identical lines on my card",
        "> statement, 49.00 EUR each, both dated 16 November).",
        "> Could you please refund one of them?",
        ">",
        "> Order number: 48213",
        "> Card: Visa ending 4242",
        ">",
        "> Thanks,",
        "> Anna",
        ">",
    ]
)


def handmade_conversations() -> list[tuple[QueueRow, ConversationView]]:
    """Conversations written out in full; ids 1.. in priority order."""
    items: list[tuple[QueueRow, ConversationView]] = []

    def add(
        customer: str,
        addr: str,
        subject: str,
        messages: list[MessageView],
        *,
        tags: tuple[str, ...] = (),
        marker: str = " ",
        reasons: tuple[str, ...] = (),
        flags: tuple[str, ...] = (),
        status: str = "open",
        score: float = 1.0,
    ) -> None:
        cid = len(items) + 1
        row = QueueRow(
            id=cid,
            customer=customer,
            customer_addr=addr,
            subject=subject,
            status=status,
            tags=tags,
            message_count=len(messages),
            last_date=max(m.date for m in messages if m.date),
            score=score,
            marker=marker,
            reasons=reasons,
            flags=flags,
        )
        conv = ConversationView(
            id=cid,
            subject=subject,
            customer=customer,
            status=status,
            tags=tags,
            messages=tuple(messages),
            reasons=reasons,
        )
        items.append((row, conv))

    anna = "Anna Petrova <anna.petrova@example.ru>"
    add(
        "Anna Petrova",
        "anna.petrova@example.ru",
        "Charged twice for order #48213",
        [
            make_message(
                101,
                anna,
                ago(days=3, hours=2),
                plain(
                    "Hello,\nI was charged twice for order #48213 (two identical lines on my card\n"
                    "statement, 49.00 EUR each, both dated 16 November).\n"
                    "Could you please refund one of them?\n\nOrder number: 48213\n"
                    "Card: Visa ending 4242\n\nThanks,\nAnna"
                ),
                attachments=(AttachmentView("statement-nov.pdf", "application/pdf", 184_320),),
            ),
            make_message(
                102,
                AGENT,
                ago(days=3),
                plain(
                    "Hi Anna,\n\nSorry about that! I can see both charges. The second one is a\n"
                    "pre-authorisation that should drop off within 3 business days.\n"
                    "If it is still there on Friday, reply here and I will refund it by hand.\n\n"
                    "Alice"
                ),
                quoted(QUOTED_ORDER),
                to=anna,
                cc=SUPPORT,
                agent=True,
            ),
            make_message(
                103,
                anna,
                ago(hours=5),
                plain("It is Friday and the second charge is still there. Please refund it."),
                quoted(
                    "On Tue, Nov 17, 2026 at 11:40, Alice Martin wrote:\n"
                    "> Hi Anna,\n>\n> Sorry about that! I can see both charges. The second one is a\n"
                    "> pre-authorisation that should drop off within 3 business days.\n"
                    "> If it is still there on Friday, reply here and I will refund it by hand.\n"
                    ">\n> Alice\n>\n" + "\n".join("> " + line for line in QUOTED_ORDER.splitlines())
                ),
                attachments=(
                    AttachmentView("выписка.png", "image/png", 73_114),
                    AttachmentView("bank-letter.pdf", "application/pdf", 2_412_000),
                ),
            ),
        ],
        tags=("billing", "refund", "vip"),
        marker="!",
        reasons=("waiting 5h of 2h target", "vip customer", "reopened by customer"),
        flags=("vip",),
        score=9.5,
    )
    add(
        "Дмитрий Иванов",
        "d.ivanov@example.ru",
        "Не могу войти в личный кабинет после смены пароля",
        [
            make_message(
                201,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=10),
                plain(
                    "Здравствуйте!\nПосле смены пароля не могу войти: пишет «неверный пароль».\n"
                    "Пробовал сбросить ещё раз — письмо не приходит."
                ),
            ),
            make_message(
                202,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=7),
                plain("Проверил папку «Спам» — там тоже ничего нет."),
            ),
            make_message(
                203,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=6),
                plain("Срочно, пожалуйста, нужен доступ к счетам до конца дня!"),
            ),
        ],
        tags=("account", "login"),
        marker="!",
        reasons=("waiting 2h of 1h target", "loud: 3 mails in 5 min"),
        flags=("loud",),
        score=8.7,
    )
    add(
        "王小明",
        "xiaoming.wang@example.cn",
        "订单 #55120 还没有发货，请问什么时候能到？",
        [
            make_message(
                301,
                "王小明 <xiaoming.wang@example.cn>",
                ago(hours=7),
                plain("你好，\n我在十一月十日下的订单 #55120 到现在还没有发货。请问什么时候能到？\n谢谢！"),
            ),
        ],
        tags=("shipping",),
        marker="+",
        reasons=("waiting 7h of 8h target",),
        score=7.9,
    )
    add(
        "[red]Mallory[/red]",
        "mallory@example.org",
        "[bold]x[/] and [link=https://evil.example/]click me[/link]",
        [
            make_message(
                401,
                "[red]Mallory[/red] <mallory@example.org>",
                ago(hours=9),
                plain("[blink]Hello[/blink] [@click=app.quit]press here[/]\nNothing to see."),
                defects=("MissingHeaderBodySeparatorDefect",),
            ),
        ],
        tags=("[b]tag[/b]",),
        reasons=("[i]not[/i] a reason",),
        score=6.0,
    )
    add(
        "Bartholomew Featherstonehaugh-Montgomery",
        "bart@very-long-company-name.example.com",
        "Integration with our on-premise SSO provider keeps failing after the latest update "
        "to version 4.2.1 (SAML assertion rejected, clock skew?) — production is blocked",
        [
            make_message(
                501,
                "Bartholomew Featherstonehaugh-Montgomery <bart@very-long-company-name.example.com>",
                ago(days=1, hours=1),
                plain(
                    "Hi team,\n\nsince the 4.2.1 update every SAML login fails with "
                    "'assertion rejected'. Logs attached.\n\nBart"
                ),
                to="support@helpdesk.test, sso-team@helpdesk.test",
                cc="cto@very-long-company-name.example.com",
                attachments=(
                    AttachmentView("saml-trace.log", "text/plain", 912),
                    AttachmentView("screenshot 2026-11-19 at 10.02.11.png", "image/png", 1_048_576),
                ),
            ),
        ],
        tags=("sso", "enterprise", "bug", "p1", "integration", "saml", "regression", "escalated"),
        marker="!",
        reasons=("enterprise plan", "waiting 1d of 4h target"),
        score=6.9,
    )
    add(
        "Kevin O'Brien",
        "kevin@example.com",
        "URGENT!!! question about invoice format",
        [
            make_message(
                601,
                "Kevin O'Brien <kevin@example.com>",
                ago(minutes=40),
                plain("Hi, can the invoice show our VAT number on the first page? Thanks, Kevin"),
            ),
        ],
        tags=("billing",),
        reasons=("urgent word in subject (ignored: low-risk question)",),
        flags=("urgent-word",),
        score=3.2,
    )
    add(
        "佐藤 花子",
        "hanako.sato@example.jp",
        "アカウント削除のお願い",
        [
            make_message(
                701,
                "佐藤 花子 <hanako.sato@example.jp>",
                ago(days=2),
                plain("お世話になっております。\nアカウントを削除していただけますでしょうか。\nよろしくお願いいたします。"),
            ),
            make_message(
                702,
                AGENT,
                ago(days=1, hours=20),
                plain("Hello Hanako,\nyour account and its data have been deleted.\nAlice"),
                to="佐藤 花子 <hanako.sato@example.jp>",
                cc=SUPPORT,
                agent=True,
            ),
        ],
        tags=("gdpr", "account"),
        status="pending",
        reasons=("answered, waiting for customer",),
        score=1.5,
    )
    add(
        "noreply@mailer-daemon.example.net",
        "noreply@mailer-daemon.example.net",
        "Undelivered Mail Returned to Sender",
        [
            make_message(
                801,
                "Mail Delivery System <noreply@mailer-daemon.example.net>",
                ago(weeks=6),
                plain("This is the mail system at host mx.example.net.\nI'm sorry to have to inform you..."),
                attachments=(AttachmentView("details.txt", "message/delivery-status", 431),),
                defects=("InvalidHeaderDefect: Date", "CloseBoundaryNotFoundDefect"),
            ),
        ],
        tags=("bounce",),
        reasons=("bounce",),
        score=0.2,
    )
    return items


# Fixed snippets for snapshots, so editing the shipped ones in snippets/ does not move pixels here.
FIXED_SNIPPETS = [
    Snippet(
        name="outage-investigating",
        title="Outage — we're investigating",
        tags=("outage", "incident"),
        body=(
            "Hi {{customer_first_name}},\n\nYou're right, something is wrong on our side, and I'm "
            "sorry for the disruption.\n\nOur engineers are on it. Follow along on our status page: "
            "{{status_page_url}}\n\n- nothing to change on your side\n- we will write again when it "
            "is fixed\n\n{{agent_name}}"
        ),
    ),
    Snippet(
        name="password-reset",
        title="Password reset link",
        tags=("account", "login"),
        body="Hi {{customer_first_name}},\n\nHere is a fresh **password reset** link: {{reset_url}}\n\n{{agent_name}}",
    ),
    Snippet(
        name="refund-issued",
        title="Refund issued",
        tags=("billing", "refund"),
        body="Hi {{customer_first_name}},\n\nI've refunded order **{{order_id}}**. Banks take 5–10 days.\n\n{{agent_name}}",
    ),
    Snippet(
        name="thanks-feedback",
        title="Thanks for the feedback",
        tags=("feedback",),
        body="Thanks a lot for taking the time to write to us, {{customer_first_name}}!",
    ),
]


FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Sofia", "Lucas", "Mia", "Ethan", "Иван", "Мария",
    "Ольга", "Сергей", "李", "张伟", "陈静", "Amélie", "Jürgen", "Søren", "Priya", "Mateo",
)
LAST_NAMES = (
    "Smith", "Nguyen", "García", "Müller", "Kowalski", "Rossi", "Смирнов", "Кузнецова",
    "Wang", "Tanaka", "O'Connor", "Dubois", "Silva", "Johansson", "Patel",
)
SUBJECTS = (
    "Refund for order #{n}",
    "Password reset email never arrives",
    "Question about my invoice {n}",
    "App crashes when I open the settings page",
    "Can I change the delivery address for order #{n}?",
    "Возврат денег за заказ №{n}",
    "Не приходит письмо для сброса пароля",
    "关于发票 {n} 的问题",
    "订单 #{n} 一直显示处理中",
    "Feature request: dark mode for the mobile app",
    "URGENT: cannot log in",
    "Wrong item delivered (order {n})",
    "Cancel my subscription please",
    "Export to CSV loses non-ASCII characters",
)
TAGS = ("billing", "refund", "shipping", "account", "bug", "feature", "login", "vip", "mobile", "gdpr")
GENERATED_STATUSES = ("open", "open", "open", "pending")
ALL_STATUSES = ("open", "pending", "closed", "spam")
FAKE_AGENT = "alice"
