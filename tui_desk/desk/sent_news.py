"""What the app says when the outbox sent mail: what each was, from its history event (an
agent's reply, a forward, a rule's automatic reply, an incident's mail, a satisfaction survey,
a bulk follow-up's reply), and a burst folded into one line ("5 follow-up replies sent")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tui_desk.sanitize import sanitize_line
from tui_desk.store.events import Event

# kind: (one sent, several sent)
_WORDS = {
    "reply": ("Reply sent", "replies sent"),
    "forward": ("Forward sent", "forwards sent"),
    "autoreply": ("Automatic reply sent", "automatic replies sent"),
    "incident": ("Incident mail sent", "incident mails sent"),
    "survey": ("Satisfaction survey sent", "satisfaction surveys sent"),
    "followup": ("Follow-up reply sent", "follow-up replies sent"),
}


def sent_kind(event: Event | None) -> str:
    """One of _WORDS' kinds; a mail with no event (an older client's) is a reply."""
    if event is None:
        return "reply"
    if event.kind == "autoreply":
        return "incident" if event.data.get("incident") else "autoreply"
    if event.kind == "reply" and event.data.get("followup"):
        return "followup"
    return event.kind if event.kind in _WORDS else "reply"


def sent_items(message_ids: Iterable[str], events: Mapping[str, Event | None],
               recipients: Mapping[str, Sequence[str]]) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, recipients) of each sent mail, as an OutboxReport (sync.delivery) tells them."""
    return [(sent_kind(events.get(m)), tuple(recipients.get(m, ()))) for m in message_ids]


def sent_line(items: Sequence[tuple[str, Sequence[str]]]) -> str:
    """One line for a burst of sent mail: one of a kind names its recipients ("Automatic reply
    sent to ann@x.test"), several are counted ("5 follow-up replies sent"); kinds in the order
    they came, joined by " · ". Addresses are sanitized (they come from mail)."""
    counts: dict[str, int] = {}
    to: dict[str, Sequence[str]] = {}
    for kind, recipients in items:
        counts[kind] = counts.get(kind, 0) + 1
        to.setdefault(kind, recipients)
    parts = []
    for kind, n in counts.items():
        one, many = _WORDS.get(kind, _WORDS["reply"])
        if n > 1:
            parts.append(f"{n} {many}")
        else:
            parts.append(one + (" to " + sanitize_line(", ".join(to[kind])) if to[kind] else ""))
    return " · ".join(parts)
