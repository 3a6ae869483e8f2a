"""What each figure of the reports means, in words for people: the one text the Reports
screen's `?` shows ("What the figures mean") and README's Reports definitions copy word for word
(tests/test_report_definitions.py holds them to it). The precise rules are in the metrics'
docstrings (desk.metrics, aggregate, timeline); these say the same briefly."""

from __future__ import annotations

FIGURES: tuple[tuple[str, str], ...] = (
    ("First response", "time from a conversation's first customer message to the first agent reply "
                       "(median and p90). Notes, auto-replies and forwards answer nobody."),
    ("Next response", "a customer message after the last agent reply starts a wait (several in a row "
                      "are one wait, from the first); the next agent reply ends it. One value per later wait."),
    ("Resolution (net)", "from the first customer message to the close that left the conversation "
                         "closed, minus the time it was snoozed or pending. Resolution is the same "
                         "without that."),
    ("FCR", "first contact resolution: of the conversations closed in the period that an agent "
            "answered, the share closed after exactly one agent reply and not reopened within 7 days."),
    ("Replies to resolve", "agent replies up to the close, per conversation closed in the period that "
                           "an agent answered (as Zendesk's replies per solved ticket); closes with no "
                           "reply are counted apart."),
    ("Reopened", "conversations set back from closed to open or pending in the period, by an agent or "
                 "by the customer's mail. A mail that only thanks (\"thanks, it worked\") reopens "
                 "nothing, and an undo is no reopen."),
    ("Conversations", "conversations whose first customer message is in the period."),
    ("Unanswered", "of those, the ones still open that no agent has answered: customers waiting for a "
                   "first reply (as Help Scout and Zendesk count them)."),
    ("Closed, no reply", "conversations closed in the period with no agent reply before the close (a "
                         "duplicate, a \"never mind\"): in neither FCR nor replies to resolve."),
    ("Mail only", "conversations with no History event (mail from before History, or imported): "
                  "their first response is known; their closes, FCR and reopens are not."),
    ("CSAT", "answers to the satisfaction survey in the period: how many, the share rated great, and "
             "the mean (great 3, okay 2, bad 1)."),
)
