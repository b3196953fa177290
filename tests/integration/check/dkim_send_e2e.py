#!/usr/bin/python3
"""`missive send` and `missive sendmail` with DKIM, end to end, checked by dkimpy.

Two keys (Ed25519 and RSA) from `missive dkim keygen`, their records from `missive dkim dns`.
The built binary sends to `missive capture` (its Maildir read back as the server stored it):
  - a built message with an attachment, signed by both keys (flags, selectors per key);
  - a ready message from a file (the stream is read twice) and from stdin (spooled);
  - `missive sendmail -t` with the account's `dkim` table from a 0600 config file;
and, when MISSIVE_TEST_ENV names the integration servers, a signed message through real Postfix,
read from the delivered mail. Every signature must verify in dkimpy (keys through dnsfunc), and
fail once the body is altered. A key file others can read is refused (exit 78).

usage: dkim_send_e2e.py MISSIVE WORKDIR [ENV_FILE]
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import dkim

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL", what)


def run(*args, stdin=None, env=None):
    return subprocess.run([str(a) for a in args], input=stdin, capture_output=True, timeout=120,
                          env=env)


def record_of(missive, key, selector):
    out = run(missive, "dkim", "dns", "--key", key, "--selector", selector, "--domain",
              "example.org")
    check(out.returncode == 0, f"dns: {out.stderr}")
    return "".join(re.findall(r'"([^"]*)"', out.stdout.decode()))


def verify_all(message, records, what):
    """Every DKIM-Signature of `message` (LF or CRLF) verifies; a changed body fails them all."""
    message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = message.split(b"\r\n\r\n", 1)[0]
    count = len(re.findall(rb"(?im)^dkim-signature:", head))
    check(count == len(records), f"{what}: {count} signatures, expected {len(records)}")

    def dnsfunc(name, timeout=5):
        return records.get(name.decode().rstrip("."), "").encode()

    for i in range(count):
        try:
            ok = dkim.DKIM(message).verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            print("  dkimpy:", e)
            ok = False
        check(ok, f"{what}: signature {i} does not verify")
        tampered = message.replace(b"\r\n\r\n", b"\r\n\r\nX", 1)
        try:
            bad = dkim.DKIM(tampered).verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException:
            bad = False
        check(not bad, f"{what}: signature {i} verifies a changed body")
    print(f"{what}: {count} signatures checked")


def start_capture(missive, maildir):
    proc = subprocess.Popen([missive, "capture", "--listen", "127.0.0.1:0", "--maildir",
                             str(maildir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline().decode()
    port = int(re.search(r"127\.0\.0\.1:(\d+)", first).group(1))
    return proc, port


def take_one(maildir, before):
    for _ in range(100):
        files = set((maildir / "new").iterdir()) - before
        if files:
            return next(iter(files)).read_bytes()
        time.sleep(0.05)
    check(False, "no message stored")
    return b""


def main():
    missive, work = sys.argv[1], pathlib.Path(sys.argv[2])
    env_file = sys.argv[3] if len(sys.argv) > 3 else ""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ed, rsa = work / "ed.pem", work / "rsa.pem"
    run(missive, "dkim", "keygen", "--algorithm", "ed25519", "--out", ed)
    run(missive, "dkim", "keygen", "--algorithm", "rsa", "--bits", "2048", "--out", rsa)
    records = {"ed._domainkey.example.org": record_of(missive, ed, "ed"),
               "rs._domainkey.example.org": record_of(missive, rsa, "rs")}
    maildir = work / "maildir"
    capture, port = start_capture(missive, maildir)
    server = ["--server", f"smtp://127.0.0.1:{port}", "--ca-file",
              str(maildir / "capture-cert.pem")]
    signing = ["--dkim-key", ed, "--dkim-selector", "ed", "--dkim-key", rsa, "--dkim-selector",
               "rs", "--dkim-domain", "example.org"]
    try:
        attachment = work / "data.bin"
        attachment.write_bytes(os.urandom(300000))
        cases = []
        before = set((maildir / "new").iterdir()) if (maildir / "new").exists() else set()
        out = run(missive, "send", *server, *signing, "--from", "Ada <ada@example.org>", "--to",
                  "bob@example.com", "--subject", "Grüße, signed", "--text", "Hello\n\n\n",
                  "--attach", attachment)
        check(out.returncode == 0, f"send built: {out.returncode} {out.stderr}")
        cases.append(("built message with attachment", take_one(maildir, before)))

        ready = work / "ready.eml"
        ready.write_bytes(b"From: ada@example.org\nTo: bob@example.com\nSubject: ready\n"
                          b"Date: Thu, 01 Jan 2026 00:00:00 +0000\nMessage-ID: <r@example.org>\n"
                          b"\nA ready message,  with  spaces \t\nand trailing lines\n\n\n")
        for source, stdin in [("--message FILE", None), ("--message - (spooled)", ready.read_bytes())]:
            before = set((maildir / "new").iterdir())
            arg = str(ready) if stdin is None else "-"
            out = run(missive, "send", *server, *signing, "--message", arg, stdin=stdin)
            check(out.returncode == 0, f"send {source}: {out.returncode} {out.stderr}")
            cases.append((source, take_one(maildir, before)))

        config = work / "config.toml"
        config.write_text(f'''default = "work"
[accounts.work]
server = "smtp://127.0.0.1:{port}"
ca_file = "{maildir / 'capture-cert.pem'}"
from = "ada@example.org"
dkim = [{{ key = "{ed}", selector = "ed", domain = "example.org" }},
        {{ key = "{rsa}", selector = "rs", domain = "example.org" }}]
''')
        os.chmod(config, 0o600)
        env = dict(os.environ, MISSIVE_CONFIG=str(config))
        before = set((maildir / "new").iterdir())
        out = run(missive, "sendmail", "-t", "-i", env=env,
                  stdin=b"To: bob@example.com\nSubject: via sendmail\n\nFrom the account.\n")
        check(out.returncode == 0, f"sendmail: {out.returncode} {out.stderr}")
        cases.append(("sendmail with the account's dkim", take_one(maildir, before)))

        for what, message in cases:
            verify_all(message, records, what)

        os.chmod(ed, 0o644)
        out = run(missive, "send", *server, *signing, "--from", "ada@example.org", "--to",
                  "bob@example.com", "--text", "x")
        check(out.returncode == 78 and b"chmod 600" in out.stderr,
              f"a key others can read: {out.returncode} {out.stderr}")
        os.chmod(ed, 0o600)
    finally:
        capture.terminate()
        capture.wait(timeout=10)

    if env_file:
        settings = dict(line.split("=", 1) for line in pathlib.Path(env_file).read_text().split())
        port = settings["MISSIVE_TEST_POSTFIX_PORT"]
        token = f"dkim-{os.getpid()}-{time.time_ns()}"
        out = run(missive, "send", "--server", f"smtp://127.0.0.1:{port}", "--tls", "required",
                  "--ca-file", settings["MISSIVE_TEST_CA_FILE"], *signing, "--from",
                  "ada@example.org", "--to", "bob@example.com", "--subject", token, "--text",
                  "Through Postfix, signed.\n")
        check(out.returncode == 0, f"send through Postfix: {out.returncode} {out.stderr}")
        mail = pathlib.Path(settings["MISSIVE_TEST_DIR"]) / "mail"
        delivered = b""
        for _ in range(200):
            for f in mail.rglob("*"):
                if f.is_file() and token.encode() in f.read_bytes():
                    delivered = f.read_bytes()
            if delivered:
                break
            time.sleep(0.05)
        check(bool(delivered), "the signed message was not delivered by Postfix")
        if delivered:
            verify_all(delivered, records, "through Postfix")

    print(f"dkim_send_e2e: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
