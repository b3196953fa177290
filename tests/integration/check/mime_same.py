#!/usr/bin/env python3
"""Checks with Python's email package that a delivered message is the message that was sent.

usage: mime_same.py DELIVERED EXPECTED
Both files are parsed (policy.default). Subject, From, To and Cc must decode to the same text,
the MIME structure must be the same, and every leaf the same type, filename, Content-ID and
decoded content (text with LF line ends). The delivered copy may have more trace fields
(Received, Delivered-To, Return-Path …), nothing else. Exits 1 with what differs.
"""
import email
import email.policy
import sys


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def shape(part) -> str:
    s = part.get_content_type()
    if part.is_multipart():
        s += "(" + ",".join(shape(p) for p in part.iter_parts()) + ")"
    return s


def leaves(part):
    if part.is_multipart():
        for p in part.iter_parts():
            yield from leaves(p)
    else:
        yield part


def content(part):
    c = part.get_content()
    return c.replace("\r\n", "\n") if isinstance(c, str) else c


def main() -> int:
    got, want = parse(sys.argv[1]), parse(sys.argv[2])
    problems = []
    for part in got.walk():
        if part.defects:
            problems.append(f"defects: {part.defects}")
    for field in ("Subject", "From", "To", "Cc", "Bcc"):
        if str(got.get(field, "")) != str(want.get(field, "")):
            problems.append(f"{field}: {got.get(field)!r} != {want.get(field)!r}")
    if shape(got) != shape(want):
        problems.append(f"structure {shape(got)} != {shape(want)}")
    else:
        for a, b in zip(leaves(got), leaves(want)):
            for what, x, y in (("type", a.get_content_type(), b.get_content_type()),
                               ("filename", a.get_filename(), b.get_filename()),
                               ("Content-ID", a.get("Content-ID"), b.get("Content-ID")),
                               ("content", content(a), content(b))):
                if x != y:
                    problems.append(f"{b.get_content_type()} {what} differs: {str(x)[:80]!r}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
