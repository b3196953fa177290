#!/usr/bin/env python3
"""Reads missive's sample messages back with Python's email package (policy.default).

usage: mime_roundtrip.py DIR
DIR holds the .eml files and expect.json that tests/tools/mime_samples.cpp wrote. For each
message: no parser defects; Subject, From and To decode to the original Unicode; the fields in
"absent" are not there; the MIME structure is as built; every leaf has its type, filename and
Content-ID, text decodes to the original (line ends as LF) and binary content is byte-identical;
header lines are at most 78 octets and no line passes 998. Exits 1 with a list of what differs.
"""
import email
import email.policy
import json
import pathlib
import sys


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


def check(directory: pathlib.Path, sample: dict, problems: list) -> None:
    name = sample["file"]
    raw = (directory / name).read_bytes()

    def problem(text: str) -> None:
        problems.append(f"{name}: {text}")

    head, _, _ = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if len(line) > 78:
            problem(f"header line of {len(line)} octets: {line[:90]!r}")
    for line in raw.split(b"\r\n"):
        if len(line) > 998:
            problem(f"line of {len(line)} octets")
        if b"\n" in line or b"\r" in line:
            problem("a bare CR or LF")
            break

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        if part.defects:
            problem(f"defects in {part.get_content_type()}: {part.defects}")
    if str(msg.get("Subject", "")) != sample["subject"]:
        problem(f"Subject {str(msg.get('Subject'))!r} != {sample['subject']!r}")
    for field in ("from", "to"):
        got = [[a.display_name, a.addr_spec] for a in msg[field].addresses] if msg[field] else []
        if got != sample[field]:
            problem(f"{field} {got!r} != {sample[field]!r}")
    for field in sample["absent"]:
        if field in msg:
            problem(f"{field} is present: {msg[field]!r}")
    if msg["MIME-Version"] != "1.0":
        problem("no MIME-Version: 1.0")
    if shape(msg) != sample["structure"]:
        problem(f"structure {shape(msg)} != {sample['structure']}")
        return
    for got, want in zip(leaves(msg), sample["parts"]):
        what = f"part {want['type']} {want['filename']!r}"
        if got.get_content_type() != want["type"]:
            problem(f"{what}: type {got.get_content_type()}")
        if (got.get_filename() or "") != want["filename"]:
            problem(f"{what}: filename {got.get_filename()!r}")
        cid = str(got.get("Content-ID", "")).strip("<>")
        if cid != want["content_id"]:
            problem(f"{what}: Content-ID {cid!r}")
        content = got.get_content()
        if "text" in want:
            expected = want["text"].replace("\r\n", "\n").replace("\r", "\n")
            text = content.replace("\r\n", "\n")
            # A text part's last line break belongs to the boundary or ends the message.
            if text != expected and text.rstrip("\n") != expected.rstrip("\n"):
                problem(f"{what}: text {text[:80]!r}… != {expected[:80]!r}…")
        else:
            data = (directory / want["data"]).read_bytes()
            if content != data:
                problem(f"{what}: {len(content)} bytes differ from the {len(data)} attached")


def main() -> int:
    directory = pathlib.Path(sys.argv[1])
    samples = json.loads((directory / "expect.json").read_text(encoding="utf-8"))
    problems: list = []
    for sample in samples:
        check(directory, sample, problems)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(samples)} messages, {len(problems)} problems")
    return 1 if problems or not samples else 0


if __name__ == "__main__":
    sys.exit(main())
