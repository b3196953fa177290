#!/usr/bin/env python3
"""Proves the integration fixtures with an independent client: Python's smtplib sends one
message to each server that tests/integration/scripts/setup.sh started, and the message must
arrive where that server puts it.

usage: smtp_smoke.py DIR   (DIR holds the env file written by setup.sh)
"""
import pathlib
import smtplib
import sys
import time
import uuid


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    env = dict(line.split("=", 1) for line in (root / "env").read_text().split())
    targets = [
        ("MISSIVE_TEST_SINK_PORT", root / "sink"),
        ("MISSIVE_TEST_SINK_NOPIPE_PORT", root / "sink_nopipe"),
        ("MISSIVE_TEST_POSTFIX_PORT", root / "mail"),
        ("MISSIVE_TEST_POSTFIX_PLAIN_PORT", root / "mail"),
    ]
    failed = 0
    for key, where in targets:
        token = uuid.uuid4().hex
        with smtplib.SMTP("127.0.0.1", int(env[key]), timeout=10) as s:
            s.sendmail("smoke@example.org", ["bob@example.com"],
                       f"Subject: smoke {token}\r\n\r\nsmoke test\r\n")
        deadline = time.time() + 10
        found = False
        while time.time() < deadline and not found:
            found = any(token in p.read_text(errors="replace")
                        for p in where.rglob("*") if p.is_file() and p.parent.name != "tmp")
            time.sleep(0.05)
        print(f"{key}: {'delivered' if found else 'NOT delivered'}")
        failed += not found
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
