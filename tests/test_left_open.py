"""A test that fails with a desk open ends cleanly: tests/conftest.py closes the stores a test
left open as it ends, whose aiosqlite worker thread (no daemon) would otherwise keep pytest from
exiting (seen as a batch that never ended, py-spy showing aiosqlite's threads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("left_open_child.py")
# a hang, not a speed: pytest on one small test takes a second or two; the hang was forever
DEADLINE = 120


def test_pytest_exits_after_a_test_failed_with_a_desk_open():
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CHILD)],
                              cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE)
    except subprocess.TimeoutExpired as e:
        said = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        raise AssertionError(f"pytest did not exit within {DEADLINE}s after the failing test:\n{said}") from None
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # 1: tests failed (not a collection or usage error)
    assert "fails on purpose, the desk still open" in out, out
    assert "1 failed, 1 passed" in out, out  # and the next test found the store closed
