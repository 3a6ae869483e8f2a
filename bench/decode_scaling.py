#!/usr/bin/env python3
"""Does any decoding step of the parser grow faster than its input? Times parse_message on
hostile bodies and headers of size n and 4n (format=flowed, quoted-printable, base64, HTML to
text, quoted-text splitting, exotic charsets, RFC 2047 words) and prints the ratio: about 4 is
linear, 16 quadratic. Figures are printed, never asserted (tests/test_hostile_intake.py checks
that such mail is read at all).

    .venv/bin/python bench/decode_scaling.py [-n 25000] [CASE ...]
"""

from __future__ import annotations

import argparse
import time

from tui_desk.mail.parse import parse_message

H = b"From: a@x\r\nMessage-ID: <s@x>\r\nSubject: s\r\n"


def mk(ct: bytes, body: bytes, cte: bytes = b"") -> bytes:
    return (H + b"Content-Type: " + ct + b"\r\n" + (b"Content-Transfer-Encoding: " + cte + b"\r\n" if cte else b"")
            + b"\r\n" + body)


CASES = {
 "flowed": lambda n: mk(b"text/plain; format=flowed", b"word \r\n" * n),
 "flowed-quoted": lambda n: mk(b"text/plain; format=flowed; delsp=yes", (b">" * 50 + b" word \r\n") * n),
 "flowed-deepquote": lambda n: mk(b"text/plain; format=flowed", b">" * n + b" x \r\n" + b">" * n + b"y\r\n"),
 "qp-soft": lambda n: mk(b"text/plain", b"=\r\n" * n + b"x", b"quoted-printable"),
 "qp-eq": lambda n: mk(b"text/plain", b"=3D" * n, b"quoted-printable"),
 "qp-bad": lambda n: mk(b"text/plain", b"=Z" * n, b"quoted-printable"),
 "b64-garbage": lambda n: mk(b"text/plain", b"!@" * n, b"base64"),
 "html-nest": lambda n: mk(b"text/html", b"<div>" * n + b"x"),
 "html-table": lambda n: mk(b"text/html", b"<table><tr><td>" * n + b"x"),
 "html-list": lambda n: mk(b"text/html", b"<ul><li>" * n + b"x"),
 "html-blockquote": lambda n: mk(b"text/html", b"<blockquote>" * n + b"x"),
 "html-comment": lambda n: mk(b"text/html", b"<!--" + b"a" * n),
 "html-tags": lambda n: mk(b"text/html", b"<a " + b"b=c " * n),
 "html-ent": lambda n: mk(b"text/html", b"&amp" * n),
 "html-pre": lambda n: mk(b"text/html", b"<pre>" + b"a  \n" * n),
 "html-lt": lambda n: mk(b"text/html", b"<" * n),
 "html-script": lambda n: mk(b"text/html", b"<script>" * n),
 "html-br": lambda n: mk(b"text/html", b"<br>" * n),
 "html-p-spaces": lambda n: mk(b"text/html", b"<p>" + b" " * n + b"x"),
 "text-quotes": lambda n: mk(b"text/plain", b"> a\r\n\r\nOn x wrote:\r\n" * n),
 "text-longline": lambda n: mk(b"text/plain", b"a" * (20 * n)),
 "text-attrib": lambda n: mk(b"text/plain", b"On " + b"x " * n + b"\r\n"),
 "utf7": lambda n: mk(b"text/plain; charset=utf-7", b"+" + b"AGEA" * n),
 "iso2022": lambda n: mk(b"text/plain; charset=iso-2022-jp", b"\x1b$B" + b"F|" * n),
 "ew-subject": lambda n: H.replace(b"Subject: s", b"Subject: " + b"=?utf-8?q?a?= " * min(n, 1000)) + b"\r\nx",
 "ew-filename": lambda n: mk(b"multipart/mixed; boundary=B", b"--B\r\nContent-Disposition: attachment; filename=\"" + b"=?utf-8?b?YQ==?=" * min(n, 900) + b"\"\r\n\r\nx\r\n--B--\r\n"),
 "many-parts": lambda n: mk(b"multipart/mixed; boundary=B", b"--B\r\n\r\nx\r\n" * (n // 20)),
 "punycode": lambda n: mk(b"text/plain; charset=punycode", b"ab-" + b"a" * n),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=25_000)
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    n = args.n
    for name, make in CASES.items():
        if args.cases and name not in args.cases:
            continue
        times = []
        for k in (n, 4 * n):
            raw = make(k)
            t = time.perf_counter()
            parse_message(raw)
            times.append(time.perf_counter() - t)
        flag = "  <-- superlinear?" if times[1] > 8 * max(times[0], 0.002) else ""
        print(f"{name:18s} n={n}: {times[0] * 1000:8.1f} ms  4n: {times[1] * 1000:8.1f} ms"
              f"  x{times[1] / max(times[0], 1e-6):.1f}{flag}")


if __name__ == "__main__":
    main()
