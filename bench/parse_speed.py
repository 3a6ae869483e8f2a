#!/usr/bin/env python3
"""Speed of the MIME parser (tui_desk/mail/parse/) on generated support mail, one core.

    .venv/bin/python bench/parse_speed.py [-n 10000] [--seed 7] [--baseline OLD | --baseline-rev REV]

Prints ms per message for full messages and for header-only blocks (each raw mail up to and
including its blank line: what sync fetches first). With --baseline (a copy of an older
parse.py, the single file it was until issue 14, or of an older mail/parse/ package folder;
--baseline-rev REV takes either from git itself), the old parser is timed on the same input too, and the two are compared record by record (dataclass
equality) on the generated mails, on their header blocks and on every file under
tests/corpus/; every difference is listed and the exit status is 1 when there is one.
Nothing is asserted about time: the figures are printed, never checked. Writes
bench/out/parse_speed-<N>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import importlib.util
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tui_desk.demo.mailbox import Generator
from tui_desk.mail import parse as current

CORPUS = ROOT / "tests" / "corpus"
OUT = ROOT / "bench" / "out"


BASELINE = "tui_desk.mail._parse_baseline"


def load_baseline(path: Path) -> ModuleType:
    """An older parser: one parse.py file, or a mail/parse/ package folder (its files import
    each other as tui_desk.mail.parse.*: a copy importing them under BASELINE is loaded)."""
    search = None
    if path.is_dir():
        copy = Path(tempfile.mkdtemp(prefix="parse_baseline_"))
        for source in path.glob("*.py"):
            text = source.read_text(encoding="utf-8").replace("tui_desk.mail.parse.", BASELINE + ".")
            (copy / source.name).write_text(text, encoding="utf-8")
        path, search = copy / "__init__.py", [str(copy)]
    spec = importlib.util.spec_from_file_location(BASELINE, path, submodule_search_locations=search)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def baseline_from_git(rev: str) -> Path:
    """REV's parser in a temporary place: its parse.py, else its mail/parse/ folder."""
    shown = subprocess.run(["git", "show", f"{rev}:tui_desk/mail/parse.py"], cwd=ROOT, capture_output=True)
    if shown.returncode == 0:
        handle = tempfile.NamedTemporaryFile("wb", suffix="_parse.py", delete=False)
        with handle:
            handle.write(shown.stdout)
        return Path(handle.name)
    folder = Path(tempfile.mkdtemp(prefix="parse_rev_"))
    archive = subprocess.run(["git", "archive", rev, "tui_desk/mail/parse"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "tui_desk" / "mail" / "parse"


def header_block(raw: bytes) -> bytes:
    """The raw header up to and including the blank line (CRLF or LF)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return raw[: at + len(sep)]
    return raw


def clear_caches(module: ModuleType) -> None:
    """Each timing starts cold: no parsed header left over from an earlier run (in any file
    of a parser package)."""
    prefix = module.__name__ + "."
    modules = [module] + [m for name, m in list(sys.modules.items()) if name.startswith(prefix)]
    for value in (v for m in modules for v in vars(m).values()):
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
        elif isinstance(value, dict) and type(value) is dict and value and all(
            isinstance(k, tuple) for k in value
        ):
            value.clear()  # a memo keyed by tuples (tables keyed by str are left alone)


def ms_per_message(module: ModuleType, raws: list[bytes], repeat: int) -> float:
    parse: Callable[[bytes], object] = module.parse_message
    best = float("inf")
    for _ in range(repeat):
        clear_caches(module)
        gc.collect()
        start = time.perf_counter()
        for raw in raws:
            parse(raw)
        best = min(best, time.perf_counter() - start)
    return best / len(raws) * 1000


def differences(old: object, new: object) -> list[str]:
    out = []
    for f in dataclasses.fields(old):  # type: ignore[arg-type]  # the old module's result is a dataclass too
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            out.append(f"{f.name}: {a!r:.300} -> {b!r:.300}")
    return out


def compare(baseline: ModuleType, inputs: list[tuple[str, bytes]]) -> int:
    differing = 0
    for label, raw in inputs:
        old, new = baseline.parse_message(raw), current.parse_message(raw)
        if old != new:
            differing += 1
            if differing <= 20:
                print(f"  DIFFERENT {label}:")
                for line in differences(old, new):
                    print(f"    {line}")
    return differing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000, help="generated messages (default 10000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1, help="timing runs; the best is shown")
    ap.add_argument("--baseline", type=Path, help="an older parse.py or mail/parse/ folder to time and compare with")
    ap.add_argument("--baseline-rev", metavar="REV", help="the same, read from git at REV")
    ap.add_argument("--out", type=Path, default=OUT, help="where the JSON goes (default bench/out)")
    args = ap.parse_args()
    if args.baseline_rev:
        args.baseline = baseline_from_git(args.baseline_rev)
    baseline = load_baseline(args.baseline) if args.baseline else None
    if args.baseline_rev:  # loaded (a package folder was copied by load_baseline)
        if args.baseline.is_dir():
            shutil.rmtree(args.baseline.parents[2])
        else:
            args.baseline.unlink()

    end = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    full = [m.raw for m in Generator(args.n, args.seed, end, 60).generate()]
    heads = [header_block(raw) for raw in full]
    size = sum(map(len, full)) / len(full)
    print(f"{len(full)} generated messages, {size:,.0f} bytes on average; one core")

    result: dict[str, object] = {
        "bench": "parse_speed", "messages": len(full), "seed": args.seed, "mean_bytes": size,
        "python": platform.python_version(), "baseline": str(args.baseline_rev or args.baseline or ""),
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    rows = [("full message", "full", full), ("header block only", "header_block", heads)]
    print(f"{'':20} {'before ms/msg':>14} {'after ms/msg':>13} {'speed-up':>9}")
    for name, key, raws in rows:
        after = ms_per_message(current, raws, args.repeat)
        result[f"{key}_ms"] = after
        if baseline is None:
            print(f"{name:20} {'-':>14} {after:13.3f}")
            continue
        before = ms_per_message(baseline, raws, args.repeat)
        result[f"{key}_baseline_ms"] = before
        print(f"{name:20} {before:14.3f} {after:13.3f} {before / after:8.1f}x")
    if baseline is None:
        write(args.out, result)
        return 0

    corpus = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    checks = [
        ("generated", [(f"generated #{i}", raw) for i, raw in enumerate(full)]),
        ("header blocks", [(f"header block #{i}", raw) for i, raw in enumerate(heads)]),
        ("tests/corpus", [(str(p.relative_to(ROOT)), p.read_bytes()) for p in corpus]),
    ]
    total = 0
    for name, inputs in checks:
        differing = compare(baseline, inputs)
        total += differing
        print(f"same records as the baseline, {name}: {len(inputs) - differing}/{len(inputs)}")
    result["differing_records"] = total
    write(args.out, result)
    return 1 if total else 0


def write(out: Path, result: dict[str, object]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"parse_speed-{result['messages']}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    sys.exit(main())
