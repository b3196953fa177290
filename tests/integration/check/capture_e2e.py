#!/usr/bin/env python3
"""`missive capture` end to end, with independent tools.

usage: capture_e2e.py MISSIVE
1. Starts `missive capture --listen 127.0.0.1:0 --maildir D --once`, sends with Python's
   smtplib (STARTTLS verified against the certificate capture wrote, AUTH, a UTF-8 message),
   and reads the stored Maildir file back with the email package.
2. Does the same with `missive send` as the client (the README's second example).
Exits 1 with what went wrong.
"""
import email
import email.policy
import pathlib
import smtplib
import ssl
import subprocess
import sys
import tempfile
from email.message import EmailMessage


def start(binary: str, maildir: pathlib.Path):
    proc = subprocess.Popen([binary, "capture", "--listen", "127.0.0.1:0", "--maildir",
                             str(maildir), "--once"], stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    if not first.startswith("listening on 127.0.0.1:"):
        raise SystemExit(f"capture did not start: {first!r}")
    port = int(first.split(":")[1].split(",")[0])
    return proc, port


def stored(proc, maildir: pathlib.Path) -> email.message.EmailMessage:
    line = proc.stdout.readline()
    proc.wait(timeout=20)
    if proc.returncode != 0:
        raise SystemExit(f"capture exited with {proc.returncode}")
    files = list((maildir / "new").iterdir())
    if len(files) != 1 or "file=" not in line:
        raise SystemExit(f"expected one stored message, found {files}, printed {line!r}")
    return email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)


def main() -> int:
    binary = sys.argv[1]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        maildir = pathlib.Path(tmp) / "smtplib"
        proc, port = start(binary, maildir)
        msg = EmailMessage()
        msg["From"] = "Ada <ada@example.org>"
        msg["To"] = "Bob <bob@example.com>"
        msg["Subject"] = "Grüße über smtplib"
        msg.set_content("Hallo Bob,\nschöne Grüße.\n")
        context = ssl.create_default_context(cafile=str(maildir / "capture-cert.pem"))
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            s.starttls(context=context)
            s.login("ada", "any password")
            refused = s.send_message(msg, to_addrs=["bob@example.com", "carol@example.com"])
            if refused:
                problems.append(f"smtplib: refused {refused}")
        got = stored(proc, maildir)
        if str(got["Subject"]) != "Grüße über smtplib":
            problems.append(f"smtplib: Subject {got['Subject']!r}")
        if got.get_content() != "Hallo Bob,\nschöne Grüße.\n":
            problems.append(f"smtplib: body {got.get_content()!r}")
        if got["X-Missive-Rcpt"] != "<bob@example.com>, <carol@example.com>":
            problems.append(f"smtplib: envelope {got['X-Missive-Rcpt']!r}")
        if "ESMTPSA" not in str(got["Received"]):
            problems.append(f"smtplib: not TLS + AUTH: {got['Received']!r}")

        maildir = pathlib.Path(tmp) / "missive"
        proc, port = start(binary, maildir)
        (pathlib.Path(tmp) / "notes.txt").write_text("attached notes\n")
        run = subprocess.run(
            [binary, "send", "--server", f"smtp://127.0.0.1:{port}", "--tls", "required",
             "--ca-file", str(maildir / "capture-cert.pem"), "--user", "ada",
             "--from", "Ada <ada@example.org>", "--to", "bob@example.com",
             "--bcc", "hidden@example.com", "--subject", "日本語の件名",
             "--text", "こんにちは", "--attach", str(pathlib.Path(tmp) / "notes.txt"), "--json"],
            capture_output=True, text=True, timeout=30,
            env={"MISSIVE_PASSWORD": "pw", "PATH": "/usr/bin:/bin", "HOME": tmp})
        if run.returncode != 0 or '"status":"sent"' not in run.stdout:
            problems.append(f"missive send: {run.returncode} {run.stdout} {run.stderr}")
        got = stored(proc, maildir)
        if str(got["Subject"]) != "日本語の件名" or "Bcc" in got:
            problems.append(f"missive send: Subject {got['Subject']!r}, Bcc {got['Bcc']!r}")
        if got["X-Missive-Rcpt"] != "<bob@example.com>, <hidden@example.com>":
            problems.append(f"missive send: envelope {got['X-Missive-Rcpt']!r}")
        parts = [p for p in got.walk() if not p.is_multipart()]
        if [p.get_content().strip() for p in parts] != ["こんにちは", "attached notes"]:
            problems.append(f"missive send: parts {[p.get_content() for p in parts]!r}")
        for part in got.walk():
            if part.defects:
                problems.append(f"missive send: defects {part.defects}")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"capture: smtplib and missive send, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
