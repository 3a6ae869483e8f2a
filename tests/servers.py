"""Real mail servers for the test suite, started on 127.0.0.1 in a temp dir.

`DovecotServer`: a private Dovecot (IMAP with STARTTLS, IMAPS, LMTP) with its own config,
passwd-file users and self-signed certificate (SAN localhost + 127.0.0.1). `SmtpSink`: an aiosmtpd
server that keeps what it receives in memory. Ported from the measurement lab's tested recipe; the
suite never reads the lab at run time.

Runs as root (login processes as dovenull, internal ones as dovecot, mail files as nobody with
first_valid_uid = 1; the data dir and all its parents must be traversable by nobody) and as an
ordinary user (everything runs as that user).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import itertools
import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

DOMAIN = "helpdesk.test"
PASSWORD = "secret"
AGENTS = ("agent1", "agent2", "agent3")
HOST = "127.0.0.1"
SPARE_USERS = 100  # fresh users made at start, one per test that asks
_failing_sources = itertools.count(2)


def failing_login_source() -> str:
    """A loopback source address no login has failed from yet (see DovecotServer)."""
    n = next(_failing_sources)
    return f"127.0.{n // 250 + 1}.{n % 250 + 1}"
_SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")  # dovecot is not in a normal user's PATH


def find_binary(name: str) -> str:
    """Absolute path of a server binary; a loud error (never a skip) when it is missing."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))
    if path is None:
        raise RuntimeError(
            f"{name} not found (PATH and {', '.join(_SBIN)}): install the Debian packages "
            "dovecot-imapd dovecot-lmtpd openssl (`make test` does it with apt-get)"
        )
    return path


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # self-signed, so it is also the CA file clients pass as ca_file
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def make_test_cert(directory: Path, common_name: str = "localhost") -> TlsFiles:
    """Self-signed certificate for localhost and 127.0.0.1 (openssl CLI)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        [find_binary("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
         "-subj", f"/CN={common_name}", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(files.key), "-out", str(files.cert)],
        check=True, capture_output=True, timeout=60,
    )
    files.key.chmod(0o600)
    files.cert.chmod(0o644)
    return files


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    """True when uid:gid can search every directory from / down to path."""
    for part in [path, *path.parents]:
        st = part.stat()
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def make_server_dir(preferred_parent: Path) -> Path:
    """A fresh 0755 dir for a server's state. As root the mail uid (nobody) must reach it, and
    pytest's basetemp sits under a 0700 dir, so fall back to the system temp dir."""
    parent = preferred_parent
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        if not _traversable_by(parent, nobody.pw_uid, nobody.pw_gid):
            parent = Path(tempfile.gettempdir())
    reap_orphans(parent)
    path = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX, dir=parent))
    path.chmod(0o755)
    return path


_DIR_PREFIX = "tui-desk-dovecot-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans(parent: Path) -> None:
    """End the Dovecots of test sessions that were killed before their teardown (a CI timeout,
    kill -9): their owner process is gone but the server still holds ports and memory."""
    for root in parent.glob(_DIR_PREFIX + "*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not started yet, or not ours
        if _pid_alive(owner):
            continue
        try:
            master = int((root / "base" / "master.pid").read_text())
            if f"{root}/dovecot.conf".encode() in Path(f"/proc/{master}/cmdline").read_bytes():
                _signal_group(master, signal.SIGKILL)  # the master leads its own group
        except (OSError, ValueError):
            pass
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class MaildirMessage:
    """One message for `DovecotServer.load_maildir`: raw bytes, Maildir flag letters (D F P R S
    T: draft, flagged, passed, replied, seen, trashed) and the date (INTERNALDATE, UID order)."""

    raw: bytes
    flags: str = ""
    date: dt.datetime | float | None = None


_CONF = """\
# Generated by tests/servers.py for one test session.
instance_name = tui-desk-test-{ident}
base_dir = {base}
state_dir = {state}
protocols = imap lmtp
listen = {host}
hostname = test.{domain}
postmaster_address = postmaster@{domain}
log_path = {log}
info_log_path = {log}
debug_log_path = {log}

default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
first_valid_gid = 1

ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
{dh_line}

# Loopback test server: plaintext LOGIN allowed (tests exercise STARTTLS and IMAPS explicitly).
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
auth_failure_delay = 0
auth_username_format = %Ln
{oauth2_passdb}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {users}
}}
userdb {{
  driver = passwd-file
  args = {users}
}}

mail_location = maildir:{mail}/%n
mail_fsync = never
mail_plugins =
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
}}

protocol imap {{
  mail_max_userip_connections = 200
  imap_idle_notify_interval = 2 mins
}}
protocol lmtp {{
  mail_plugins =
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {host}
    port = {lmtp_port}
  }}
}}
service pop3-login {{
  chroot =
}}
service submission-login {{
  chroot =
}}
service imap-urlauth-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
service ipc {{
  chroot =
}}
service old-stats {{
  chroot =
}}
"""


class DovecotServer:
    """A private Dovecot under `root`; `start()` picks free ports, `stop()` ends it.

    Dovecot delays the next login from an IP after a failed one (auth penalty, up to 15 s):
    a login meant to fail should come from its own address (`failing_login_source()`, any of
    127.0.0.0/8 reaches 127.0.0.1) so that all other logins stay fast."""

    host = HOST

    def __init__(self, root: Path, *, tls: TlsFiles | None = None,
                 users: Iterable[str] = AGENTS, password: str = PASSWORD,
                 oauth2_url: str | None = None) -> None:
        """oauth2_url: also offer XOAUTH2 and OAUTHBEARER, each token checked by Dovecot's oauth2
        passdb at `{oauth2_url}/introspect` (tests/oauth2_server.py); passwords keep working."""
        self.root = root
        self.oauth2_url = oauth2_url
        self.conf = root / "dovecot.conf"
        self.users_file = root / "users"
        self.log_file = root / "dovecot.log"
        self.mail_root = root / "mail"
        self.password = password
        self._tls = tls
        self._users: dict[str, str] = {u: password for u in users}
        self._spare: list[str] = []  # users written before Dovecot looked at the file
        self._process: subprocess.Popen[bytes] | None = None
        self._user_seq = itertools.count(1)
        self._lock = threading.Lock()
        self.imap_port = self.imaps_port = self.lmtp_port = 0
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            self._login_user, self._internal_user, self._internal_group = (
                "dovenull", "dovecot", "dovecot")
        else:
            self.mail_uid, self.mail_gid = os.getuid(), os.getgid()
            me = pwd.getpwuid(os.getuid()).pw_name
            self._login_user = self._internal_user = me
            self._internal_group = grp.getgrgid(os.getgid()).gr_name

    # -- facts for clients ------------------------------------------------------------------
    @property
    def ca_file(self) -> Path:
        assert self._tls is not None, "start() first"
        return self._tls.cert

    @property
    def tls(self) -> TlsFiles:
        assert self._tls is not None, "start() first"
        return self._tls

    @property
    def users(self) -> list[str]:
        return list(self._users)

    def password_of(self, user: str) -> str:
        return self._users[user]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        return (f"<DovecotServer {self.host} imap={self.imap_port} imaps={self.imaps_port} "
                f"lmtp={self.lmtp_port} running={self.running}>")

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start (first time: on free ports; later: on the same ports, for restart tests)."""
        if self.running:
            return
        dovecot = find_binary("dovecot")
        find_binary("doveadm")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if self._tls is None:
            self._tls = make_test_cert(self.root / "tls")
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            if not _traversable_by(self.root, nobody.pw_uid, nobody.pw_gid):
                raise RuntimeError(f"{self.root}: not traversable by nobody (the mail uid); "
                                   "use a dir under /tmp (see make_server_dir)")
        self.mail_root.mkdir(exist_ok=True)
        os.chown(self.mail_root, self.mail_uid, self.mail_gid)
        if not self._spare and not self.running:
            self._spare = [self._next_name() for _ in range(SPARE_USERS)]
            self._users.update(dict.fromkeys(self._spare, self.password))
        self._write_users()
        first = self.imap_port == 0
        for attempt in range(3):
            if first:
                self.imap_port, self.imaps_port, self.lmtp_port = (
                    free_port(), free_port(), free_port())
            try:
                self._spawn(dovecot)
                return
            except RuntimeError:
                # A port picked as free can be taken by someone else before Dovecot binds it.
                if not first or attempt == 2 or "in use" not in self.log_tail():
                    raise

    def _spawn(self, dovecot: str) -> None:
        base, state = self.root / "base", self.root / "state"
        # Stale sockets and master.pid from a killed run stop the next start: start empty.
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        base.mkdir()
        state.mkdir()
        base.chmod(0o755)
        assert self._tls is not None
        dh = Path("/usr/share/dovecot/dh.pem")
        oauth2_mechanisms = oauth2_passdb = ""
        if self.oauth2_url:
            # The lab's tested recipe (lab/dovecot/start.sh, LAB_OAUTH2_PORT).
            ext = self.root / "oauth2.conf.ext"
            ext.write_text(f"introspection_mode = post\nintrospection_url = {self.oauth2_url}/introspect\n"
                           "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
            ext.chmod(0o644)
            oauth2_mechanisms = " xoauth2 oauthbearer"
            oauth2_passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {ext}\n}}"
        self.conf.write_text(_CONF.format(
            oauth2_mechanisms=oauth2_mechanisms, oauth2_passdb=oauth2_passdb,
            ident=self.root.name, base=base, state=state, host=self.host, domain=DOMAIN,
            log=self.log_file, login_user=self._login_user, internal_user=self._internal_user,
            internal_group=self._internal_group, cert=self._tls.cert, key=self._tls.key,
            dh_line=f"ssl_dh = <{dh}" if os.access(dh, os.R_OK) else "",
            users=self.users_file, mail=self.mail_root, imap_port=self.imap_port,
            imaps_port=self.imaps_port, lmtp_port=self.lmtp_port,
        ))
        self.conf.chmod(0o644)
        self.log_file.write_bytes(b"")
        (self.root / "owner.pid").write_text(str(os.getpid()))  # for reap_orphans
        # -F keeps the master as our child: no daemon to find, no zombie to guess about.
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"dovecot exited at start; log:\n{self.log_tail()}")
            if self._greets() and self._accepts(self.imaps_port) and self._accepts(self.lmtp_port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on {self.host}:{self.imap_port} within 15 s; "
                           f"log:\n{self.log_tail()}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.imap_port), timeout=1) as sock:
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def _accepts(self, port: int) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """TERM the master and its children (one process group), KILL what is left after 3 s.
        Mail stays on disk."""
        process, self._process = self._process, None
        if process is None:
            return
        group = process.pid  # start_new_session: the master leads its own group
        _signal_group(group, signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:  # a test server: no mail to lose by hurrying
            process.kill()
            process.wait(timeout=10)
        # Children that outlive the master (e.g. a frozen imap process) would hold ports and
        # connections open: end them too.
        deadline = time.monotonic() + 5
        while _group_alive(group) and time.monotonic() < deadline:
            _signal_group(group, signal.SIGKILL)
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- users ---------------------------------------------------------------------------------------
    def _write_users(self) -> None:
        # user:password:uid:gid:gecos:home:shell:extra — rewritten atomically; Dovecot re-reads
        # the passwd-file when it changes, so users can be added while it runs.
        lines = [f"{u}:{{PLAIN}}{p}:{self.mail_uid}:{self.mail_gid}::{self.mail_root / u}::\n"
                 for u, p in self._users.items()]
        tmp = self.users_file.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        tmp.chmod(0o644)
        os.replace(tmp, self.users_file)

    def add_user(self, name: str, password: str | None = None) -> str:
        """Add a user while Dovecot runs. Its passwd-file driver looks at a changed file at most
        once a second, so this waits for the next second."""
        password = self.password if password is None else password
        if any(c in name + password for c in ":\n"):
            raise ValueError("user names and passwords must not contain ':' or newlines")
        with self._lock:
            self._users[name] = password
            self._write_users()
        if self.running:
            # Wait for the next second rather than probing: a failed probe costs an auth
            # penalty (Dovecot delays the next login from that IP by seconds).
            time.sleep(1.02 - time.time() % 1)
        return name

    def _next_name(self) -> str:
        return f"t{os.getpid()}x{next(self._user_seq):04d}"

    def new_user(self, password: str | None = None) -> str:
        """A user nobody has used yet (an empty mailbox for one test); password "secret" unless
        given. Taken from users written at start, so usually no waiting."""
        with self._lock:
            if password is None and self._spare:
                return self._spare.pop(0)
        return self.add_user(self._next_name(), password)

    def maildir(self, user: str) -> Path:
        return self.mail_root / user

    # -- admin -------------------------------------------------------------------------------------------
    @overload
    def doveadm(self, *args: str, check: bool = True, timeout: float = 60,
                raw: Literal[False] = False) -> str: ...
    @overload
    def doveadm(self, *args: str, check: bool = True, timeout: float = 60,
                raw: Literal[True]) -> subprocess.CompletedProcess[str]: ...

    def doveadm(self, *args: str, check: bool = True, timeout: float = 60,
                raw: bool = False) -> str | subprocess.CompletedProcess[str]:
        """Run doveadm against this instance; its stdout (or the CompletedProcess if raw)."""
        result = subprocess.run([find_binary("doveadm"), "-c", str(self.conf), *args],
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args[:2])} failed ({result.returncode}): "
                               f"{result.stderr.strip() or result.stdout.strip()}")
        return result if raw else result.stdout

    def imap_pids(self, user: str) -> list[int]:
        """PIDs of the imap processes serving `user` (for kill/stop tests)."""
        out = self.doveadm("who", "-1", user, check=False)
        pids = []
        for line in out.splitlines()[1:]:  # header: username proto pid ip
            parts = line.split()
            if len(parts) >= 3 and parts[1] == "imap" and parts[2].isdigit():
                pids.append(int(parts[2]))
        return pids

    def kick(self, user: str) -> None:
        self.doveadm("kick", user)

    # -- mail in ------------------------------------------------------------------------------------------
    def deliver(self, user: str, raw: bytes, sender: str = f"customer@example.{DOMAIN}") -> None:
        """Deliver one message through LMTP, as an MTA would (one recipient per transaction:
        LMTP answers DATA once per recipient and smtplib reads one reply)."""
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=30) as lmtp:
            lmtp.sendmail(sender, [f"{user}@{DOMAIN}"], raw)

    def load_maildir(self, user: str, messages: Iterable[MaildirMessage | bytes],
                     folder: str = "INBOX") -> int:
        """Write messages straight into the user's Maildir and let Dovecot index them
        (`doveadm force-resync`): thousands per second, unlike APPEND. UIDs follow
        (date, position). Returns the number written."""
        if folder != "INBOX" and (not folder.isascii() or any(c in folder for c in "./&")):
            raise ValueError("load_maildir supports INBOX and plain ASCII folder names")
        home = self.maildir(user)
        box = home if folder == "INBOX" else home / f".{folder}"
        for d in (home, box, box / "cur", box / "new", box / "tmp"):
            d.mkdir(mode=0o700, exist_ok=True)
            os.chown(d, self.mail_uid, self.mail_gid)
        if box is not home:
            marker = box / "maildirfolder"
            marker.touch()
            os.chown(marker, self.mail_uid, self.mail_gid)
        base = time.time()
        pid, count = os.getpid(), 0
        for i, item in enumerate(messages):
            msg = item if isinstance(item, MaildirMessage) else MaildirMessage(item)
            when = msg.date.timestamp() if isinstance(msg.date, dt.datetime) else msg.date
            when = base if when is None else when
            flags = "".join(sorted(set(msg.flags)))
            # Dovecot orders new files by the time and M<usec> parts of the name.
            name = f"{int(when)}.M{i:06d}P{pid}.tuidesk,S={len(msg.raw)}:2,{flags}"
            path = box / "cur" / name
            path.write_bytes(msg.raw)
            os.chown(path, self.mail_uid, self.mail_gid)
            os.utime(path, (when, when))
            count += 1
        self.doveadm("force-resync", "-u", user, folder)
        return count


@contextlib.contextmanager
def running_dovecot(parent: Path, tls: TlsFiles | None = None, **options: Any):
    """A private Dovecot in a new folder under `parent`, started; stopped and removed after."""
    root = make_server_dir(parent)
    server = DovecotServer(root, tls=tls, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    auth_user: str | None
    tls: bool


@dataclass
class _SinkHandler:
    messages: list[ReceivedMail] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    refuse: int = 0  # the next so many messages get a 451 (a server that cannot take mail yet)
    refused: int = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.arrived:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                self.arrived.notify_all()
                return "451 4.3.0 Try again later"
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), data,
                            session.auth_data if session.authenticated else None,
                            session.ssl is not None)
        with self.arrived:
            self.messages.append(mail)
            self.arrived.notify_all()
        return "250 OK"


class SmtpSink:
    """aiosmtpd on a free port of 127.0.0.1 (own thread); STARTTLS when given a certificate;
    AUTH PLAIN/LOGIN accepted for the known users; keeps every message in `messages`.
    `smtputf8=False`: a server that does not offer SMTPUTF8 (international addresses).
    `oauth2=True`: also AUTH XOAUTH2 / OAUTHBEARER with the tokens of tests/oauth2_server.py."""

    host = HOST

    def __init__(self, *, tls: TlsFiles | None = None, users: Iterable[str] = AGENTS,
                 password: str = PASSWORD, require_auth: bool = False, smtputf8: bool = True,
                 oauth2: bool = False) -> None:
        self.tls = tls
        self.smtputf8 = smtputf8
        self.oauth2 = oauth2
        self.oauth2_logins: list[tuple[str, str]] = []  # (mechanism, user) of accepted tokens
        self.users = {u.lower() for u in users}
        self.password = password
        self.require_auth = require_auth
        self.port = 0
        self._handler = _SinkHandler()
        self._controller: Any = None  # aiosmtpd.controller.Controller once started

    @property
    def messages(self) -> list[ReceivedMail]:
        return self._handler.messages

    def clear(self) -> None:
        with self._handler.arrived:
            self._handler.messages.clear()
            self._handler.refuse = self._handler.refused = 0

    def refuse_next(self, count: int) -> None:
        """The next `count` messages are refused with "451 4.3.0 Try again later", then mail is
        taken again (`refused` counts the refusals)."""
        with self._handler.arrived:
            self._handler.refuse = count

    @property
    def refused(self) -> int:
        return self._handler.refused

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived; returns them."""
        with self._handler.arrived:
            if not self._handler.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"SMTP sink got {len(self.messages)} of {count} messages")
            return list(self.messages)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = (login.split("@", 1)[0].lower() in self.users
              and auth_data.password.decode("utf-8", "replace") == self.password)
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    # OAuth2 as Gmail and Microsoft 365 offer it, the tokens of tests/oauth2_server.py
    # ("tok-<user>"); from the lab's smtp/sink.py. aiosmtpd calls auth_<MECHANISM> on the handler.
    async def _oauth2(self, server, args, mechanism: str):
        import base64

        from aiosmtpd.smtp import AuthResult

        if len(args) > 1 and args[1] != "=":  # args: [MECHANISM, initial response?]
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=False)
        text = blob.decode("utf-8", "replace")
        fields = dict(f.split("=", 1) for f in text.split("\x01") if "=" in f)
        if mechanism == "OAUTHBEARER":  # GS2 header "n,a=user," before the first ^A
            user = next((p[2:] for p in text.split("\x01", 1)[0].split(",") if p.startswith("a=")), "")
        else:
            user = fields.get("user", "")
        token = fields.get("auth", "").removeprefix("Bearer ").strip()
        ok = bool(user) and token == f"tok-{user.split('@', 1)[0]}"
        if ok:
            self.oauth2_logins.append((mechanism, user))
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        if self.oauth2:
            async def auth_XOAUTH2(server, args):
                return await self._oauth2(server, args, "XOAUTH2")

            async def auth_OAUTHBEARER(server, args):
                return await self._oauth2(server, args, "OAUTHBEARER")
            self._handler.auth_XOAUTH2 = auth_XOAUTH2
            self._handler.auth_OAUTHBEARER = auth_OAUTHBEARER
        self._controller = Controller(
            self._handler, hostname=self.host, port=self.port, server_hostname=f"sink.{DOMAIN}",
            tls_context=self.tls.server_context() if self.tls else None, require_starttls=False,
            authenticator=self._authenticate, auth_required=self.require_auth,
            auth_require_tls=False, decode_data=False, enable_SMTPUTF8=self.smtputf8,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __repr__(self) -> str:
        return f"<SmtpSink {self.host}:{self.port} messages={len(self.messages)}>"


def _signal_group(group: int, sig: int) -> bool:
    """Signal a process group; False when it has no processes left."""
    try:
        os.killpg(group, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # a zombie-only group on some kernels
        return False


def _group_alive(group: int) -> bool:
    """Whether a process group has a live (not zombie) member; zombies of orphans wait for
    whoever reaps them and hold nothing."""
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":  # fields: state ppid pgrp ...
            return True
    return False


def kill_process(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a server process (tests freeze or crash the imap process serving a connection)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
