"""Received attachments: their content from the parser, safe names, saving, opening."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import os
import quopri
import stat
import time
from pathlib import Path

import pytest

from tests.mail_corpus import CORPUS, MESSAGE_FILES
from tests.mailfactory import mail
from tui_desk.demo.mailbox import Generator
from tui_desk.desk import attachments
from tui_desk.desk.attachments import (
    MAX_NAME_BYTES,
    AttachmentError,
    default_save_dir,
    filename_for,
    open_attachment,
    open_file,
    opener,
    private_dir,
    safe_filename,
    save,
)
from tui_desk.mail.model import Attachment
from tui_desk.mail.parse import attachment_payloads, parse_message
from tui_desk.sanitize import sanitize_line

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def payloads(raw: bytes) -> list[tuple[Attachment, bytes]]:
    """attachment_payloads(raw), checked against parse_message: same list, same order, and
    each content as long as the size the parser lists (it computes size from the decoded
    payload: the base64 length arithmetic when clean, else len(decoded); for message/* parts
    the length of their serialized parts, which is what attachment_payloads returns)."""
    found = attachment_payloads(raw)
    assert [att for att, _ in found] == parse_message(raw).attachments
    for att, data in found:
        assert isinstance(data, bytes)
        assert len(data) == att.size, att
    return found


# --- payloads match the parser's list ------------------------------------------------------


ALL_CORPUS = sorted(p for p in CORPUS.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", ALL_CORPUS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_payloads_match_the_parsed_list(path: Path) -> None:
    payloads(path.read_bytes())


def test_corpus_has_attachments_to_compare() -> None:
    assert set(MESSAGE_FILES) <= set(ALL_CORPUS)
    total = sum(len(attachment_payloads(p.read_bytes())) for p in MESSAGE_FILES)
    assert total > 50


def test_generated_mail_payloads_match() -> None:
    end = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    for m in Generator(300, 11, end, 60).generate():
        payloads(m.raw)


def test_known_corpus_attachments_decode() -> None:
    # mail-parser mail_test_3 has a quoted-printable text attachment (see test_parse)
    found = payloads((CORPUS / "mail-parser/mail_test_3").read_bytes())
    assert found and all(data for _, data in found)
    (enclosed,) = [d for a, d in payloads((CORPUS / "flanker/enclosed.eml").read_bytes())
                   if a.content_type == "message/rfc822"]
    assert parse_message(enclosed).subject  # an attached message that reads as one


def test_payloads_of_a_mixed_message() -> None:
    text = "Grüße = Größe\nline two with a long tail " + "x" * 100 + "\n"
    raw = mail(
        'Content-Type: multipart/mixed; boundary="outer"',
        "--outer\nContent-Type: text/plain\n\nsee attached\n"
        "--outer\nContent-Type: application/pdf\nContent-Disposition: attachment; "
        'filename="report.pdf"\nContent-Transfer-Encoding: base64\n\n'
        + base64.encodebytes(PDF).decode()
        + "--outer\nContent-Type: text/plain; charset=utf-8; name=notes.txt\n"
        "Content-Disposition: attachment; filename=notes.txt\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        + quopri.encodestring(text.encode("utf-8")).decode()
        + "\n--outer\nContent-Type: message/rfc822\nContent-Disposition: attachment; "
        "filename=fwd.eml\n\nSubject: inner\nFrom: x@example.com\nMessage-ID: <in@x>\n\n"
        "inner text\n"
        "--outer--\n",
    )
    pdf, notes, eml = payloads(raw)
    assert (pdf[0].filename, pdf[0].content_type, pdf[1]) == ("report.pdf", "application/pdf", PDF)
    assert notes[0].filename == "notes.txt"
    assert notes[1] == text.encode("utf-8")
    assert (eml[0].filename, eml[0].content_type) == ("fwd.eml", "message/rfc822")
    inner = parse_message(eml[1])
    assert (inner.subject, inner.text, inner.message_id) == ("inner", "inner text", "in@x")


def test_payloads_follow_recovered_and_epilogue_parts() -> None:
    # the stdlib strips the <> of this boundary and never splits: the parser re-splits it
    resplit = mail(
        'Content-Type: multipart/mixed; boundary="<<001-x>>"',
        "--<<001-x>>\nContent-Type: text/plain\n\nplain text\n"
        "--<<001-x>>\nContent-Type: application/pdf; name=a.pdf\n"
        "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(PDF).decode()
        + "--<<001-x>>--\n",
    )
    ((att, data),) = payloads(resplit)
    assert (att.filename, data) == ("a.pdf", PDF)
    assert any("re-split" in d for d in parse_message(resplit).defects)
    # a nested multipart reusing the outer boundary: the attachment is in the epilogue
    reused = mail(
        'Content-Type: multipart/mixed; boundary="B"',
        '--B\nContent-Type: multipart/alternative; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nhi\n--B\nContent-Type: text/html\n\n<p>hi</p>\n"
        "--B--\n\n"
        '--B\nContent-Type: application/pdf; name="invoice.pdf"\n'
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--B--\n",
    )
    ((att, data),) = payloads(reused)
    assert (att.filename, data) == ("invoice.pdf", b"%PDF-1.4\n")


def test_undecodable_parts_give_their_raw_payload() -> None:
    raw = mail(
        'Content-Type: multipart/mixed; boundary="b"',
        "--b\nContent-Type: application/octet-stream; name=x.bin\n"
        "Content-Transfer-Encoding: x-unknown\n\n\xff raw bytes\n"
        "--b\nContent-Type: application/octet-stream; name=y.bin\n"
        "Content-Transfer-Encoding: base64\n\n!!!not*base64###\n--b--\n",
    )
    (unknown, data), (broken, _) = payloads(raw)
    assert unknown.filename == "x.bin" and data == "\xff raw bytes".encode("utf-8")
    assert broken.filename == "y.bin"  # decoded as far as it goes; the size check holds


def test_payloads_never_raise() -> None:
    for raw in (b"", b"\x00\xff" * 10, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "str input é"):
        assert attachment_payloads(raw) == []  # type: ignore[arg-type]
    bomb = b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"".join(
        b"--b\nContent-Type: image/png; name=x%d.png\n\nAAAA\n" % i for i in range(20_000))
    payloads(bomb)


# --- hostile names -------------------------------------------------------------------------


def attached(disposition: str, content: bytes = b"data") -> tuple[Attachment, bytes]:
    raw = mail(
        'Content-Type: multipart/mixed; boundary="b"',
        b"--b\nContent-Type: text/plain\n\nbody\n--b\nContent-Type: application/octet-stream\n"
        + disposition.encode("utf-8") + b"\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(content) + b"--b--\n",
    )
    ((att, data),) = payloads(raw)
    return att, data


def test_path_traversal_name_stays_in_the_folder(tmp_path: Path) -> None:
    att, data = attached('Content-Disposition: attachment; filename="../../etc/passwd"')
    assert att.filename == "../../etc/passwd"
    assert safe_filename(att.filename, "x") == "passwd"
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    written = save(data, att.filename, folder)
    assert written == folder / "passwd" and written.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "passwd"]


def test_bidi_override_name_is_defused() -> None:
    att, _ = attached("Content-Disposition: attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe")
    assert att.filename == "invoice\u202efdp.exe"
    name = safe_filename(att.filename, "x")
    assert name == "invoice_fdp.exe"  # the real extension stays visible
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in name)


def test_rfc2231_utf8_name() -> None:
    att, data = attached("Content-Disposition: attachment;\n filename*0*=UTF-8''%E2%82%AC%20rates;"
                         "\n filename*1*=%20%C3%BC.pdf", PDF)
    assert att.filename == "€ rates ü.pdf" and data == PDF
    assert safe_filename(att.filename, "x") == "€ rates ü.pdf"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\a.pdf", "a.pdf"),
        ("dir/", "dir"),
        ("..", "fallback.bin"),
        (".", "fallback.bin"),
        ("", "fallback.bin"),
        ("/", "fallback.bin"),
        ("  \t ", "fallback.bin"),
        (".bashrc", "bashrc"),
        ("-rf --no-preserve-root", "rf --no-preserve-root"),
        ("~user", "user"),
        ("a\x1b[31mred\x1b[0m\x07\r\n.txt", "ared .txt"),
        ("tab\there.txt", "tab here.txt"),
        ("nul\x00.txt", "nul.txt"),
        ("\x9b31mc1.txt", "c1.txt"),
        ("$(rm -rf ~).pdf", "$(rm -rf ~).pdf"),  # harmless: never given to a shell
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name, "fallback.bin") == expected


def test_safe_filename_fallbacks_and_length() -> None:
    assert safe_filename("..", "../..") == "attachment"
    assert safe_filename("", "") == "attachment"
    long = "ü" * 300 + ".pdf"
    name = safe_filename(long, "x")
    assert name.endswith(".pdf") and len(name.encode()) <= MAX_NAME_BYTES
    assert safe_filename("x" * 300 + ".tar.gz", "x").endswith("x.tar.gz")
    odd = safe_filename("y" * 300 + "." + "z" * 40, "x")  # no real extension: cut plainly
    assert len(odd.encode()) <= MAX_NAME_BYTES and odd.startswith("yyy")
    for hostile in ["\u202e" * 500, "../" * 1000, "\x1b]8;;http://x\x07" * 50]:
        out = safe_filename(hostile, "f")
        assert out and out == sanitize_line(out) and "/" not in out and out not in (".", "..")


def test_filename_for_uses_type_and_part_when_nameless() -> None:
    assert filename_for(Attachment("", "application/pdf", 3, "1.2")) == "attachment-1.2.pdf"
    assert filename_for(Attachment("", "message/rfc822", 3, "4")) == "attachment-4.eml"
    assert filename_for(Attachment("../x.png", "image/png", 3, "2")) == "x.png"


# --- saving --------------------------------------------------------------------------------


def test_save_never_overwrites(tmp_path: Path) -> None:
    first = save(b"one", "name.pdf", tmp_path)
    second = save(b"two", "name.pdf", tmp_path)
    third = save(b"three", "name.pdf", tmp_path)
    assert [p.name for p in (first, second, third)] == ["name.pdf", "name (1).pdf", "name (2).pdf"]
    assert [p.read_bytes() for p in (first, second, third)] == [b"one", b"two", b"three"]
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert save(b"t", "a.tar.gz", tmp_path).name == "a.tar.gz"
    assert save(b"t", "a.tar.gz", tmp_path).name == "a (1).tar.gz"
    assert save(b"t", "noext", tmp_path).name == "noext"
    assert save(b"t", "noext", tmp_path).name == "noext (1)"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_save_to_a_typed_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "docs").mkdir()
    written = save(b"x", "ignored.pdf", "~/docs/mine.pdf")
    assert written == tmp_path / "docs" / "mine.pdf"
    assert save(b"y", "ignored.pdf", "~/docs/mine.pdf") == tmp_path / "docs" / "mine (1).pdf"
    assert written.read_bytes() == b"x"
    assert save(b"z", "../evil.pdf", "~/docs") == tmp_path / "docs" / "evil.pdf"
    assert save(b"z", "../evil.pdf", "~/docs/") == tmp_path / "docs" / "evil (1).pdf"


def test_save_does_not_follow_or_replace_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.pdf").symlink_to(outside)  # dangling
    written = save(b"data", "a.pdf", folder)
    assert written.name == "a (1).pdf" and not outside.exists()
    assert (folder / "a.pdf").is_symlink()


def test_save_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(attachments.os, "link", no_links)
    first = save(b"one", "n.txt", tmp_path)
    second = save(b"two", "n.txt", tmp_path)
    assert (first.read_bytes(), second.read_bytes(), second.name) == (b"one", b"two", "n (1).txt")
    assert stat.S_IMODE(second.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n (1).txt", "n.txt"]


def test_save_errors_are_one_line_value_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    cases = [tmp_path / "missing" / "a.pdf", tmp_path / "file" / "a.pdf", f"{tmp_path}/missing/"]
    for target in cases:
        with pytest.raises(AttachmentError) as info:
            save(b"x", "a.pdf", target)
        assert isinstance(info.value, ValueError)
        message = str(info.value)
        assert message.startswith("cannot save") and "\n" not in message
    assert not (tmp_path / "missing").exists()  # folders are never created
    too_long = tmp_path / ("n" * 300 + ".pdf")
    with pytest.raises(AttachmentError, match="cannot save to .*: file name too long"):
        save(b"x", "a.pdf", too_long)
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_default_save_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_save_dir() == tmp_path  # nothing configured: the current directory
    (home / "Downloads").mkdir()
    assert default_save_dir() == home / "Downloads"
    (tmp_path / "config").mkdir()
    (home / "Dl").mkdir()
    (tmp_path / "config" / "user-dirs.dirs").write_text('# x\nXDG_DOWNLOAD_DIR="$HOME/Dl"\n')
    assert default_save_dir() == home / "Dl"
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "env"))
    assert default_save_dir() == tmp_path / "env"
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(tmp_path / "gone"))  # not a folder: skipped
    assert default_save_dir() == home / "Dl"


# --- opening -------------------------------------------------------------------------------


RECORDER = """#!/bin/sh
echo $$ > "$TUI_DESK_REC.pid"
printf '%s\\0' "$@" > "$TUI_DESK_REC.tmp"
command -p mv "$TUI_DESK_REC.tmp" "$TUI_DESK_REC"  # (PATH may be empty)
read line < "$TUI_DESK_REC.fifo"
echo done > "$TUI_DESK_REC.end"
"""


def wait_for(path: Path, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def release(rec: Path) -> None:
    """Let a waiting recorder finish (it blocks on its FIFO until we write)."""
    try:
        fd = os.open(f"{rec}.fifo", os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # nobody is waiting
    os.write(fd, b"go\n")
    os.close(fd)


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fake viewer that records its argv, then waits until released."""
    rec = tmp_path / "rec" / "argv"
    rec.parent.mkdir()
    os.mkfifo(f"{rec}.fifo")
    monkeypatch.setenv("TUI_DESK_REC", str(rec))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "canary").write_text("still here")
    monkeypatch.setenv("HOME", str(home))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    mailcaps = tmp_path / "mailcap"
    mailcaps.write_text("")
    monkeypatch.setenv("MAILCAPS", str(mailcaps))
    monkeypatch.chdir(home)
    yield rec, bin_dir, mailcaps
    release(rec)


def install(bin_dir: Path, name: str) -> Path:
    script = bin_dir / name
    script.write_text(RECORDER)
    script.chmod(0o755)
    return script


def recorded(rec: Path) -> list[str]:
    wait_for(rec)
    return rec.read_bytes().decode().split("\0")[:-1]


def test_open_with_xdg_open_gets_the_exact_path(recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    rec, bin_dir, _ = recorder
    fake = install(bin_dir, "xdg-open")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    assert opener() == [str(fake), "%s"]
    name = "$(rm -rf ~);`touch PWNED` 'q\" x.pdf"
    message = open_attachment(PDF, name, "application/pdf")
    argv = recorded(rec)  # the viewer runs while we go on: it waits for its FIFO
    folder = private_dir()
    assert folder.parent == Path(os.environ["XDG_RUNTIME_DIR"])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert argv == [str(folder / name)]
    assert Path(argv[0]).read_bytes() == PDF
    assert stat.S_IMODE(Path(argv[0]).stat().st_mode) == 0o600
    assert message == f"opening {folder / name} with xdg-open"
    pid = int(Path(f"{rec}.pid").read_text())
    assert os.getsid(pid) == pid != os.getsid(0)  # its own session: no terminal of ours
    assert [os.readlink(f"/proc/{pid}/fd/{n}") for n in (0, 1, 2)] == ["/dev/null"] * 3
    release(rec)
    wait_for(Path(f"{rec}.end"))
    home = Path(os.environ["HOME"])
    assert (home / "canary").read_text() == "still here"
    assert not list(home.rglob("PWNED")) and not list(folder.rglob("PWNED"))
    # a second file of the same name does not replace the first one being viewed
    Path(f"{rec}").unlink()
    open_attachment(b"other", name, "application/pdf")
    assert recorded(rec) == [str(folder / "$(rm -rf ~);`touch PWNED` 'q\" x (1).pdf")]


def test_open_file_with_a_relative_or_dashed_path(recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    rec, bin_dir, _ = recorder
    install(bin_dir, "xdg-open")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    Path("-x.txt").write_text("x")
    open_file("-x.txt")
    assert recorded(rec) == [str(Path.cwd() / "-x.txt")]  # absolute: never an option


def test_open_with_a_mailcap_entry(recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rec, bin_dir, mailcaps = recorder
    viewer = install(bin_dir, "viewer")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no xdg-open anywhere
    monkeypatch.setenv("TUI_DESK_GATE", "")
    mailcaps.write_text(
        f"application/pdf; {viewer} %s; needsterminal\n"
        f"application/pdf; {viewer} %s; copiousoutput\n"
        f"application/pdf; sh -c '{viewer} %s'\n"
        f"application/pdf; /bin/sh %s\n"
        f"application/pdf; {viewer} $(id) %s\n"
        f"application/pdf; {viewer} --from-stdin\n"
        f"application/pdf; {viewer} %{{charset}} %s\n"
        f'application/pdf; {viewer} gated %s; test=test -n "$TUI_DESK_GATE"\n'
        f"application/*; {viewer} --type %t '%s'\n"
    )
    assert opener("application/pdf") == [str(viewer), "--type", "application/pdf", "%s"]
    monkeypatch.setenv("TUI_DESK_GATE", "1")
    assert opener("application/pdf") == [str(viewer), "gated", "%s"]
    assert opener("image/png") is None
    message = open_attachment(PDF, "a b.pdf")  # type from the name
    path = private_dir() / "a b.pdf"
    assert recorded(rec) == ["gated", str(path)]
    assert message == f"opening {path} with viewer"


def test_no_viewer_message(recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert opener("application/pdf") is None
    message = open_attachment(PDF, "r.pdf", "application/pdf")
    path = private_dir() / "r.pdf"
    assert message == f"no viewer found; saved to {path}"
    assert path.read_bytes() == PDF


def test_a_viewer_that_cannot_start(recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    _, bin_dir, _ = recorder
    broken = bin_dir / "xdg-open"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    message = open_attachment(b"x", "n.txt", "text/plain")
    assert message == f"could not start xdg-open (no such file or directory); saved to {private_dir() / 'n.txt'}"
