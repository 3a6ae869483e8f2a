"""What one sync pass did, for the command line's summary and the live loop's errors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncStats:
    new: int = 0
    changed: int = 0
    expunged: int = 0
    bodies: int = 0
    errors: int = 0
    pushed: int = 0
    error_lines: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"synced: {self.new} new, {self.changed} changed, {self.expunged} expunged, "
                f"{self.bodies} {'body' if self.bodies == 1 else 'bodies'}, "
                f"{self.pushed} change{'' if self.pushed == 1 else 's'} pushed, "
                f"{self.errors} error{'' if self.errors == 1 else 's'}")
