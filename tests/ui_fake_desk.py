"""An in-memory DeskService for the UI tests and for looking at the app by eye.

A few hand-written conversations come first (English, Russian, Chinese, long subjects, many
tags, subjects that look like Rich markup), then as many generated ones as asked for. Generated
rows are made on demand from their id, so a desk of 100k conversations costs nothing until a
row is looked at.

    python -m tests.ui_fake_desk            # 100k conversations, the clock fixed at FIXED_NOW
    python -m tests.ui_fake_desk --n 50 --live-clock
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from tui_desk.desk.when import parse_when
from tui_desk.desk.views import (
    AttachmentView,
    ConversationView,
    MessageView,
    QueueRow,
    Snippet,
    TextBlock,
)

UTC = dt.timezone.utc
FIXED_NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SUPPORT = "Support <support@helpdesk.test>"
AGENT = "Alice Martin <agent1@helpdesk.test>"


def ago(**kw: float) -> dt.datetime:
    return FIXED_NOW - dt.timedelta(**kw)


def _msg(
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


def _text(text: str) -> TextBlock:
    return TextBlock(text=text, quoted=False)


def _quote(text: str) -> TextBlock:
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


def _handmade() -> list[tuple[QueueRow, ConversationView]]:
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
            _msg(
                101,
                anna,
                ago(days=3, hours=2),
                _text(
                    "Hello,\nI was charged twice for order #48213 (two identical lines on my card\n"
                    "statement, 49.00 EUR each, both dated 16 November).\n"
                    "Could you please refund one of them?\n\nOrder number: 48213\n"
                    "Card: Visa ending 4242\n\nThanks,\nAnna"
                ),
                attachments=(AttachmentView("statement-nov.pdf", "application/pdf", 184_320),),
            ),
            _msg(
                102,
                AGENT,
                ago(days=3),
                _text(
                    "Hi Anna,\n\nSorry about that! I can see both charges. The second one is a\n"
                    "pre-authorisation that should drop off within 3 business days.\n"
                    "If it is still there on Friday, reply here and I will refund it by hand.\n\n"
                    "Alice"
                ),
                _quote(QUOTED_ORDER),
                to=anna,
                cc=SUPPORT,
                agent=True,
            ),
            _msg(
                103,
                anna,
                ago(hours=5),
                _text("It is Friday and the second charge is still there. Please refund it."),
                _quote(
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
            _msg(
                201,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=10),
                _text(
                    "Здравствуйте!\nПосле смены пароля не могу войти: пишет «неверный пароль».\n"
                    "Пробовал сбросить ещё раз — письмо не приходит."
                ),
            ),
            _msg(
                202,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=7),
                _text("Проверил папку «Спам» — там тоже ничего нет."),
            ),
            _msg(
                203,
                "Дмитрий Иванов <d.ivanov@example.ru>",
                ago(hours=2, minutes=6),
                _text("Срочно, пожалуйста, нужен доступ к счетам до конца дня!"),
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
            _msg(
                301,
                "王小明 <xiaoming.wang@example.cn>",
                ago(hours=7),
                _text("你好，\n我在十一月十日下的订单 #55120 到现在还没有发货。请问什么时候能到？\n谢谢！"),
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
            _msg(
                401,
                "[red]Mallory[/red] <mallory@example.org>",
                ago(hours=9),
                _text("[blink]Hello[/blink] [@click=app.quit]press here[/]\nNothing to see."),
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
            _msg(
                501,
                "Bartholomew Featherstonehaugh-Montgomery <bart@very-long-company-name.example.com>",
                ago(days=1, hours=1),
                _text(
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
            _msg(
                601,
                "Kevin O'Brien <kevin@example.com>",
                ago(minutes=40),
                _text("Hi, can the invoice show our VAT number on the first page? Thanks, Kevin"),
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
            _msg(
                701,
                "佐藤 花子 <hanako.sato@example.jp>",
                ago(days=2),
                _text("お世話になっております。\nアカウントを削除していただけますでしょうか。\nよろしくお願いいたします。"),
            ),
            _msg(
                702,
                AGENT,
                ago(days=1, hours=20),
                _text("Hello Hanako,\nyour account and its data have been deleted.\nAlice"),
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
            _msg(
                801,
                "Mail Delivery System <noreply@mailer-daemon.example.net>",
                ago(weeks=6),
                _text("This is the mail system at host mx.example.net.\nI'm sorry to have to inform you..."),
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
STATUSES = ("open", "open", "open", "pending")
ALL_STATUSES = ("open", "pending", "closed", "spam")
FAKE_AGENT = "alice"


@dataclass
class TriageState:
    """What agents change on a conversation (the rest of the row comes from the data)."""

    status: str
    tags: tuple[str, ...]
    assignee: str | None = None
    snooze_until: dt.datetime | None = None
    snooze_reply: bool = False

    @property
    def snoozed(self) -> bool:
        return self.snooze_reply or (self.snooze_until is not None and self.snooze_until > FIXED_NOW)


def _plural(n: int) -> str:
    return f"{n} conversation{'s' if n != 1 else ''}"


class FakeDesk:
    """DeskService over hand-written conversations plus ``n`` generated ones in total.

    Triage actions behave as the real desk's (desk.commands): same checks, same one-line
    descriptions, one undo step per action; closed, spam and snoozed conversations leave the
    queue. Only the conversations an agent changed are held as state.
    """

    agent = FAKE_AGENT

    def __init__(
        self,
        n: int = 40,
        *,
        latency: float = 0.0,
        snippet_dir: Path | None = None,
        snippet_list: list[Snippet] | None = None,
    ) -> None:
        self.handmade = _handmade()
        self.n = max(n, len(self.handmade))
        self.latency = latency
        self.snippet_dir = snippet_dir
        self.snippet_list = snippet_list
        self.row_calls: list[list[int]] = []  # every queue_rows request, for laziness checks
        self.queries: list[str | None] = []
        self.changed: dict[int, TriageState] = {}  # conversations agents have changed
        self.undo_stack: list[tuple[str, dict[int, TriageState]]] = []
        self.actions: list[tuple] = []  # every triage call, for the tests

    # --- DeskService ---------------------------------------------------------------------

    # no store, no accounts: nothing to watch, check, run beside the app or close
    def undo_send_seconds(self) -> list[int]:
        return []

    def background(self) -> None:
        return None

    async def store_version(self) -> None:
        return None

    def store_mark(self) -> None:
        return None

    async def check_store(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def queue_ids(self, query: str | None = None) -> list[int]:
        self.queries.append(query)
        await self._pause()
        if not query or not query.strip():
            hidden = {cid for cid, s in self.changed.items() if s.status not in ("open", "pending") or s.snoozed}
            return [i for i in range(1, self.n + 1) if i not in hidden]
        hits = [row for row in (self._row(i) for i in range(1, self.n + 1)) if self._matches(row, query)]
        hits.sort(key=lambda r: r.last_date, reverse=True)  # a search lists newest first
        return [r.id for r in hits]

    def views(self) -> list[tuple[str, str | None]]:
        return [
            ("Queue", None),
            ("Mine", f"assignee:{FAKE_AGENT} status:open"),
            ("Unassigned", "is:unassigned status:open"),
            ("Pending", "status:pending"),
            ("Snoozed", "is:snoozed"),
            ("Waking today", "is:waking-today"),
            ("Closed", "status:closed"),
        ]

    async def view_ids(self, query: str | None) -> list[int]:
        if not query:
            return await self.queue_ids()
        await self._pause()
        return [i for i in range(1, self.n + 1) if self._matches(self._row(i), query)]

    def _matches(self, row: QueueRow, query: str) -> bool:
        """The fields the saved views use (status: tag: assignee: is:); other words are one
        needle in subject, customer, address and tags."""
        state = self._state(row.id)
        words = []
        for term in query.split():
            key, _, value = term.partition(":")
            value = value.casefold()
            if key == "status":
                if state.status != value:
                    return False
            elif key == "tag":
                if value not in state.tags:
                    return False
            elif key == "assignee":
                if (state.assignee or "").casefold() != value:
                    return False
            elif key == "is":
                tomorrow = (FIXED_NOW + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0)
                if value == "snoozed" and not state.snoozed:
                    return False
                if value == "unassigned" and state.assignee is not None:
                    return False
                if value == "assigned" and state.assignee is None:
                    return False
                if value == "waking-today" and not (
                    state.snooze_until is not None and FIXED_NOW < state.snooze_until <= tomorrow
                ):
                    return False
            else:
                words.append(term)
        needle = " ".join(words).casefold()
        return needle in " ".join((row.subject, row.customer, row.customer_addr, *row.tags)).casefold()

    # --- triage (as desk.commands does it) ------------------------------------------------

    async def tag(self, ids: list[int], add: list[str] = (), remove: list[str] = ()) -> str:
        self.actions.append(("tag", list(ids), list(add), list(remove)))
        add = [t.strip().lower() for t in add if t.strip()]
        remove = [t.strip().lower() for t in remove if t.strip()]
        for t in add:
            if any(c.isspace() for c in t) or len(t) > 64:
                raise ValueError(f"a tag is one word of at most 64 characters, not {t!r}")

        def edit(s: TriageState) -> None:
            s.tags = tuple(sorted((set(s.tags) | set(add)) - set(remove)))

        words = " ".join([*(f"+{t}" for t in add), *(f"-{t}" for t in remove)])
        return self._apply(ids, edit, f"tagged {_plural(len(set(ids)))} {words}")

    async def set_status(self, ids: list[int], status: str) -> str:
        self.actions.append(("status", list(ids), status))
        if status not in ALL_STATUSES:
            raise ValueError(f"status is one of {', '.join(ALL_STATUSES)}, not {status!r}")

        def edit(s: TriageState) -> None:
            s.status = status
            if status in ("closed", "spam"):
                s.snooze_until, s.snooze_reply = None, False

        return self._apply(ids, edit, f"{status} {_plural(len(set(ids)))}")

    async def snooze(self, ids: list[int], when_text: str) -> str:
        self.actions.append(("snooze", list(ids), when_text))
        if when_text.strip().lower() in ("off", "wake", "none"):

            def wake(s: TriageState) -> None:
                s.snooze_until, s.snooze_reply = None, False

            return self._apply(ids, wake, f"woke {_plural(len(set(ids)))}")
        when = parse_when(when_text, FIXED_NOW)
        if when.at is not None and when.at <= FIXED_NOW:
            raise ValueError("that time is already past")

        def edit(s: TriageState) -> None:
            s.snooze_until, s.snooze_reply = when.at, when.until_reply

        until = "until the customer replies" if when.until_reply else f"until {when.at:%a %d %b %H:%M}"
        return self._apply(ids, edit, f"snoozed {_plural(len(set(ids)))} {until}")

    async def assign(self, ids: list[int], agent: str | None) -> str:
        self.actions.append(("assign", list(ids), agent))
        agent = (agent or "").strip() or None
        if agent and (any(c.isspace() for c in agent) or len(agent) > 64):
            raise ValueError(f"an agent name is one word, not {agent!r}")

        def edit(s: TriageState) -> None:
            s.assignee = agent

        what = f"assigned {_plural(len(set(ids)))} to {agent}" if agent else f"unassigned {_plural(len(set(ids)))}"
        return self._apply(ids, edit, what)

    async def undo(self) -> str | None:
        self.actions.append(("undo",))
        if not self.undo_stack:
            return None
        description, before = self.undo_stack.pop()
        self.changed.update(before)
        return description

    async def known_tags(self) -> list[str]:
        tags = {t for row, _ in self.handmade for t in row.tags} | set(TAGS)
        tags |= {t for s in self.changed.values() for t in s.tags}
        return sorted(tags)

    async def setup_hint(self) -> str | None:
        return None

    async def known_agents(self) -> list[str]:
        return sorted({FAKE_AGENT, "bob", *(s.assignee for s in self.changed.values() if s.assignee)})

    def _state(self, cid: int) -> TriageState:
        state = self.changed.get(cid)
        if state is None:
            row = self._base_row(cid)
            state = TriageState(row.status, row.tags)
        return state

    def _apply(self, ids: list[int], edit, description: str) -> str:  # noqa: ANN001
        ids = sorted(set(ids))
        missing = [i for i in ids if not 1 <= i <= self.n]
        if missing:
            raise ValueError(f"no conversation {', '.join(map(str, missing))}")
        before = {i: dataclasses.replace(self._state(i)) for i in ids}
        for i in ids:
            state = dataclasses.replace(self._state(i))
            edit(state)
            self.changed[i] = state
        self.undo_stack.append((description, before))
        return description

    async def queue_rows(self, ids: list[int]) -> list[QueueRow]:
        self.row_calls.append(list(ids))
        await self._pause()
        return [self._row(i) for i in ids if 1 <= i <= self.n]

    async def conversation(self, conv_id: int) -> ConversationView | None:
        await self._pause()
        if not 1 <= conv_id <= self.n:
            return None
        if conv_id <= len(self.handmade):
            conv = self.handmade[conv_id - 1][1]
        else:
            conv = self._generated_conversation(conv_id)
        state = self.changed.get(conv_id)
        if state is None:
            return conv
        return dataclasses.replace(conv, status=state.status, tags=state.tags, assignee=state.assignee,
                                   snoozed_until=state.snooze_until, snoozed_until_reply=state.snooze_reply)

    def snippets(self) -> list[Snippet]:
        if self.snippet_list is not None:
            return list(self.snippet_list)
        from tui_desk.desk.snippets import bundled_dir, load_snippets

        folder = self.snippet_dir or bundled_dir("snippets")
        return load_snippets([folder] if folder else [])[0]

    # --- generated data ------------------------------------------------------------------

    async def _pause(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)

    def _row(self, cid: int) -> QueueRow:
        row = self._base_row(cid)
        state = self.changed.get(cid)
        if state is None:
            return row
        return dataclasses.replace(row, status=state.status, tags=state.tags, assignee=state.assignee,
                                   snoozed_until=state.snooze_until, snoozed_until_reply=state.snooze_reply)

    def _base_row(self, cid: int) -> QueueRow:
        if cid <= len(self.handmade):
            return self.handmade[cid - 1][0]
        rnd = random.Random(cid)
        first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
        customer = f"{first} {last}"
        subject = rnd.choice(SUBJECTS).format(n=10_000 + cid)
        tags = tuple(sorted(rnd.sample(TAGS, rnd.choice((0, 1, 1, 2, 3)))))
        # priority order: later ids wait less, so the queue reads as a plausible ranking
        minutes = 5 + (cid * 7919) % (60 * 24 * 30) if cid % 97 else 60 * 24 * 400 + cid
        marker = "!" if cid % 23 == 0 else "+" if cid % 11 == 0 else " "
        score = round(max(0.0, 6.0 - cid / max(self.n, 1) * 6.0), 2)
        reasons = ("waiting %dh" % (minutes // 60),) if minutes >= 60 else ("new",)
        return QueueRow(
            id=cid,
            customer=customer,
            customer_addr=f"customer{cid}@example.com",
            subject=f"Re: {subject}" if cid % 5 == 0 else subject,
            status=rnd.choice(STATUSES),
            tags=tags,
            message_count=1 + cid % 4,
            last_date=ago(minutes=minutes),
            score=score,
            marker=marker,
            reasons=reasons,
        )

    def _generated_conversation(self, cid: int) -> ConversationView:
        row = self._row(cid)
        customer = f"{row.customer} <{row.customer_addr}>"
        messages = []
        for k in range(row.message_count):
            agent = k % 2 == 1
            when = row.last_date - dt.timedelta(hours=3 * (row.message_count - 1 - k))
            messages.append(
                _msg(
                    cid * 10 + k,
                    AGENT if agent else customer,
                    when,
                    _text(
                        f"Message {k + 1} of conversation {cid}.\n"
                        + ("We are looking into it." if agent else f"About: {row.subject}")
                    ),
                    *([_quote(f"> earlier message {k}\n> quoted line")] if k else []),
                    to=customer if agent else SUPPORT,
                    cc=SUPPORT if agent else "",
                    agent=agent,
                )
            )
        return ConversationView(
            id=cid,
            subject=row.subject,
            customer=row.customer,
            status=row.status,
            tags=row.tags,
            messages=tuple(messages),
            reasons=row.reasons,
        )


async def settle(pilot) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Let the app finish what it started: workers (which may start more), repaints, timers."""
    app = pilot.app
    for _ in range(20):
        await pilot.pause()
        busy = [w for w in app.workers if not w.is_finished]
        if not busy:
            break
        await app.workers.wait_for_complete()
    await pilot.pause()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="conversations in the queue")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each desk call takes")
    parser.add_argument("--live-clock", action="store_true", help="use the real clock, not FIXED_NOW")
    parser.add_argument("--theme", default=None, help="start with this theme (not remembered)")
    args = parser.parse_args()

    from tui_desk.ui.app import DeskApp

    app = DeskApp(
        FakeDesk(args.n, latency=args.latency),
        clock=None if args.live_clock else (lambda: FIXED_NOW),
        theme=args.theme,
    )
    app.run()


if __name__ == "__main__":
    main()

