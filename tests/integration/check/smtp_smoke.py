#!/usr/bin/env python3
"""Proves the integration fixtures with an independent client: Python's smtplib sends one
message to each mail server that tests/integration/scripts/setup.sh started, and the message
must arrive where that server puts it.

usage: smtp_smoke.py DIR   (DIR holds the env file written by setup.sh)
"""
import pathlib
import smtplib
import ssl
import sys
import time
import uuid


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    env = dict(line.split("=", 1) for line in (root / "env").read_text().splitlines() if line)
    tls = ssl.create_default_context(cafile=env.get("MISSIVE_TEST_CA_FILE"))

    def smtp(port):
        return smtplib.SMTP("127.0.0.1", port, timeout=10)

    def smtps(port):
        return smtplib.SMTP_SSL("127.0.0.1", port, timeout=10, context=tls)

    def lmtp(port):
        s = smtplib.LMTP("127.0.0.1", port)
        s.sock.settimeout(10)
        return s

    def submission(port):  # Dovecot: STARTTLS, then AUTH; relays to the smtp-sink "sink"
        s = smtp(port)
        s.starttls(context=tls)
        s.login("alice", "Secret123")
        return s

    # (env key, how to connect, recipient, where the message lands, required)
    targets = [
        ("MISSIVE_TEST_SINK_PORT", smtp, "bob@example.com", root / "sink", True),
        ("MISSIVE_TEST_SINK_NOPIPE_PORT", smtp, "bob@example.com", root / "sink_nopipe", True),
        ("MISSIVE_TEST_SINK_LMTP_PORT", lmtp, "bob@example.com", root / "sink_lmtp", False),
        ("MISSIVE_TEST_POSTFIX_PORT", smtp, "bob@example.com", root / "mail", True),
        ("MISSIVE_TEST_POSTFIX_PLAIN_PORT", smtp, "bob@example.com", root / "mail", True),
        ("MISSIVE_TEST_POSTFIX_IMPLICIT_PORT", smtps, "bob@example.com", root / "mail", False),
        ("MISSIVE_TEST_DOVECOT_SUBMISSION_PORT", submission, "bob@example.com", root / "sink",
         False),
        ("MISSIVE_TEST_DOVECOT_LMTP_PORT", lmtp, "alice", root / "dovecot/home/alice", False),
    ]
    failed = 0
    for key, connect, rcpt, where, required in targets:
        if key not in env:
            if required:
                print(f"{key}: missing from {root / 'env'}")
                failed += 1
            continue
        token = uuid.uuid4().hex
        try:
            with connect(int(env[key])) as s:
                refused = s.sendmail("smoke@example.org", [rcpt],
                                     f"Subject: smoke {token}\r\n\r\nsmoke test\r\n")
                if refused:
                    raise smtplib.SMTPException(f"refused: {refused}")
        except (OSError, smtplib.SMTPException) as e:
            print(f"{key}: send failed: {e!r}")
            failed += 1
            continue
        deadline = time.time() + 10
        found = False
        while time.time() < deadline and not found:
            found = any(token in p.read_text(errors="replace")
                        for p in where.rglob("*") if p.is_file() and p.parent.name != "tmp")
            time.sleep(0.05)
        print(f"{key}: {'delivered' if found else 'NOT delivered'} ({where})")
        failed += not found
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
