#!/usr/bin/env python3
"""Independent check of a delivered message with Python's email package.

usage: parse_message.py FILE SUBJECT BODY
Exits 0 when FILE parses without defects, its Subject is SUBJECT and its body text is BODY
(line ends normalised to LF); otherwise prints what differs and exits 1.
"""
import email
import email.policy
import sys


def main() -> int:
    path, subject, body = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    problems = []
    if msg.defects:
        problems.append(f"defects: {msg.defects}")
    if str(msg["Subject"]) != subject:
        problems.append(f"subject {msg['Subject']!r} != {subject!r}")
    text = msg.get_content().replace("\r\n", "\n")
    if text != body:
        problems.append(f"body {text[:200]!r} != {body[:200]!r}")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
