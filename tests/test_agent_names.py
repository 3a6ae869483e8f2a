"""One agent, one name (desk.agent_names): the spelling shown for names equal but for case."""

from __future__ import annotations

from tui_desk.desk.agent_names import AgentNames, agent_order


def test_the_configs_spelling_wins_then_one_with_capitals_then_the_name_as_seen():
    spelling = AgentNames(("Chen Wei",), ["chen wei", "bob okafor", "Bob Okafor", "dora", None])
    assert [spelling(n) for n in ("CHEN WEI", "chen wei", "bob okafor", "BOB OKAFOR", "dora", "Dora", None)] == [
        "Chen Wei", "Chen Wei", "Bob Okafor", "Bob Okafor", "dora", "dora", None]
    assert spelling("someone else") == "someone else"


def test_a_keywords_name_is_resolved_only_when_written_lower_case():
    """An older client wrote every name lower case; a name with capitals was written as it is."""
    spelling = AgentNames(("Chen Wei",))
    assert (spelling.legacy("chen wei"), spelling.legacy("CHEN Wei"), spelling.legacy(None)) == (
        "Chen Wei", "CHEN Wei", None)


def test_agents_sort_as_read_case_aside_and_nobody_last():
    assert sorted(["bob", None, "Chen Wei", "alice"], key=agent_order) == ["alice", "bob", "Chen Wei", None]
