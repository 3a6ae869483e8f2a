"""`tui-desk import` of what is not mail (an image, a PDF, an empty file, a text without header
lines, a folder with nothing in it): one `not mail: FILE: <why>` line each on stderr, nothing
stored for it, exit status 1; the mail given beside it is imported all the same, and a real
mail with a broken header is still mail (stored with its parse error)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mailfactory import make_mail
from tui_desk.cli import main
from tui_desk.desk.importer import not_mail

CORPUS = Path(__file__).parent / "corpus"
# the start of a real PNG (signature, IHDR) and of a real PDF
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_files_that_are_not_mail_are_refused_one_line_each_and_the_mail_beside_them_imported(tmp_path, capsys):
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "good.eml").write_bytes(make_mail("good@customer.test", subject="Refund please"))
    # a mail with a broken header: a line with no colon among the fields, no blank line after them
    (mail / "broken.eml").write_bytes(b"From: Bo <bo@customer.test>\r\nMessage-ID: <broken@customer.test>\r\n"
                                      b"Subject: Broken head\r\nthis line has no colon\r\nbody\r\n")
    (mail / "logo.png").write_bytes(PNG)
    (mail / "invoice.pdf").write_bytes(PDF)
    (mail / "empty.eml").write_bytes(b"")
    (mail / "notes.txt").write_bytes(b"Buy milk\nand call the bank\n\nthen lunch\n")
    outlook = tmp_path / "mail_outlook_1"  # an Outlook .msg (OLE): binary, not RFC 5322 mail
    outlook.write_bytes((CORPUS / "mail-parser" / "mail_outlook_1").read_bytes())
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    db = tmp_path / "d.sqlite3"

    code, out, err = run(capsys, "--db", db, "import", mail, outlook, nothing)

    assert code == 1, (out, err)
    refused = dict(re.findall(r"^not mail: (.+?): (.+)$", err, re.M))
    assert refused == {
        str(mail / "logo.png"): "binary data, not text (NUL bytes in its first KB)",
        str(mail / "invoice.pdf"): "no header lines: its first line is not a header field like 'From: ...'",
        str(mail / "empty.eml"): "an empty file",
        str(mail / "notes.txt"): "no header lines: its first line is not a header field like 'From: ...'",
        str(outlook): "binary data, not text (NUL bytes in its first KB)",
        str(nothing): "a folder with no mail files in it",
    }, err
    assert err.count("\n") == len(refused) + err.count("error: "), err  # a line each, nothing else
    assert out.startswith("imported 2 messages") and out.rstrip().endswith("6 files not mail"), out
    assert main(["--db", str(db), "threads", "--json"]) == 0
    stored = sorted(m for t in json.loads(capsys.readouterr().out) for m in t["messages"])
    assert stored == ["broken@customer.test", "good@customer.test"]


def test_a_run_of_mail_alone_exits_0_and_blank_lines_alone_are_not_mail(tmp_path, capsys):
    (tmp_path / "a.eml").write_bytes(make_mail("a@customer.test"))
    (tmp_path / "blank.eml").write_bytes(b"\n\r\n  \n")
    db = tmp_path / "d.sqlite3"
    code, out, err = run(capsys, "--db", db, "import", tmp_path / "a.eml")
    assert code == 0 and err == "" and out.startswith("imported 1 message ("), (out, err)
    code, out, err = run(capsys, "--db", db, "import", tmp_path / "blank.eml")
    assert code == 1 and err == f"not mail: {tmp_path / 'blank.eml'}: blank lines alone\n", err


def test_a_refused_name_goes_through_the_sanitizer(tmp_path, capsys):
    evil = tmp_path / "x\x1b]0;pwned\x07.txt"
    evil.write_bytes(b"just text\n")
    code, _, err = run(capsys, "--db", tmp_path / "d.sqlite3", "import", evil)
    assert code == 1 and err.startswith("not mail: ") and "\x1b" not in err and "\x07" not in err, repr(err)


def test_mail_with_a_broken_header_is_mail_and_what_has_no_header_is_not():
    """The rule on its own: every message the hostile-intake tests and the copied corpora hold
    that starts with a header is mail; a text, a PDF, an image is not."""
    from hostile_mail import pathological
    for name, raw in pathological():
        assert not_mail(raw) is None, name
    assert not_mail(b"From: A\0B <a\0b@x.test>\r\nSubject: s\0s\r\n\r\nte\0xt\r\n") is None  # NULs in fields
    assert not_mail(b"\xef\xbb\xbfFrom: a@x.test\n\nhi\n") is None  # a byte-order mark first
    assert not_mail(b" stray folding\r\nFrom: a@x.test\r\n\r\nhi\r\n") is None  # a folded first line
    for path in sorted((CORPUS / "flanker").glob("*.eml")):  # some: a line of blanks before the fields
        if not path.read_bytes().startswith(b"From "):  # (those are read as an mbox)
            assert not_mail(path.read_bytes()) is None, path
    assert not_mail(PNG) and not_mail(PDF) and not_mail(b"Dear team,\nthe invoice: attached\n")
    assert not_mail((CORPUS / "james-mime4j" / "testmsgs" / "malformedHeader-noheader.msg").read_bytes())


def test_a_maildirs_own_bookkeeping_files_are_not_read_as_mail(tmp_path, capsys):
    """Maildir++ quota (maildirsize) and Courier's files lie beside cur/ and new/: neither mail
    nor refused."""
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "cur" / "1.host:2,S").write_bytes(make_mail("kept@customer.test"))
    (box / "maildirsize").write_bytes(b"0S,0C\n1234 5\n")
    (box / "courierimapuiddb").write_bytes(b"1 1234 2\n")
    code, out, err = run(capsys, "--db", tmp_path / "d.sqlite3", "import", box)
    assert code == 0 and err == "" and out.startswith("imported 1 message ("), (out, err)
