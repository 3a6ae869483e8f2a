"""Where generated demo mail goes: a Maildir, an mbox, an IMAP server (pipelined APPEND), and a
summary of what was generated."""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
from collections import Counter
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_desk.demo.message import Msg


def maildir_name(m: Msg, size: int, vsize: int) -> str:
    return f"{int(m.when)}.M{int((m.when % 1) * 1e6):06d}P{m.idx}.lab,S={size},W={vsize}:2,{m.flags}"


def write_maildir(msgs: list[Msg], root: str, uid: int | None, gid: int | None) -> None:
    """Files go to cur/ with their flags in the name and mtime = Date (Dovecot's INTERNALDATE).
    As root with --owner, writes under that effective uid/gid when it owns `root` (no chown per
    file: two syscalls less per message), else chowns each file."""
    as_owner = (uid is not None and os.geteuid() == 0 and os.path.isdir(root)
                and os.stat(root).st_uid == uid)
    if as_owner:
        os.setegid(gid)
        os.seteuid(uid)
    try:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        cur = os.path.join(root, "cur")
        for m in msgs:
            vsize = len(m.raw) + m.raw.count(b"\n")
            path = os.path.join(cur, maildir_name(m, len(m.raw), vsize))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, m.raw)
                os.utime(fd, (m.when, m.when))
            finally:
                os.close(fd)
            if uid is not None and not as_owner:
                os.chown(path, uid, gid)
    finally:
        if as_owner:
            os.seteuid(0)
            os.setegid(0)
    if uid is not None and not as_owner:
        for d in (root, *(os.path.join(root, s) for s in ("cur", "new", "tmp"))):
            os.chown(d, uid, gid)


def write_mbox(msgs: list[Msg], path: str) -> None:
    import re
    from_re = re.compile(rb"^(>*From )", re.M)
    with open(path, "wb") as f:
        for m in msgs:
            d = dt.datetime.fromtimestamp(m.when, dt.timezone.utc)
            sender = b"support@helpdesk.test"
            f.write(b"From " + sender + d.strftime(" %a %b %d %H:%M:%S %Y\n").encode())
            status = []
            if "S" in m.flags:
                status.append("Status: RO\n")
            xs = ("A" if "R" in m.flags else "") + ("F" if "F" in m.flags else "")
            head, sep, body = m.raw.partition(b"\n\n")
            extra = "".join(status) + (f"X-Status: {xs}\n" if xs else "")
            f.write(head + b"\n" + extra.encode() + sep[1:] + b"\n" + from_re.sub(rb">\1", body))
            if not m.raw.endswith(b"\n"):
                f.write(b"\n")
            f.write(b"\n")


def imap_append(msgs: list[Msg], host: str, port: int, user: str, password: str, mailbox: str,
                use_ssl: bool, window: int = 64) -> None:
    """Pipelined APPEND using LITERAL+ (no continuation round trip), `window` commands in flight."""
    sock = socket.create_connection((host, port))
    if use_ssl:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        sock = ctx.wrap_socket(sock)
    rf = sock.makefile("rb")
    rf.readline()

    def cmd(tag: str, line: bytes) -> None:
        sock.sendall(tag.encode() + b" " + line + b"\r\n")
        wait({tag})

    def wait(tags: set[str]) -> None:
        while tags:
            line = rf.readline()
            if not line:
                raise ConnectionError("server closed")
            t = line.split(b" ", 1)[0].decode()
            if t in tags:
                if not line.split(b" ", 2)[1] == b"OK":
                    raise RuntimeError(line.decode(errors="replace"))
                tags.discard(t)

    pw = password.replace("\\", "\\\\").replace('"', '\\"')
    cmd("L", f'LOGIN "{user}" "{pw}"'.encode())
    flag_map = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged"}
    pending: set[str] = set()
    for i, m in enumerate(msgs):
        data = m.raw.replace(b"\n", b"\r\n")
        flags = " ".join(flag_map[c] for c in m.flags)
        d = dt.datetime.fromtimestamp(m.when, dt.timezone.utc).strftime("%d-%b-%Y %H:%M:%S +0000")
        tag = f"A{i}"
        sock.sendall(f'{tag} APPEND "{mailbox}" ({flags}) "{d}" {{{len(data)}+}}\r\n'.encode()
                     + data + b"\r\n")
        pending.add(tag)
        if len(pending) >= window:
            wait(pending)
    wait(pending)
    sock.sendall(b"Z LOGOUT\r\n")
    sock.close()


def stats(msgs: list[Msg]) -> dict:
    c = Counter()
    for m in msgs:
        c["kind:" + m.kind] += 1
        head = m.raw.split(b"\n\n", 1)[0]
        if b"=?" in head:
            c["encoded-words"] += 1
        for cs in (b"koi8-r", b"gb2312", b"iso-2022-jp"):
            if cs in m.raw[:4000].lower():
                c["legacy:" + cs.decode()] += 1
        if b"multipart/alternative" in m.raw:
            c["multipart/alternative"] += 1
        if b"Content-Disposition: attachment" in m.raw:
            c["with attachment"] += 1
        if b"URGENT" in head.upper() or "СРОЧНО".encode() in head:
            c["urgent (raw header)"] += 1
    subj_urgent = sum(1 for m in msgs if "URGENT" in m.subject.upper() or "СРОЧНО" in m.subject.upper()
                      or "紧急" in m.subject or "至急" in m.subject)
    return {"messages": len(msgs), "threads": len({m.thread for m in msgs}),
            "bytes": sum(len(m.raw) for m in msgs), "urgent_subjects": subj_urgent,
            "first": format_datetime(dt.datetime.fromtimestamp(msgs[0].when, dt.timezone.utc)),
            "last": format_datetime(dt.datetime.fromtimestamp(msgs[-1].when, dt.timezone.utc)),
            **dict(sorted(c.items()))}
