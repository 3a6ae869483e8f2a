"""Tags as the desk keeps them: one word, lowercase, at most 64 characters. The one parser of
"+bug -question billing" (the tag prompt's preview and what it applies) and the one spelling of
a change ("+bug -question"), so what a preview shows is what the desk does."""

from __future__ import annotations

from collections.abc import Iterable

MAX_LENGTH = 64


def tag_name(word: str) -> str:
    """A tag as stored: "Größe " -> "größe"."""
    return word.strip().lower()


def tag_names(words: Iterable[str]) -> list[str]:
    """Each tag once, as stored, in the order given; blanks dropped."""
    return list(dict.fromkeys(t for t in map(tag_name, words) if t))


def tag_problem(tags: Iterable[str]) -> str | None:
    """Why one of ``tags`` cannot be a tag, else None."""
    for t in tags:
        if any(c.isspace() for c in t) or len(t) > MAX_LENGTH:
            return f"a tag is one word of at most {MAX_LENGTH} characters, not {t!r}"
    return None


def parse_tag_words(text: str) -> tuple[list[str], list[str]]:
    """"+Bug -question billing" -> (["bug", "billing"], ["question"]): a bare word adds; every
    word is one tag, as stored."""
    add: list[str] = []
    remove: list[str] = []
    for word in text.split():
        if word.startswith("-"):
            remove.append(word[1:])
        else:
            add.append(word.removeprefix("+"))
    return tag_names(add), tag_names(remove)


def change_words(add: Iterable[str], remove: Iterable[str]) -> str:
    """"+bug +billing -question": how a change is said, in its preview and in its result."""
    return " ".join([*(f"+{t}" for t in add), *(f"-{t}" for t in remove)])
