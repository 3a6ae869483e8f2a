"""Two agents on one mailbox, each with the app open: alice's note @mentioning bob is a notice on
bob's screen with no key pressed there, and bob's Mentions view lists that conversation."""

from __future__ import annotations

from e2e.conftest import PROPAGATION
from e2e.harness import SUBJECTS, two_agents


def queue_part(screen: str) -> str:
    """The queue's pane: left of the conversation pane's border, above the status line."""
    return "\n".join(line.split("│ Conversation")[0][:60] for line in screen.split("╰")[0].splitlines())


def test_a_note_mentioning_bob_tells_bob_and_lists_in_his_mentions_view(dovecot, tmp_path, terminals):
    _, _, alice, bob = two_agents(dovecot, tmp_path, terminals, "mention")

    alice.keys("n")  # on the top row: the oldest mail waits longest
    alice.wait_for("Note on #1")
    alice.type("@bob can you check this refund?")
    alice.keys("C-s")
    alice.wait_for("note added to #1")
    seen = bob.wait_for("alice mentioned you on #1", timeout=PROPAGATION + 3)
    assert "can you check" in seen  # the note's first words, in the notice
    assert "mentioned you" not in alice.screen()  # my own note never tells me

    bob.keys("8")  # the last saved view: the eighth without [sla] targets
    # the title changes first, the list when the view's conversations are read: the one
    # conversation a note mentions bob in, and no other
    bob.wait_for(lambda s: "─ Mentions" in s and SUBJECTS[0] in queue_part(s)
                 and SUBJECTS[1] not in queue_part(s) and SUBJECTS[2] not in queue_part(s),
                 timeout=5, what="bob's Mentions view listing the one conversation")
    # not opened yet: its row starts with the mention's marker (two lines a row: the customer's)
    def first_line(screen: str) -> str:
        lines = queue_part(screen).splitlines()
        return next(lines[n - 1] if lines[n].startswith("│  ") else lines[n]
                    for n, line in enumerate(lines) if SUBJECTS[0] in line)

    assert first_line(bob.screen()).startswith("│@"), queue_part(bob.screen())
    bob.keys("Enter")  # opened: seen, the marker goes when the view is read again
    bob.wait_for(lambda s: "Please help with" in s, timeout=5, what="the conversation")
    bob.keys("8")
    bob.wait_for(lambda s: SUBJECTS[0] in queue_part(s) and not first_line(s).startswith("│@"),
                 timeout=5, what="the row without the mention's marker")
