"""The real `tui-desk` in tmux: a real pty and the real Textual driver, not Pilot.

`Terminal` starts one command in its own tmux server (a socket of its own, so tests never share
one), sends keys, reads the screen with `capture-pane` (plain or with escapes), and waits for
conditions with a deadline; it never sleeps for a fixed time. `agent_home` writes the config
files a person would write for an account on the suite's Dovecot and SMTP sink; `two_agents`
opens alice's and bob's apps on one mailbox of three customers' mails (`customer_mail`).
"""

from __future__ import annotations

import email.utils
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accounts import write_config
from servers import MaildirMessage

TUI_DESK = str(Path(sys.executable).with_name("tui-desk"))  # the installed entry point
POLL = 0.05  # seconds between two looks at the screen
_sockets = itertools.count(1)


def notice_words(screen: str) -> str:
    """The screen's words in one line, box borders left out: a notice wraps inside its box, and
    where it wraps moves with the names in it and the terminal's width."""
    return " ".join(re.sub(r"[│▌▐▎▊]", " ", screen).split())


class ScreenTimeout(AssertionError):
    """What the test waited for did not show up; the message carries the last screen."""


def tmux_binary() -> str:
    path = shutil.which("tmux")
    if path is None:
        raise RuntimeError("tmux not found: install the Debian package tmux (`make test` does it)")
    return path


class Terminal:
    """One program in a tmux pane of `width`×`height`. Use as a context manager."""

    def __init__(self, workdir: Path, *, width: int = 120, height: int = 40, name: str = "app") -> None:
        self.workdir = workdir
        self.width, self.height = width, height
        self.socket = f"tuidesk-e2e-{os.getpid()}-{next(_sockets)}"
        self.name = name
        self.log = workdir / f"{name}.pane.log"  # everything the program wrote, escapes and all
        self._started = False

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([tmux_binary(), "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, check=check, timeout=30)

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> "Terminal":
        """Run argv in the pane with env added to a clean environment (PATH, HOME, LANG and
        what is given); the pane stays after the program exits so its last words can be read."""
        script = self.workdir / f"{self.name}.sh"
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
                "LANG": "C.UTF-8", "TERM": "tmux-256color", "COLORTERM": "truecolor"}
        base.update(env or {})
        # env -i: the tmux server copies the environment of the process that started it (under
        # pytest that has COLUMNS/LINES, which Textual prefers to the pty's size)
        assignments = " ".join(shlex.quote(f"{k}={v}") for k, v in base.items())
        # the program waits for a line before it starts: the recording of its output (and
        # remain-on-exit) are set up first, so its very first bytes are recorded too
        script.write_text(f"#!/bin/sh\nread _go\nexec env -i {assignments} "
                          f"{' '.join(shlex.quote(a) for a in argv)}\n")
        script.chmod(0o755)
        self.log.touch()
        self.tmux("new-session", "-d", "-s", self.name, "-x", str(self.width), "-y", str(self.height),
                  "-e", "TERM=tmux-256color", f"sh {shlex.quote(str(script))}")
        self._started = True
        self.tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        self.tmux("pipe-pane", "-t", self.name, "-o", f"cat >> {shlex.quote(str(self.log))}")
        self.keys("Enter")  # go
        return self

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self._started:
            socket = self.tmux("display-message", "-p", "#{socket_path}", check=False).stdout.strip()
            self.tmux("kill-server", check=False)
            if socket:  # tmux leaves its socket file behind
                Path(socket).unlink(missing_ok=True)
            self._started = False

    # -- keys in -----------------------------------------------------------------------------
    def keys(self, *keys: str) -> None:
        """tmux key names: "j", "Enter", "Escape", "C-s", "Tab", "BTab", "F2"."""
        self.tmux("send-keys", "-t", self.name, *keys)

    def type(self, text: str) -> None:
        """Literal text, as typed."""
        self.tmux("send-keys", "-t", self.name, "-l", text)

    # -- screen out --------------------------------------------------------------------------
    def screen(self, escapes: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", self.name] + (["-e"] if escapes else [])
        return self.tmux(*args).stdout

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def exited(self) -> bool:
        out = self.tmux("display-message", "-p", "-t", self.name, "#{pane_dead}", check=False).stdout
        return out.strip() == "1"

    def wait_exited(self, timeout: float = 10.0) -> str:
        """The pane's last screen once the program has ended; ScreenTimeout after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the program still ran {timeout:g} s later; screen was:\n{self.screen()}")
            time.sleep(POLL)
        return self.screen()

    def wait_for(self, condition: str | Callable[[str], object], timeout: float = 10.0,
                 what: str | None = None) -> str:
        """The screen once `condition` holds (text on screen, or a predicate of the screen that
        returns something true); ScreenTimeout with the last screen after `timeout` seconds."""
        check = (lambda s: condition in s) if isinstance(condition, str) else condition
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if check(shown):
                return shown
            if time.monotonic() > deadline:
                label = what or (repr(condition) if isinstance(condition, str) else "condition")
                raise ScreenTimeout(f"{label} not on screen within {timeout:g} s; screen was:\n{shown}")
            time.sleep(POLL)

    def wait_gone(self, text: str, timeout: float = 10.0) -> str:
        return self.wait_for(lambda s: text not in s, timeout, what=f"{text!r} gone")

    def wait_search_left(self, text: str, timeout: float = 10.0) -> None:
        """After Enter in the search box: wait until the box no longer draws its cursor right
        after `text` (the focus is back on the queue, so keys typed now reach it)."""
        deadline = time.monotonic() + timeout
        while True:
            line = next((li for li in self.screen(escapes=True).splitlines() if text in li), "")
            if f"{text} " in line:
                return
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the search box kept the focus after {text!r} for {timeout:g} s")
            time.sleep(POLL)

    def wait_reading_keys(self, timeout: float = 10.0) -> None:
        """Until the program has put the terminal in raw mode: Textual asks for focus reports
        right after (ESC[?1004h), before it builds its first screen. Keys sent now reach the
        app before or with its first frame, as a user's typed at once after launch."""
        deadline = time.monotonic() + timeout
        while b"\x1b[?1004h" not in self.raw_output():
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the program did not take the keyboard within {timeout:g} s; "
                                    f"screen was:\n{self.screen()}")
            time.sleep(0.005)

    def raw_output(self) -> bytes:
        """All bytes the program wrote to the terminal so far (tmux pipe-pane)."""
        try:
            return self.log.read_bytes()
        except FileNotFoundError:
            return b""


@dataclass
class AgentHome:
    """One agent's machine: config file, store and XDG folders under `root`."""
    root: Path
    agent: str
    config: Path
    db: Path
    log: Path

    def env(self) -> dict[str, str]:
        return {"XDG_CONFIG_HOME": str(self.root / "config"), "XDG_DATA_HOME": str(self.root / "data"),
                "XDG_STATE_HOME": str(self.root / "state"), "XDG_CACHE_HOME": str(self.root / "cache"),
                "TUI_DESK_LOG": str(self.log)}

    def argv(self, *extra: str) -> list[str]:
        return [TUI_DESK, "--config", str(self.config), "--db", str(self.db), *extra]

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The same store from the command line (another process beside the app)."""
        env = {**os.environ, **self.env()}
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=env, check=check,
                              timeout=timeout)


def agent_home(root: Path, agent: str, dovecot, user: str, *, smtp_port: int | None = None,
               password: str | None = None, extra: str = "") -> AgentHome:
    """Config for `agent` on mailbox `user` of the suite's Dovecot (STARTTLS, the suite's CA),
    with the SMTP sink when smtp_port is given. password: what password_command prints (the
    user's real password unless given)."""
    root.mkdir(parents=True, exist_ok=True)
    secret = root / "password"
    secret.write_text((dovecot.password_of(user) if password is None else password) + "\n")
    secret.chmod(0o600)
    config = root / "config" / "tui-desk" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    write_config(config, dovecot, user, agent=agent, name="Support", settings=extra, smtp_port=smtp_port,
                 login=f'password_command = "cat {secret}"')
    return AgentHome(root, agent, config, root / "data" / "desk.sqlite3", root / f"{agent}.log")


#: three customers' first mails; dated 5, 3 and 1 hours ago by two_agents, so the queue's top
#: row (the longest wait) is SUBJECTS[0], conversation #1
SUBJECTS = ("Alpha invoice question", "Beta login trouble", "Gamma export broken")


def customer_mail(i: int, hours_ago: float, tag: str) -> MaildirMessage:
    """Customer i's first mail, SUBJECTS[i], written hours_ago; Message-ID <tag-i@customer.test>."""
    when = time.time() - hours_ago * 3600
    raw = (f"From: Customer {i} <c{i}@customer.test>\r\nTo: support@helpdesk.test\r\n"
           f"Subject: {SUBJECTS[i]}\r\nDate: {email.utils.formatdate(when)}\r\n"
           f"Message-ID: <{tag}-{i}@customer.test>\r\n\r\nPlease help with {SUBJECTS[i].lower()}.\r\n").encode()
    return MaildirMessage(raw, date=when)


def two_agents(dovecot, root: Path, terminals, tag: str) -> tuple[str, dict[str, AgentHome], Terminal, Terminal]:
    """(the mailbox, the homes, alice's terminal, bob's): one fresh mailbox holding the three
    customer_mail (tag: their Message-IDs), alice and bob (team = ["alice", "bob"]) each with a
    store of their own and the app open on it (`terminals`: e2e.conftest's fixture), both
    queues synced."""
    user = dovecot.new_user()
    dovecot.load_maildir(user, [customer_mail(i, 5 - 2 * i, tag) for i in range(len(SUBJECTS))])
    homes = {name: agent_home(root / name, name, dovecot, user, extra='team = ["alice", "bob"]')
             for name in ("alice", "bob")}
    alice, bob = (terminals.open_home(homes[name], name=name) for name in ("alice", "bob"))
    for term in (alice, bob):
        term.wait_for(lambda s: "support: idle" in s and SUBJECTS[0] in s, timeout=30, what="the synced queue")
    return user, homes, alice, bob
