"""Rebindable keys. Every binding of the key table (ui/registry.py) has an id; `[keys]` in
config.toml rebinds by id (`tag = "ctrl+t"`, several keys with commas). A wrong id, a key
Textual never delivers ("zz", "ctrl+", a name it does not know), or a key that two actions
would share, is reported in one line and that rebinding is left out: the defaults never
conflict, so what remains always works. Textual applies the result (App.set_keymap)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.keys import REPLACED_KEYS, Keys, key_to_character

try:  # Textual's own spelling of keys ("?" is "question_mark"), so conflicts are found
    from textual.keys import _character_to_key, _normalize_key_list as _normalize
except ImportError:  # pragma: no cover - a Textual without it: compare as written
    def _normalize(keys: str) -> str:
        return ",".join(k.strip() for k in keys.split(","))

    def _character_to_key(character: str) -> str:
        return character

# What Textual puts before a key name ("ctrl+shift+up"; alt, super... from terminals that say so)
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
# Keys without a character: Textual's names (its Keys enum, without the modifiers and its
# internal "<any>"-like ones)
_NAMED = frozenset(k.value.rpartition("+")[2] for k in Keys if not k.value.startswith("<"))
KEY_EXAMPLES = "c, ctrl+t, f5, question_mark"


def is_key(key: str) -> bool:
    """Whether Textual can deliver `key` (as normalized: "?" is "question_mark"): one key name,
    a character or the name Textual gives a character, after modifiers once each."""
    *modifiers, name = key.split("+")
    if any(m not in MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers) or not name:
        return False
    if len(name) == 1 or name in _NAMED:
        return True
    # a character's name counts as Textual spells it from the character ("question_mark",
    # "plus"), not any Unicode name of it ("latin_small_letter_c" never arrives)
    character = key_to_character(REPLACED_KEYS.get(name, name))
    return character is not None and _character_to_key(character) == name


def keys_of(keys: str) -> list[str]:
    return [k for k in _normalize(keys).split(",") if k]


def plan_keymap(bindings: Iterable[Binding], fixed: Iterable[Binding],
                wanted: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """(the keymap to apply: id -> keys, one line per problem). `bindings`: the rebindable ones
    (with ids); `fixed`: bindings that keep their keys (j/k in the queue, 1-9 views...)."""
    rebindable = {b.id: b for b in bindings if b.id}
    problems: list[str] = []
    keymap: dict[str, str] = {}
    for bid, keys in wanted:
        if bid not in rebindable:
            problems.append(f"[keys] {bid}: no such action (these can be rebound: {', '.join(rebindable)})")
        elif not keys_of(keys):
            problems.append(f"[keys] {bid}: no key given")
        elif bad := [k for k in (k.strip() for k in keys.split(",")) if not is_key(_normalize(k))]:
            problems.append(f"[keys] {bid}: {bad[0]!r} is not a key (one key name, with modifiers if any: "
                            f"{KEY_EXAMPLES}): {bid} keeps the default")
        else:
            keymap[bid] = _normalize(keys)
    fixed_keys = {k: f"the fixed key of {b.description or b.action}" for b in fixed for k in keys_of(b.key)}
    while True:
        owners: dict[str, list[str]] = {}
        for bid, binding in rebindable.items():
            for key in keys_of(keymap.get(bid, binding.key)):
                owners.setdefault(key, []).append(bid)
        clash = next(((key, ids) for key, ids in owners.items()
                      if (len(ids) > 1 or key in fixed_keys) and any(i in keymap for i in ids)), None)
        if clash is None:
            return keymap, problems
        key, ids = clash
        rebound = [i for i in ids if i in keymap]
        for bid in rebound:
            del keymap[bid]
        who = ids + ([fixed_keys[key]] if key in fixed_keys else [])
        problems.append(f"[keys] {key} would be both {' and '.join(who)}: "
                        f"{' and '.join(rebound)} keep{'s' if len(rebound) == 1 else ''} the default")
