#!/usr/bin/env python3
"""`missive capture` end to end, with independent tools and a hostile raw-socket client.

usage: capture_e2e.py MISSIVE [SCENARIO...]   (all scenarios when none is named)
clients:     smtplib (STARTTLS verified against the certificate capture wrote, AUTH, UTF-8),
             then `missive send` (the README's second example); the Maildir file is read back
             with the email package.
smuggling:   DATA ended by <LF>.<LF>, <CR>.<CR>, <CRLF>.<LF> or <LF>.<CRLF> followed by a
             second transaction: refused with 554 5.5.2 at the real end, nothing stored.
limit:       --max-connections 2, and the default 32: one more client gets 421 4.3.2 and EOF;
             a slot frees when a client leaves.
idle:        --idle-timeout 1: a silent client gets 421 4.4.2 and EOF.
shutdown:    SIGTERM, and --once, end a server that has clients mid-transaction at once
             (their connections are closed, every thread joined): exit 0 within 3 s.
listen:      0.0.0.0 and [::] need --allow-remote (exit 64 otherwise); :PORT is 127.0.0.1;
             [::1]:PORT works; bad addresses and ports exit 64.
files:       Maildir directories 0700 when created, messages 0600, tmp/ left empty.
write_error: a file size limit (RLIMIT_FSIZE) makes writing fail: 451 4.3.0 to the client,
             the error on stderr, no file left in tmp/; the next message is stored.
hostile:     CR, ESC, BEL, NUL and DEL in the HELO name, AUTH user and MAIL FROM are escaped in
             the stored headers and in the line printed per message.
Exits 1 with what went wrong.
"""
import base64
import email
import email.policy
import os
import pathlib
import resource
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage


class Failed(Exception):
    """A scenario found a problem it cannot go on after."""


def start(binary: str, maildir: pathlib.Path, *args: str, listen: str = "127.0.0.1:0",
          expect: str = "listening on 127.0.0.1:", preexec_fn=None):
    """Starts `missive capture`; returns the process (stdout and stderr as bytes) and port."""
    proc = subprocess.Popen([binary, "capture", "--listen", listen, "--maildir", str(maildir),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=preexec_fn)
    first = proc.stdout.readline().decode(errors="replace")
    if not first.startswith(expect):
        proc.kill()
        _, err = proc.communicate()
        raise Failed(f"capture --listen {listen} {args} did not start: {first!r} {err!r}")
    port = int(first[len(expect):].split(",")[0].lstrip("]:"))
    return proc, port


def stop(proc, within: float = 10):
    """SIGTERM; returns (exit status, rest of stdout, stderr, seconds it took)."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err, time.monotonic() - began
    return proc.returncode, out, err, time.monotonic() - began


class Raw:
    """A client on a bare socket: sends exactly the bytes it is given."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def reply(self) -> str:
        """The next whole reply (all its lines, joined by CRLF)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise Failed(f"connection closed; had {lines!r} {self.buf!r}")
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode(errors="replace"))
            if line[3:4] != b"-":
                return "\r\n".join(lines)

    def closed(self) -> bool:
        """True when the server closes the connection with nothing more to say (a reset counts:
        closing a socket with unread input sends one)."""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return not self.buf
                self.buf += data
        except ConnectionResetError:
            return not self.buf
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def expect(problems, what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")


def stored(proc, maildir: pathlib.Path) -> email.message.EmailMessage:
    line = proc.stdout.readline().decode()
    proc.wait(timeout=20)
    if proc.returncode != 0:
        raise SystemExit(f"capture exited with {proc.returncode}")
    files = list((maildir / "new").iterdir())
    if len(files) != 1 or "file=" not in line:
        raise SystemExit(f"expected one stored message, found {files}, printed {line!r}")
    return email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)


def clients(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "smtplib"
    proc, port = start(binary, maildir, "--once")
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
    proc, port = start(binary, maildir, "--once")
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
    return problems


def transaction(raw: Raw, problems, what: str, sender: str = "ada@example.org"):
    """EHLO (once), MAIL, RCPT, DATA up to the 354."""
    raw.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n".encode())
    got = [raw.reply(), raw.reply(), raw.reply()]
    expect(problems, what, [g[:3] for g in got], ["250", "250", "354"])


def greet(raw: Raw, problems, what: str):
    expect(problems, f"{what}: greeting", raw.reply()[:4], "220 ")
    raw.send(b"EHLO client.test\r\n")
    expect(problems, f"{what}: EHLO", raw.reply()[:4], "250-")


def new_files(maildir: pathlib.Path) -> list:
    return sorted((maildir / "new").iterdir())


def smuggling(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "smuggling"
    proc, port = start(binary, maildir)
    try:
        for end, refusal in [(b"\n.\n", "bare <LF>"), (b"\r.\r", "bare <CR>"),
                             (b"\r\n.\n", "bare <LF>"), (b"\n.\r\n", "bare <LF>")]:
            what = f"smuggling {end!r}"
            raw = Raw(port)
            greet(raw, problems, what)
            transaction(raw, problems, what)
            raw.send(b"Subject: first\r\n\r\nhello" + end +
                     b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@example.com>\r\n"
                     b"DATA\r\nSubject: smuggled\r\n\r\nforged\r\n.\r\n")
            expect(problems, f"{what}: end of data", raw.reply(),
                   f"554 5.5.2 Error: {refusal} received")
            raw.send(b"QUIT\r\n")
            expect(problems, f"{what}: QUIT", raw.reply(), "221 2.0.0 Bye")
            raw.close()
            expect(problems, f"{what}: stored", new_files(maildir), [])
        raw = Raw(port)  # and a proper message still gets through
        greet(raw, problems, "after smuggling")
        transaction(raw, problems, "after smuggling")
        raw.send(b"Subject: fine\r\n\r\n.. dot\r\n.\r\n")
        expect(problems, "after smuggling: end of data", raw.reply()[:30],
               "250 2.0.0 Ok: queued as M1")
        raw.close()
        files = new_files(maildir)
        if len(files) != 1 or not files[0].read_bytes().endswith(b"\n\n. dot\n"):
            problems.append(f"after smuggling: stored {files}")
    finally:
        stop(proc)
    return problems


def limit(binary: str, tmp: str) -> list:
    problems = []
    for cap, args in [(2, ["--max-connections", "2"]), (32, [])]:
        what = f"limit {cap}"
        proc, port = start(binary, pathlib.Path(tmp) / f"limit{cap}", *args)
        try:
            held = []
            for _ in range(cap):  # each one greeted: accepted and counted
                held.append(Raw(port))
                expect(problems, f"{what}: greeting", held[-1].reply()[:4], "220 ")
            extra = Raw(port)
            expect(problems, f"{what}: one more", extra.reply(), "421 4.3.2 too many connections")
            expect(problems, f"{what}: closed after 421", extra.closed(), True)
            held[0].send(b"QUIT\r\n")
            expect(problems, f"{what}: QUIT", held[0].reply(), "221 2.0.0 Bye")
            held[0].close()
            greeting = ""
            for _ in range(50):  # the slot frees once that client's thread has ended
                again = Raw(port)
                try:
                    greeting = again.reply()
                except Failed:
                    greeting = "closed"
                again.close()
                if greeting.startswith("220 "):
                    break
                time.sleep(0.1)
            expect(problems, f"{what}: after one left", greeting[:4], "220 ")
            for raw in held[1:]:
                raw.close()
        finally:
            status, _, err, _ = stop(proc)
            expect(problems, f"{what}: exit status", (status, err), (0, b""))
    return problems


def idle(binary: str, tmp: str) -> list:
    problems = []
    proc, port = start(binary, pathlib.Path(tmp) / "idle", "--idle-timeout", "1")
    try:
        raw = Raw(port)
        began = time.monotonic()
        expect(problems, "idle: greeting", raw.reply()[:4], "220 ")
        expect(problems, "idle: timeout", raw.reply(), "421 4.4.2 localhost Error: timeout exceeded")
        expect(problems, "idle: closed", raw.closed(), True)
        took = time.monotonic() - began
        if not 0.9 <= took <= 5:
            problems.append(f"idle: closed after {took:.1f} s, not about 1 s")
    finally:
        status, _, err, _ = stop(proc)
    if b"idle for 1 s; closed" not in err:
        problems.append(f"idle: stderr {err!r}")
    return problems


def shutdown(binary: str, tmp: str) -> list:
    problems = []
    proc, port = start(binary, pathlib.Path(tmp) / "sigterm")
    busy = Raw(port)  # in the middle of its data
    greet(busy, problems, "shutdown")
    transaction(busy, problems, "shutdown")
    busy.send(b"Subject: half\r\n\r\nhalf a mess")
    silent = Raw(port)
    expect(problems, "shutdown: greeting", silent.reply()[:4], "220 ")
    status, _, err, took = stop(proc)
    expect(problems, "shutdown: SIGTERM exit status and stderr", (status, err), (0, b""))
    if took > 3:
        problems.append(f"shutdown: SIGTERM took {took:.1f} s")
    expect(problems, "shutdown: busy client closed", busy.closed(), True)
    expect(problems, "shutdown: silent client closed", silent.closed(), True)

    maildir = pathlib.Path(tmp) / "once"
    proc, port = start(binary, maildir, "--once")
    silent = Raw(port)
    expect(problems, "--once: greeting", silent.reply()[:4], "220 ")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail("ada@example.org", ["bob@example.com"], "Subject: once\r\n\r\nbody\r\n")
    began = time.monotonic()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    took = time.monotonic() - began
    expect(problems, "--once: exit status", proc.returncode, 0)
    if took > 3:
        problems.append(f"--once: took {took:.1f} s to exit with a silent client open")
    expect(problems, "--once: silent client closed", silent.closed(), True)
    expect(problems, "--once: stored", len(new_files(maildir)), 1)
    return problems


def listen(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "listen"
    for address in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.org:0", "127.0.0.1:65536",
                    "127.0.0.1:", "::1:0", "127.0.0.1"]:
        run = subprocess.run([binary, "capture", "--listen", address, "--maildir", str(maildir)],
                             capture_output=True, text=True, timeout=10)
        expect(problems, f"--listen {address}: exit status", run.returncode, 64)
        if address in ("0.0.0.0:0", "[::]:0") and "--allow-remote" not in run.stderr:
            problems.append(f"--listen {address}: stderr does not name --allow-remote: "
                            f"{run.stderr!r}")
    for address, args, shown, connect in [
            ("0.0.0.0:0", ["--allow-remote"], "listening on 0.0.0.0:", "127.0.0.1"),
            (":0", [], "listening on 127.0.0.1:", "127.0.0.1"),
            ("127.0.0.2:0", [], "listening on 127.0.0.2:", "127.0.0.2"),
            ("[::1]:0", [], "listening on [::1]:", "::1")]:
        if connect == "::1":
            try:
                socket.socket(socket.AF_INET6).bind(("::1", 0))
            except OSError:
                print("listen: no IPv6 loopback here, [::1] not tried", file=sys.stderr)
                continue
        try:
            proc, port = start(binary, maildir, *args, listen=address, expect=shown)
        except Failed as e:
            problems.append(str(e))
            continue
        raw = Raw(port, host=connect)
        expect(problems, f"--listen {address}: greeting", raw.reply()[:4], "220 ")
        raw.close()
        status, _, err, _ = stop(proc)
        expect(problems, f"--listen {address}: exit status", (status, err), (0, b""))
    return problems


def files(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "parent" / "files"
    proc, port = start(binary, maildir, "--once")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
        s.sendmail("ada@example.org", ["bob@example.com"], "Subject: modes\r\n\r\nbody\r\n")
    proc.wait(timeout=10)
    for d in [maildir, maildir / "tmp", maildir / "new", maildir / "cur"]:
        expect(problems, f"mode of {d.name}/", oct(d.stat().st_mode & 0o777), oct(0o700))
    stored_files = new_files(maildir)
    expect(problems, "files stored", len(stored_files), 1)
    for f in stored_files:
        expect(problems, "mode of the message", oct(f.stat().st_mode & 0o777), oct(0o600))
    expect(problems, "tmp/ after storing", list((maildir / "tmp").iterdir()), [])
    return problems


def write_error(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "full"
    limit_bytes = 64 * 1024

    def small_files():  # in the child: as if the disk filled up at 64 KiB
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write(2) fails with EFBIG instead

    proc, port = start(binary, maildir, preexec_fn=small_files)
    try:
        raw = Raw(port)
        greet(raw, problems, "write error")
        transaction(raw, problems, "write error")
        raw.send(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 100 + b".\r\n")
        expect(problems, "write error: too big for the disk", raw.reply(),
               "451 4.3.0 Error: message not stored, try again later")
        expect(problems, "write error: tmp/ after the failure",
               list((maildir / "tmp").iterdir()), [])
        transaction(raw, problems, "write error, then")
        raw.send(b"Subject: small\r\n\r\nfits\r\n.\r\n")
        expect(problems, "write error: a small one after it", raw.reply()[:30],
               "250 2.0.0 Ok: queued as M1")
        raw.send(b"QUIT\r\n")
        expect(problems, "write error: QUIT", raw.reply(), "221 2.0.0 Bye")
    finally:
        status, _, err, _ = stop(proc)
    files = new_files(maildir)
    if len(files) != 1 or b"Subject: small" not in files[0].read_bytes():
        problems.append(f"write error: stored {files}")
    if b"message not stored" not in err or b"File too large" not in err:
        problems.append(f"write error: stderr {err!r}")
    return problems


def hostile(binary: str, tmp: str) -> list:
    problems = []
    maildir = pathlib.Path(tmp) / "hostile"
    proc, port = start(binary, maildir, "--allow-plaintext-auth", "--once")
    raw = Raw(port)
    expect(problems, "hostile: greeting", raw.reply()[:4], "220 ")
    raw.send(b"EHLO evil\rX-Injected: helo\x1b[31m\x07\x00\x7f\xc2\x9b\r\n")
    expect(problems, "hostile: EHLO", raw.reply()[:4], "250-")
    user = b"us\ner\x1b]0;owned\x07"
    raw.send(b"AUTH PLAIN " + base64.b64encode(b"\0" + user + b"\0pw") + b"\r\n")
    expect(problems, "hostile: AUTH", raw.reply()[:3], "235")
    raw.send(b"MAIL FROM:<a\x1b[2Jb\r@evil.test>\r\nRCPT TO:<bob\x07\r@example.com>\r\n"
             b"DATA\r\n")
    expect(problems, "hostile: envelope", [raw.reply()[:3] for _ in range(3)],
           ["250", "250", "354"])
    raw.send(b"Subject: hostile\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    expect(problems, "hostile: stored", raw.reply()[:30], "250 2.0.0 Ok: queued as M1")
    expect(problems, "hostile: QUIT", raw.reply(), "221 2.0.0 Bye")
    out, err = proc.communicate(timeout=10)
    expect(problems, "hostile: exit status", proc.returncode, 0)
    files = new_files(maildir)
    if len(files) != 1:
        return problems + [f"hostile: stored {files}"]
    text = files[0].read_bytes()
    head = text.split(b"\n\n", 1)[0]
    bad = sorted({b for b in head if (b < 0x20 and b not in b"\n\t") or b == 0x7f})
    expect(problems, "hostile: control bytes in the stored header", bad, [])
    if b"\xc2\x9b" in head:
        problems.append("hostile: a C1 control (U+009B, CSI) in the stored header")
    names = [line.split(b":")[0] for line in head.split(b"\n") if line and line[:1] not in b" \t"]
    expect(problems, "hostile: header fields", names,
           [b"Return-Path", b"X-Missive-Rcpt", b"Received", b"Subject"])
    msg = email.message_from_bytes(text, policy=email.policy.default)
    expect(problems, "hostile: Return-Path", msg["Return-Path"], "<a\\x1b[2Jb\\x0d@evil.test>")
    expect(problems, "hostile: X-Missive-Rcpt", msg["X-Missive-Rcpt"], "<bob\\x07\\x0d@example.com>")
    if "from evil\\x0dX-Injected: helo\\x1b[31m\\x07\\x00\\x7f\\u009b (127.0.0.1)" \
            not in str(msg["Received"]):
        problems.append(f"hostile: Received {msg['Received']!r}")
    lines = out.split(b"\n")  # after "listening on": the message's line, then nothing
    expect(problems, "hostile: lines printed", len(lines), 2)
    printed = lines[0]
    bad = sorted({b for b in printed if b < 0x20 or b == 0x7f})
    expect(problems, "hostile: control bytes printed", bad, [])
    for part in [b"from=<a\\x1b[2Jb\\x0d@evil.test>", b"to=bob\\x07\\x0d@example.com",
                 b"user=us\\x0aer\\x1b]0;owned\\x07"]:
        if part not in printed:
            problems.append(f"hostile: {part!r} not in the printed line {printed!r}")
    return problems


SCENARIOS = {f.__name__: f for f in [clients, smuggling, limit, idle, shutdown, listen, files,
                                      write_error, hostile]}


def main() -> int:
    binary = sys.argv[1]
    names = sys.argv[2:] or list(SCENARIOS)
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                problems = SCENARIOS[name](binary, tmp)
            except (Failed, OSError, subprocess.SubprocessError) as e:
                problems = [f"{name}: {type(e).__name__}: {e}"]
        for p in problems:
            print(f"{name}: {p}", file=sys.stderr)
        print(f"capture {name}: {len(problems)} problems")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
