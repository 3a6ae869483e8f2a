"""One agent, one name (desk.agent_names): the spelling shown for names equal but for case."""

from __future__ import annotations

from tui_desk.desk.agent_names import AgentNames, agent_order, not_an_agent, resolve


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


def test_a_name_resolves_to_the_agent_it_equals_else_the_only_one_it_begins():
    """One rule for the app's assign prompt and the CLI's assign (the tryout: "bob" asked about
    in the app, a ghost "bob" assigned by the CLI, though "Bob Okafor" was the only match)."""
    agents = ["Alice Martin", "Bob Okafor", "Bonnie Lee", "bo"]
    assert resolve("bob", agents) == "Bob Okafor"
    assert resolve("  BOB  okafor ", agents) == "Bob Okafor"
    assert resolve("alice", agents) == "Alice Martin"
    assert resolve("BO", agents) == "bo"  # equal case aside wins over beginning several
    assert resolve("bon", agents) == "Bonnie Lee"
    assert resolve("b", agents) is None  # several begin with it
    assert resolve("carol", agents) is None
    assert resolve("", agents) is None
    assert not_an_agent("b", agents) == "b could be Bob Okafor, Bonnie Lee, bo"
    assert not_an_agent("carol", agents) == "carol is not a known agent"
