"""The typed record every raw message becomes; the rest of the app only sees this."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_D = TypeVar("_D", bound="DataclassInstance")


# Agents' internal notes are mail too (desk.notes writes them): their Message-IDs are on this
# domain, and the team shares them in this folder.
NOTE_DOMAIN = "notes.tui-desk.invalid"
NOTES_FOLDER = "Notes"


def is_note_id(message_id: str) -> bool:
    return message_id.lower().endswith("@" + NOTE_DOMAIN)


def _pickled_as_tuple(cls: type[_D]) -> type[_D]:
    """Pickle instances as (class, field values): unpickling takes half the time of the
    default's, and the parse workers send the sync tens of thousands of these."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self: _D) -> tuple[type[_D], tuple[Any, ...]]:
        return cls, values(self)
    cls.__reduce__ = __reduce__  # type: ignore[assignment, method-assign]  # replacing it is this decorator's job
    return cls


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Address:
    name: str  # display name, decoded ("" when absent)
    addr: str  # addr-spec as written; compare with .key

    @property
    def key(self) -> str:
        return self.addr.lower()

    def display(self) -> str:
        return self.name or self.addr


@_pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str  # decoded; "" when the part has none
    content_type: str  # lower-case maintype/subtype
    size: int  # decoded payload size in bytes
    part_path: str  # MIME part path, "1", "2.1", ... (root = "")


@_pickled_as_tuple
@dataclass(slots=True)
class ParsedMessage:
    message_id: str  # without angle brackets; synthetic when the mail has none
    synthetic_id: bool
    in_reply_to: str | None  # first id of In-Reply-To, without angle brackets
    references: list[str]  # ids from References, oldest first, without angle brackets
    sender: Address | None  # From (first address)
    to: list[Address]
    cc: list[Address]
    reply_to: list[Address]
    date: dt.datetime | None  # timezone-aware; None when missing or unparseable
    subject: str  # decoded, unfolded
    text: str  # readable body: text/plain preferred, else HTML rendered to text
    text_from_html: bool
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # human-readable, one per problem
    auto_submitted: bool = False  # Auto-Submitted / bounces / vacation replies / our forwards: not a turn
    size: int = 0  # raw size in bytes


@_pickled_as_tuple
@dataclass(slots=True)
class ParsedBody:
    """What a full message adds to the record of its header block (`parse.parse_body`): the
    fields the header block cannot give. The other fields are those its header block had."""

    text: str
    text_from_html: bool
    attachments: list[Attachment]
    defects: list[str]  # all of the message's, as ParsedMessage.defects
    size: int
