"""matrix.py DIR MISSIVE DSN_SEND [SERVER…]: the interoperability matrix, run by tests/interop/run
once the servers are up (their ports in DIR/<name>.port, their certificate signed by DIR/ca.crt).

Every case runs the `missive` binary as a user would (`missive send --message FILE --server URL
--json --trace`), except DSN, which the command has no flags for: DSN_SEND (dsn_send.cpp, built
against the library) sends those. A case passes only when
- the exit status and the JSON outcome are the expected ones (each recipient's reply too),
- the dialogue (--trace) shows the feature on the wire (STARTTLS, AUTH <mechanism>, BODY=8BITMIME,
  SMTPUTF8, SIZE=, RET/ENVID/NOTIFY/ORCPT, LHLO),
- and the server's own delivery (its Maildir, or the file a Python/Node server wrote) holds the
  message: the bytes sent, unchanged, after the trace fields the server prepends (Received,
  Return-Path, Delivered-To …), and, parsed with Python's `email` package, the same header fields
  and the same decoded parts; one delivery per recipient for the Maildir servers.
A feature the server does not offer (as its EHLO after STARTTLS says) is n/a; where a message
needs it (SMTPUTF8, DSN, a size limit) the case still checks that missive refuses before MAIL.
Other outcomes: "defect", a server's documented breach of a standard, found exactly as documented;
"known", a failure that KNOWN_MISSIVE_DEFECTS lists (reported, not yet fixed in missive).
Writes DIR/matrix.json and prints the table (also as Markdown, with the notes, in DIR/matrix.md).
Exit status 1 when a case failed otherwise.
"""
import base64
import email
import email.parser
import email.policy
import glob
import json
import os
import random
import re
import subprocess
import sys
import time

DIR, MISSIVE, DSN_SEND = sys.argv[1:4]
ONLY = set(sys.argv[4:])
CA = f"{DIR}/ca.crt"
LOGS = f"{DIR}/logs"
MSGS = f"{DIR}/messages"
os.makedirs(LOGS, exist_ok=True)
os.makedirs(MSGS, exist_ok=True)
USER, PASSWORD = "alice", "Secret123"
SENDER = "ada@example.org"
RUN_ID = f"{os.getpid()}-{int(time.time())}"


def port(name):
    with open(f"{DIR}/{name}.port") as f:
        return int(f.read())


class Fail(Exception):
    pass


class NA(Exception):
    pass


class ServerDefect(Exception):
    """The server, not missive, breaks a standard here: the case checked everything else and
    found the documented defect as documented (if the server is fixed, the case fails)."""


# Defects of missive that a case shows, reported and not yet fixed: (feature, the start of the
# failure's text) -> the report. Such a failure prints as "known" and does not fail the run;
# any other failure does, and so does this case once it passes (then delete its line).
KNOWN_MISSIVE_DEFECTS = {}


# ---------------------------------------------------------------- where each server delivers

TRACE_FIELDS = {"return-path", "received", "delivered-to", "x-original-to", "envelope-to"}


class Store:
    """Delivered messages: files matching a glob, each complete once it is there (Maildir's
    tmp -> new rename; the Python and Node servers rename their .eml last)."""

    def __init__(self, pattern, exact, per_recipient, meta=False):
        self.pattern = pattern
        self.exact = exact  # bytes kept as received (CRLF, nothing prepended)
        self.per_recipient = per_recipient  # one file per recipient (an MTA's local delivery)
        self.meta = meta  # a .json beside each .eml: the envelope as the server saw it
        self.claimed = set()

    def find(self, marker, count, timeout=30.0, settle=0.3):
        """Waits until `count` unclaimed files hold `marker`, then `settle` more seconds to catch
        extra ones; returns [(path, bytes, meta)] and claims them."""
        deadline = time.monotonic() + timeout
        found = {}
        while True:
            for path in glob.glob(self.pattern):
                if path in self.claimed or path in found:
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                if marker in data:
                    found[path] = data
            if len(found) >= count:
                if settle:
                    time.sleep(settle)
                    settle = 0
                    continue
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.claimed.update(found)
        out = []
        for path, data in sorted(found.items()):
            meta = None
            if self.meta:
                with open(path[: -len(".eml")] + ".json", encoding="utf-8") as f:
                    meta = json.load(f)
            out.append((path, data, meta))
        if len(out) != count:
            raise Fail(f"{len(out)} deliveries of {marker.decode()} in {self.pattern}, expected {count}")
        return out


# ---------------------------------------------------------------- messages

def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def message(case, subject, body, to="bob@example.com", frm=f"Ada <{SENDER}>", extra=""):
    """A ready message with its own Date and Message-ID (so nothing is added on the way);
    returns (path, bytes, marker)."""
    marker = f"interop-{case}-{RUN_ID}@missive.test"
    text = (f"From: {frm}\nTo: {to}\nSubject: {subject}\n"
            f"Date: Sat, 28 Nov 2026 12:00:00 +0000\nMessage-ID: <{marker}>\n{extra}\n{body}")
    data = crlf(text)
    path = f"{MSGS}/{case}.eml"
    with open(path, "wb") as f:
        f.write(data)
    return path, data, marker.encode()


_blobs = {}


def big_message(case, mib=15):
    """About 20 MB (MIB=15): a text part and MIB MiB of random bytes, base64 (76-column lines)."""
    marker = f"interop-{case}-{RUN_ID}@missive.test"
    if mib not in _blobs:
        blob = random.Random(20261128).randbytes(mib * 1024 * 1024)
        _blobs[mib] = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    b64 = _blobs[mib]
    head = crlf(f"From: Ada <{SENDER}>\nTo: bob@example.com\nSubject: 20 MB\n"
                f"Date: Sat, 28 Nov 2026 12:00:00 +0000\nMessage-ID: <{marker}>\n"
                "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0undary\"\n\n"
                "--b0undary\nContent-Type: text/plain; charset=us-ascii\n\nA large attachment.\n"
                "--b0undary\nContent-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename=\"random.bin\"\n"
                "Content-Transfer-Encoding: base64\n\n")
    data = head + b64 + b"--b0undary--\r\n"
    path = f"{MSGS}/{case}.eml"
    with open(path, "wb") as f:
        f.write(data)
    return path, data, marker.encode()


def parts(msg):
    return [(p.get_content_type(), p.get_payload(decode=True).replace(b"\r\n", b"\n"))
            for p in msg.walk() if not p.is_multipart()]


def compare(sent, got, store):
    """The delivered bytes are the sent ones after the server's trace fields; the same fields
    and decoded parts by Python's email package. Returns the prepended trace fields (bytes)."""
    if store.exact:
        if got != sent:
            raise Fail(f"stored bytes differ from those sent ({len(got)} vs {len(sent)} octets)")
        prefix = b""
    else:
        s, g = sent.replace(b"\r\n", b"\n"), got.replace(b"\r\n", b"\n")
        if not g.endswith(s):
            i = next((k for k in range(min(len(s), len(g))) if s[-1 - k] != g[-1 - k]), None)
            raise Fail(f"delivered message does not end with the bytes sent (differ {i} octets "
                       f"from the end: sent ...{s[-(i or 0) - 40:][:80]!r}, got "
                       f"...{g[-(i or 0) - 40:][:80]!r})")
        prefix = g[: len(g) - len(s)]
        names = re.findall(rb"^([^\s:]+):", prefix, re.M)
        others = {n.decode().lower() for n in names} - TRACE_FIELDS
        if others:
            raise Fail(f"the server added fields other than trace fields: {sorted(others)}")
    p = email.parser.BytesParser(policy=email.policy.default)
    ms, mg = p.parsebytes(sent), p.parsebytes(got)
    for name in set(ms.keys()):
        if [str(v) for v in ms.get_all(name)] != [str(v) for v in mg.get_all(name) or []]:
            raise Fail(f"header {name}: sent {ms.get_all(name)}, delivered {mg.get_all(name)}")
    if parts(ms) != parts(mg):
        raise Fail("decoded MIME parts differ")
    return prefix


def envelope_rcpts(prefix, path=""):
    """The recipient of one delivery: what the MTA's trace fields name (X-Original-To,
    Envelope-to, Delivered-To), else (Dovecot LMTP adds Delivered-To only for a message with a
    single recipient) the user whose Maildir holds it."""
    for name in (b"X-Original-To", b"Envelope-to", b"Delivered-To"):
        m = re.search(rb"^" + name + rb":[ \t]*(.*?)[ \t]*$", prefix, re.M | re.I)
        if m:
            return m.group(1).decode("utf-8", "replace")
    m = re.search(r"/dovecot/home/([^/]+)/Maildir/", path)
    if m:
        return m.group(1) if "@" in m.group(1) else f"{m.group(1)}@example.com"
    return None


# ---------------------------------------------------------------- running missive

class Run:
    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        try:
            self.json = json.loads(out) if out.strip() else None
        except ValueError:
            self.json = None

    def client_lines(self):
        return [l[3:] for l in self.err.splitlines() if l.startswith("C: ")]

    def ehlo(self):
        """Keywords of the last EHLO/LHLO reply in the trace."""
        blocks, cur, in_ehlo = [], [], False
        for line in self.err.splitlines():
            if line.startswith("C: "):
                in_ehlo = line[3:].upper().startswith(("EHLO", "LHLO"))
                cur = []
                if in_ehlo:
                    blocks.append(cur)
            elif line.startswith("S: ") and in_ehlo:
                cur.append(line[7:].split(" ")[0].upper() if len(line) > 7 else "")
        return set(blocks[-1][1:]) if blocks else set()


def log(case, run):
    with open(f"{LOGS}/{case}.log", "a", encoding="utf-8") as f:
        f.write("$ " + " ".join(run.argv) + f"\nexit {run.rc}\n--- stdout\n{run.out}\n--- stderr\n{run.err}\n")


def missive(case, url, msg, to=(), password=None, user=USER, extra=()):
    argv = [MISSIVE, "send"] + (["--message", msg] if msg else []) + [
        "--server", url, "--ca-file", CA, "--json", "--trace", "--timeout", "60"]
    for t in to:
        argv += ["--to", t]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISSIVE_")}
    env["XDG_CONFIG_HOME"] = f"{DIR}/xdg"  # no user's config file
    env["XDG_STATE_HOME"] = f"{DIR}/xdg"
    if password is not None:
        argv += ["--user", user]
        env["MISSIVE_PASSWORD"] = password
    argv += list(extra)
    p = subprocess.run(argv, capture_output=True, env=env, timeout=600)
    run = Run(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
              p.stderr.decode("utf-8", "replace"))
    log(case, run)
    return run


def dsn_send(case, url, to, envid, msg):
    argv = [DSN_SEND, url, SENDER, to, envid, msg]
    p = subprocess.run(argv, capture_output=True, timeout=600)
    run = Run(argv, p.returncode, "", p.stderr.decode("utf-8", "replace"))
    run.out = p.stdout.decode("utf-8", "replace")
    log(case, run)
    return run


def expect_sent(run, recipients):
    if run.rc != 0:
        last = run.err.strip().splitlines()[-1:] or [""]
        raise Fail(f"exit {run.rc}: {last[0]}")
    j = run.json
    if not j or j.get("status") != "sent":
        raise Fail(f"JSON status {j and j.get('status')!r}, expected 'sent'")
    got = [(r["address"], r["accepted"]) for r in j["recipients"]]
    if got != [(r, True) for r in recipients]:
        raise Fail(f"recipients {got}")


def wire(run, pattern, what):
    if not any(re.search(pattern, l) for l in run.client_lines()):
        raise Fail(f"{what} not on the wire (no client line matching {pattern!r})")


# ---------------------------------------------------------------- the servers

POSTFIX_MAIL = Store(f"{DIR}/mail/inbox/new/*", exact=False, per_recipient=True)


class Server:
    def __init__(self, key, name, port, implicit, store, mechs=(), needs_auth=False, lmtp=False,
                 na=None):
        self.key, self.name = key, name
        self.port_name, self.implicit_name = port, implicit
        self.store, self.mechs, self.needs_auth, self.lmtp = store, mechs, needs_auth, lmtp
        self.caps = None
        self.na = na or {}  # why a feature is n/a, where EHLO alone does not say it

    def url(self, scheme, query=""):
        p = port(self.implicit_name if scheme == "smtps" else self.port_name)
        return f"{scheme}://127.0.0.1:{p}{query}"

    def auth(self):
        """Password for a case that is not about AUTH: only a server that requires it gets one."""
        return PASSWORD if self.needs_auth else None


SERVERS = [
    # Postfix's AUTH is Dovecot's SASL (smtpd_sasl_type = dovecot), as in most deployments.
    Server("postfix", "Postfix 3.7 smtpd", "postfix", "postfix_implicit", POSTFIX_MAIL,
           mechs=("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256")),
    # The same smtpd without PIPELINING and CHUNKING: one command at a time, DATA, dot-stuffing.
    Server("postfix_plain", "Postfix 3.7 smtpd, no PIPELINING/CHUNKING", "postfix_plain", None,
           POSTFIX_MAIL, mechs=("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"),
           na={"implicit": "one port per variant: implicit TLS is in the row above"}),
    # Dovecot's submission service relays to the Postfix above: its mail lands in Postfix's Maildir.
    Server("dovecot", "Dovecot 2.3 submission", "dovecot_submission", "dovecot_submissions",
           POSTFIX_MAIL, mechs=("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"),
           needs_auth=True, na={"DSN": "not offered before AUTH: Dovecot offers its relay's DSN "
                                       "only in an EHLO sent after AUTH, which RFC 4954 does not "
                                       "ask a client to send"}),
    Server("lmtp", "Dovecot 2.3 LMTP", "dovecot_lmtp", None,
           Store(f"{DIR}/dovecot/home/*/Maildir/new/*", exact=False, per_recipient=True), lmtp=True,
           na={"AUTH": "LMTP has no AUTH", "DSN": "not offered",
               "too large": "no size limit: Dovecot's LMTP has none (no SIZE in LHLO)"}),
    Server("exim", "Exim 4.96", "exim", "exim_implicit",
           Store(f"{DIR}/exim/Maildir/new/*", exact=False, per_recipient=True),
           mechs=("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256")),
    Server("opensmtpd", "OpenSMTPD 6.8", "opensmtpd", "opensmtpd_implicit",
           Store(f"{DIR}/opensmtpd/Maildir/new/*", exact=False, per_recipient=True),
           mechs=("PLAIN", "LOGIN")),
    Server("aiosmtpd", "aiosmtpd 1.4 (Python)", "aiosmtpd", "aiosmtpd_implicit",
           Store(f"{DIR}/aiosmtpd/mail/*.eml", exact=True, per_recipient=False, meta=True),
           mechs=("PLAIN", "LOGIN")),
    Server("smtp_server", "smtp-server 3.21 (Node)", "smtp_server", "smtp_server_implicit",
           Store(f"{DIR}/smtp_server/mail/*.eml", exact=True, per_recipient=False, meta=True),
           mechs=("PLAIN", "LOGIN", "CRAM-MD5")),
    Server("smtp_server_lmtp", "smtp-server 3.21 (Node) LMTP", "smtp_server_lmtp", None,
           Store(f"{DIR}/smtp_server/mail/*.eml", exact=True, per_recipient=False, meta=True),
           lmtp=True, na={"AUTH": "LMTP without AUTH here (disabledCommands)"}),
]


def scheme(s):
    """LMTP has one scheme; STARTTLS is what lmtp:// does when offered."""
    return "lmtp" if s.lmtp else "submission"


def meta_tls(s, meta):
    if meta is not None and meta.get("tls") is not True:
        raise Fail(f"the server saw no TLS: {meta}")


def deliver_check(s, sent, marker, recipients, tls=None):
    """The message reached every recipient, bytes intact; returns the deliveries."""
    n = len(recipients) if s.store.per_recipient else 1
    got = s.store.find(marker, n)
    seen = set()
    for path, data, meta in got:
        prefix = compare(sent, data, s.store)
        if s.store.per_recipient:
            seen.add(envelope_rcpts(prefix, path))
            if tls and b"TLS" not in prefix:  # in the server's Received field
                raise Fail(f"no TLS in the server's Received field of {path}")
        else:
            seen.update(meta.get("rcpt_tos") or [r["address"] for r in meta["envelope"]["rcptTo"]])
            if tls:
                meta_tls(s, meta)
    if seen != set(recipients):
        raise Fail(f"delivered to {sorted(seen)[:5]}…, expected {sorted(recipients)[:5]}…")
    return got


# ---------------------------------------------------------------- the features

# Lines that DATA must dot-stuff (RFC 5321 4.5.2) and BDAT must not: a lone dot first of all.
DOTS = ".\n..\n.leading dot\n. \nlast line\n"


def case_plain(s):
    path, sent, marker = message(f"{s.key}-plain", "plain", "Plain text, no TLS.\n" + DOTS)
    url = s.url("lmtp" if s.lmtp else "smtp")
    rcpt = ["bob@example.com"]
    run = missive(f"{s.key}-plain", url, path, to=rcpt, password=s.auth(), extra=["--tls", "none"])
    expect_sent(run, rcpt)
    if any(l.upper().startswith("STARTTLS") for l in run.client_lines()):
        raise Fail("STARTTLS sent with --tls none")
    got = deliver_check(s, sent, marker, rcpt)
    for _, _, meta in got:
        if meta is not None and meta.get("tls"):
            raise Fail("the server saw TLS")
    return "pass"


def case_starttls(s):
    path, sent, marker = message(f"{s.key}-starttls", "starttls", "Over STARTTLS.\n" + DOTS)
    rcpt = ["bob@example.com"]
    url = s.url(scheme(s))
    run = missive(f"{s.key}-starttls", url, path, to=rcpt, password=s.auth(),
                  extra=["--tls", "required"] if s.lmtp else [])
    expect_sent(run, rcpt)
    wire(run, r"^STARTTLS$", "STARTTLS")
    s.caps = run.ehlo()
    if "CHUNKING" not in s.caps and any(l.startswith("BDAT") for l in run.client_lines()):
        raise Fail("BDAT sent, yet CHUNKING not offered")
    deliver_check(s, sent, marker, rcpt, tls=s.key not in ("dovecot", "lmtp"))
    return "pass"


def case_implicit(s):
    if not s.implicit_name:
        raise NA(s.na.get("implicit", "LMTP over STARTTLS only here"))
    path, sent, marker = message(f"{s.key}-implicit", "implicit", "Over implicit TLS.\n" + DOTS)
    run = missive(f"{s.key}-implicit", s.url("smtps"), path, password=s.auth())
    expect_sent(run, ["bob@example.com"])
    if any(l.upper().startswith("STARTTLS") for l in run.client_lines()):
        raise Fail("STARTTLS inside implicit TLS")
    deliver_check(s, sent, marker, ["bob@example.com"], tls=s.key not in ("dovecot", "lmtp"))
    return "pass"


def make_auth_case(mech):
    def case(s):
        if mech not in s.mechs:
            raise NA(s.na.get("AUTH", f"{mech} not offered"))
        key = f"{s.key}-auth-{mech}"
        path, sent, marker = message(key, f"AUTH {mech}", f"Logged in with {mech}.\n")
        run = missive(key, s.url("submission", f"?auth={mech}"), path, password=PASSWORD)
        expect_sent(run, ["bob@example.com"])
        wire(run, rf"^AUTH {re.escape(mech)}\b", f"AUTH {mech}")
        if PASSWORD in run.err or base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode() in run.err:
            raise Fail("the password is in the trace")
        got = deliver_check(s, sent, marker, ["bob@example.com"], tls=s.key != "dovecot")
        for _, _, meta in got:
            if meta is not None and (meta.get("auth") or meta.get("user")) != USER:
                raise Fail(f"the server did not see the login: {meta}")
        return "pass"
    return case


def case_bad_password(s):
    if not s.mechs:
        raise NA(s.na.get("AUTH", "no AUTH"))
    key = f"{s.key}-badpass"
    path, sent, marker = message(key, "bad password", "Must not be delivered.\n")
    run = missive(key, s.url("submission"), path, password="wrong-password")
    if run.rc != 77:
        raise Fail(f"exit {run.rc}, expected 77 (authentication refused)")
    if not run.json or run.json.get("status") != "failed":
        raise Fail(f"JSON status {run.json and run.json.get('status')!r}, expected 'failed'")
    if any(l.upper().startswith(("MAIL ", "DATA", "BDAT")) for l in run.client_lines()):
        raise Fail("a transaction began after the refused login")
    return "pass"


def case_8bitmime(s):
    key = f"{s.key}-8bit"
    body = "Grüße aus Köln: ünïcödé, 日本語, emoji 📨.\n"
    rcpt = ["bob@example.com"]
    path, sent, marker = message(key, "8bit body", body, extra=(
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"))
    if s.caps is not None and "8BITMIME" not in s.caps:
        raise NA("8BITMIME not offered")
    run = missive(key, s.url(scheme(s)), path, to=rcpt, password=s.auth())
    expect_sent(run, rcpt)
    wire(run, r"^MAIL FROM:.* BODY=8BITMIME", "BODY=8BITMIME")
    for _, _, meta in deliver_check(s, sent, marker, rcpt):
        if meta is not None:
            opts = meta.get("mail_options") or [f"BODY={meta['envelope']['bodyType']}".upper()]
            if "BODY=8BITMIME" not in [o.upper() for o in opts]:
                raise Fail(f"the server saw no BODY=8BITMIME: {opts}")
    return "pass"


def case_8bit_composed(s):
    """A message the missive command composes (--text): 8bit when offered, with BODY=8BITMIME."""
    if s.caps is not None and "8BITMIME" not in s.caps:
        raise NA("8BITMIME not offered")
    key = f"{s.key}-8bit-composed"
    marker = f"interop-{key}-{RUN_ID}@missive.test"
    text = "Grüße aus Köln: ünïcödé, 日本語, emoji 📨.\n"
    run = missive(key, s.url(scheme(s)), None, to=["bob@example.com"], password=s.auth(),
                  extra=["--from", f"Ada <{SENDER}>", "--subject", f"composed {marker}",
                         "--text", text])
    expect_sent(run, ["bob@example.com"])
    wire(run, r"^MAIL FROM:.* BODY=8BITMIME", "BODY=8BITMIME")
    (path, data, meta), = s.store.find(marker.encode(), 1)
    m = email.parser.BytesParser(policy=email.policy.default).parsebytes(data)
    if m["Content-Transfer-Encoding"] != "8bit":
        raise Fail(f"Content-Transfer-Encoding {m['Content-Transfer-Encoding']}, expected 8bit")
    if m.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") != text.rstrip("\n"):
        raise Fail("the delivered text differs from --text")
    if str(m["Subject"]) != f"composed {marker}" or str(m["From"]) != f"Ada <{SENDER}>":
        raise Fail(f"Subject/From: {m['Subject']!r} {m['From']!r}")
    return "pass"


def case_smtputf8(s):
    offered = s.caps is None or "SMTPUTF8" in s.caps
    key = f"{s.key}-utf8"
    rcpt = "δοκιμή@example.com"
    path, sent, marker = message(key, "Grüße, ünïcödé", "Internationalised addresses.\n",
                                 to=f"Δοκιμή <{rcpt}>", frm="Jörg <jörg@example.org>", extra=(
                                     "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                                     "Content-Transfer-Encoding: 8bit\n"))
    run = missive(key, s.url(scheme(s)), path, password=s.auth())
    if not offered:
        # Not offered: missive must refuse the non-ASCII addresses before MAIL (RFC 6531 3.4).
        if run.rc != 65 or any(l.upper().startswith("MAIL ") for l in run.client_lines()):
            raise Fail(f"SMTPUTF8 not offered, yet exit {run.rc} (expected 65 before MAIL)")
        raise NA("not offered; missive refuses the UTF-8 address before MAIL (exit 65)")
    expect_sent(run, [rcpt])
    wire(run, r"^MAIL FROM:<jörg@example\.org>.* SMTPUTF8", "MAIL FROM:<jörg@…> SMTPUTF8")
    wire(run, rf"^RCPT TO:<{rcpt}>", "RCPT TO:<δοκιμή@…>")
    for _, _, meta in deliver_check(s, sent, marker, [rcpt]):
        if meta is not None and not (meta.get("smtp_utf8") or meta.get("envelope", {}).get("smtpUtf8")):
            raise Fail(f"the server saw no SMTPUTF8: {meta}")
    return "pass"


def case_big(s):
    key = f"{s.key}-20mb"
    path, sent, marker = big_message(key)
    rcpt = ["bob@example.com"]
    t0 = time.monotonic()
    run = missive(key, s.url(scheme(s)), path, to=rcpt, password=s.auth())
    secs = time.monotonic() - t0
    expect_sent(run, rcpt)
    if s.caps is None or "SIZE" in s.caps:
        wire(run, rf"^MAIL FROM:.* SIZE={len(sent)}\b", f"SIZE={len(sent)}")
    deliver_check(s, sent, marker, rcpt)
    return f"pass ({len(sent) / 1e6:.1f} MB, {secs:.1f} s)"


def case_too_large(s):
    """A message over the server's limit (every server here is set to 30 MiB, Postfix to 40):
    refused with exit 69; before any data is sent when the server's SIZE says its limit."""
    if "too large" in s.na:
        raise NA(s.na["too large"])
    key = f"{s.key}-toolarge"
    path, sent, marker = big_message(key, mib=32)  # 44.8 MB
    rcpt = ["bob@example.com"]
    run = missive(key, s.url(scheme(s)), path, to=rcpt, password=s.auth())
    j = run.json or {}
    if run.rc != 69 or j.get("status") != "failed":
        raise Fail(f"exit {run.rc}, JSON status {j.get('status')!r}: expected 69, 'failed'")
    sizes = [l for l in run.err.splitlines() if re.match(r"S: 250[- ]SIZE \d+", l)]
    lines = run.client_lines()
    error = j.get("error") or {}
    if sizes:
        # The limit is known: refused before MAIL, nothing uploaded (errc::message_too_large).
        if any(l.upper().startswith(("MAIL", "DATA", "BDAT")) for l in lines):
            raise Fail("the server's SIZE says its limit, yet missive began the transaction")
        if error.get("kind") != "message_too_large":
            raise Fail(f"error {error}, expected message_too_large")
        how = "refused before MAIL"
    else:
        # No limit known (Dovecot's SIZE has no value before AUTH): SIZE= on MAIL tells the
        # server, which must refuse, at MAIL or after the data, with 552.
        wire(run, rf"^MAIL FROM:.* SIZE={len(sent)}\b", f"SIZE={len(sent)}")
        if (j.get("reply") or {}).get("code") != 552:
            raise Fail(f"final reply {j.get('reply')}, expected 552")
        how = f"552 at {'MAIL' if not any(l.startswith(('DATA', 'BDAT')) for l in lines) else 'the end of the data'}"
    time.sleep(0.5)
    if any(marker in open(p, "rb").read() for p in glob.glob(s.store.pattern)
           if p not in s.store.claimed):
        raise Fail("the message was delivered")
    return f"pass ({len(sent) / 1e6:.1f} MB, {how})"


def case_100(s):
    key = f"{s.key}-100rcpt"
    rcpts = [f"r{i:03}@example.com" for i in range(1, 101)]  # LMTP: users made by `run`
    path, sent, marker = message(key, "100 recipients", "One message, a hundred recipients.\n",
                                 to="undisclosed-recipients:;")
    run = missive(key, s.url(scheme(s)), path, to=rcpts, password=s.auth())
    expect_sent(run, rcpts)
    if sum(1 for l in run.client_lines() if l.upper().startswith("RCPT TO:")) != 100:
        raise Fail("not 100 RCPT commands")
    deliver_check(s, sent, marker, rcpts)
    return "pass"


def case_refused(s):
    key = f"{s.key}-refused"
    good, bad = ("bob@example.com", "nobody@example.com") if s.lmtp else ("ok@example.com", "rej@example.com")
    path, sent, marker = message(key, "one refused", "One recipient is refused.\n")
    run = missive(key, s.url(scheme(s)), path, to=[good, bad], password=s.auth())
    if run.rc != 0:
        raise Fail(f"exit {run.rc}, expected 0 (some recipients refused is a result)")
    j = run.json or {}
    if j.get("status") != "partial":
        raise Fail(f"JSON status {j.get('status')!r}, expected 'partial'")
    rs = {r["address"]: r for r in j["recipients"]}
    if not rs.get(good, {}).get("accepted"):
        raise Fail(f"{good} not accepted: {rs.get(good)}")
    r = rs.get(bad) or {}
    if r.get("accepted") is not False or r.get("code") != 550:
        raise Fail(f"{bad}: {r}, expected refused with 550")
    if f"{bad} refused: 550" not in run.err:
        raise Fail(f"stderr does not list {bad} as refused")
    deliver_check(s, sent, marker, [good])
    return f"pass ({r['code']} {r.get('enhanced') or ''} {r.get('text')})".replace("  ", " ")


def case_dsn(s):
    offered = s.caps is None or "DSN" in s.caps
    key = f"{s.key}-dsn"
    envid = f"envid-{s.key}-{RUN_ID}"
    rcpt = "bob@example.com"
    path, sent, marker = message(key, "DSN", "Please notify me.\n")
    url = s.url(scheme(s), f"?ca={CA}")
    if s.needs_auth:
        url = url.replace("://", f"://{USER}:{PASSWORD}@", 1)
    run = dsn_send(key, url, rcpt, envid, path)
    if not offered:
        # Not offered: the library refuses RET/NOTIFY before MAIL (invalid_input).
        if run.rc != 1 or "does not offer DSN" not in run.err or any(
                l.upper().startswith("MAIL ") for l in run.client_lines()):
            raise Fail(f"DSN not offered, yet exit {run.rc}: {run.err.strip()[-200:]}")
        raise NA(s.na.get("DSN", "not offered") + "; missive refuses the DSN parameters "
                 "before MAIL")
    if run.rc != 0 or f"{rcpt} accepted" not in run.out:
        raise Fail(f"exit {run.rc}: {(run.err.strip().splitlines() or [''])[-1]}")
    wire(run, rf"^MAIL FROM:<{SENDER}>.* RET=HDRS ENVID={envid}", "RET=HDRS ENVID=")
    wire(run, rf"^RCPT TO:<{rcpt}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;{rcpt}", "NOTIFY= ORCPT=")
    if s.store.meta:
        got = deliver_check(s, sent, marker, [rcpt])
        env = got[0][2]["envelope"]
        want = ({"ret": "HDRS", "envid": envid}, {"notify": ["SUCCESS", "FAILURE"], "orcpt": f"rfc822;{rcpt}"})
        if (env.get("dsn"), env["rcptTo"][0].get("dsn")) != want:
            raise Fail(f"the server saw {env.get('dsn')} {env['rcptTo'][0].get('dsn')}")
        return "pass"
    # An MTA honours NOTIFY=SUCCESS with a delivery report to the sender (RFC 3464), which
    # lands in the same catch-all Maildir; it names the ENVID and returns only the headers
    # (which hold the marker too).
    both = s.store.find(marker, 2)
    reports = [d for _, d, _ in both if b"message/delivery-status" in d]
    if len(reports) != 1:
        raise Fail(f"{len(reports)} delivery reports, expected 1")
    data = reports[0]
    original = [d for _, d, _ in both if d is not data][0]
    prefix = compare(sent, original, s.store)
    if envelope_rcpts(prefix) != rcpt:
        raise Fail(f"delivered to {envelope_rcpts(prefix)}, expected {rcpt}")
    report = email.message_from_bytes(data, policy=email.policy.compat32)
    status = [p for p in report.walk() if p.get_content_type() == "message/delivery-status"]

    def norm(x):
        return re.sub(r"\s+", " ", x).lower().replace("; ", ";")

    text = norm(status[0].as_string())
    for want in ("Action: delivered", f"Final-Recipient: rfc822;{rcpt}"):
        if norm(want) not in text:
            raise Fail(f"the delivery report lacks {want!r}")
    if b"Please notify me." in data:
        raise Fail("RET=HDRS, yet the report returned the body")
    missing = [w for w in (f"Original-Envelope-Id: {envid}", f"Original-Recipient: rfc822;{rcpt}")
               if norm(w) not in text]
    kind = report.get_content_type()
    if s.key == "opensmtpd" and kind == "multipart/mixed" and len(missing) == 2:
        # Seen with OpenSMTPD 6.8.0p2: it honours NOTIFY=SUCCESS and RET=HDRS, but its report
        # is multipart/mixed and drops ENVID and ORCPT (RFC 3464 2.2.1, 2.3.1; RFC 6522 3).
        raise ServerDefect("report is multipart/mixed, without Original-Envelope-Id and "
                           "Original-Recipient: OpenSMTPD keeps neither ENVID nor ORCPT "
                           "(NOTIFY=SUCCESS and RET=HDRS honoured)")
    if kind != "multipart/report":
        raise Fail(f"the notification is {kind}, not multipart/report")
    if missing:
        raise Fail(f"the delivery report lacks {missing}")
    return "pass"


def case_lmtp(s):
    if not s.lmtp:
        raise NA("an SMTP server")
    key = f"{s.key}-lmtp"
    path, sent, marker = message(key, "LMTP", "Per-recipient replies.\n")
    # carol's home cannot be made: RCPT 250, then 451 after the data, for her alone.
    rcpts = ["r001@example.com", "bob@example.com", "nobody@example.com", "carol@example.com"]
    run = missive(key, s.url("lmtp"), path, to=rcpts)
    if run.rc != 0:
        raise Fail(f"exit {run.rc}, expected 0")
    wire(run, r"^LHLO ", "LHLO")
    j = run.json or {}
    rs = {r["address"]: r for r in j.get("recipients", [])}
    want = {"r001@example.com": (True, 250), "bob@example.com": (True, 250),
            "nobody@example.com": (False, 550), "carol@example.com": (False, 451)}
    got = {a: (r["accepted"], r["code"]) for a, r in rs.items()}
    if got != want or j.get("status") != "partial":
        raise Fail(f"status {j.get('status')!r}, recipients {got}, expected partial {want}")
    if "Saved" not in rs["r001@example.com"]["text"] or "Saved" not in rs["bob@example.com"]["text"]:
        raise Fail("the accepted recipients do not carry their own post-data reply (Saved)")
    if s.store.meta:
        # One stored copy; the server saw the three recipients it accepted at RCPT.
        (path, data, meta), = s.store.find(marker, 1)
        compare(sent, data, s.store)
        seen = [r["address"] for r in meta["envelope"]["rcptTo"]]
        if seen != ["r001@example.com", "bob@example.com", "carol@example.com"]:
            raise Fail(f"the server saw RCPT {seen}")
    else:
        deliver_check(s, sent, marker, ["r001@example.com", "bob@example.com"])
    return "pass (2 saved, 550 at RCPT, 451 after data)"


FEATURES = [
    ("plain", case_plain),
    ("STARTTLS", case_starttls),
    ("implicit TLS", case_implicit),
] + [(f"AUTH {m}", make_auth_case(m)) for m in ("PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
                                                  "SCRAM-SHA-256")] + [
    ("bad password", case_bad_password),
    ("8BITMIME composed", case_8bit_composed),
    ("8BITMIME --message", case_8bitmime),
    ("SMTPUTF8", case_smtputf8),
    ("20 MB", case_big),
    ("too large", case_too_large),
    ("100 rcpts", case_100),
    ("refused rcpt", case_refused),
    ("DSN", case_dsn),
    ("LMTP", case_lmtp),
]


def main():
    results = {}
    t_all = time.monotonic()
    for s in SERVERS:
        if ONLY and s.key not in ONLY:
            continue
        results[s.key] = {}
        for feature, fn in FEATURES:
            t0 = time.monotonic()
            try:
                status, note = "pass", fn(s)
            except NA as e:
                status, note = "n/a", str(e)
            except ServerDefect as e:
                status, note = "defect", str(e)
            except Fail as e:
                status, note = "FAIL", str(e)
                for (feat, start), why in KNOWN_MISSIVE_DEFECTS.items():
                    if feat == feature and note.startswith(start):
                        status, note = "known", f"missive defect: {why} ({note})"
            except Exception as e:  # a bug here, or a server that broke down: still a failure
                status, note = "FAIL", f"{type(e).__name__}: {e}"
            results[s.key][feature] = {"status": status, "note": note}
            print(f"{s.name:26} {feature:15} {status:4}  {note if status != 'pass' or note != 'pass' else ''}"
                  f"  [{time.monotonic() - t0:.1f} s]", flush=True)
    with open(f"{DIR}/matrix.json", "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    names = {s.key: s.name for s in SERVERS}
    cols = [f for f, _ in FEATURES]
    short = {"pass": "pass", "n/a": "n/a", "FAIL": "FAIL", "defect": "srv defect",
             "known": "FAIL (known)"}
    print()
    width = max(len(names[k]) for k in results)
    print(" " * width + " | " + " | ".join(cols))
    for k, row in results.items():
        print(f"{names[k]:{width}} | " + " | ".join(f"{short[row[c]['status']]:{len(c)}}" for c in cols))
    # Markdown for the README: every cell that is not a plain pass points to its note.
    notes = []

    def cell(c):
        if c["status"] == "pass" and c["note"] == "pass":
            return "pass"
        text = re.sub(r"-\d+-\d+(@missive\.test)?", "", c["note"])  # run ids
        if text.startswith("pass ("):
            return text
        if text not in notes:
            notes.append(text)
        return f"{short[c['status']]} [{notes.index(text) + 1}]"

    with open(f"{DIR}/matrix.md", "w") as f:
        f.write("| server | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n")
        for k, row in results.items():
            f.write(f"| {names[k]} | " + " | ".join(cell(row[c]) for c in cols) + " |\n")
        f.write("\n" + "".join(f"{i}. {n}\n" for i, n in enumerate(notes, 1)))
    passed = sum(1 for r in results.values() for c in r.values() if c["status"] == "pass")
    failed = sum(1 for r in results.values() for c in r.values() if c["status"] == "FAIL")
    na = sum(1 for r in results.values() for c in r.values() if c["status"] in ("n/a", "defect"))
    known = sum(1 for r in results.values() for c in r.values() if c["status"] == "known")
    known_passed = {f for r in results.values() for f, c in r.items() if c["status"] == "pass"
                    and any(f == kf for kf, _ in KNOWN_MISSIVE_DEFECTS)}
    if known_passed:
        print(f"interop: known missive defects now pass for {sorted(known_passed)} on some "
              "server: check and delete them from KNOWN_MISSIVE_DEFECTS")
    print(f"\ninterop matrix: {time.monotonic() - t_all:.0f} s; logs of every case in {LOGS}/")
    print(f"interop: {known} cases fail for a known missive defect (KNOWN_MISSIVE_DEFECTS)")
    print(f"interop: {passed} passed, {failed} failed, {na + known} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
