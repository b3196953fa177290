#!/usr/bin/env python3
"""Independent check of missive's RFC 2047 encoding with Python's email package.

usage: header_words.py HEADER_DUMP
Feeds SAMPLES, one a line, to HEADER_DUMP (the missive_header_dump tool), which prints for each
a folded "Subject:" made with mime::encode_header_text and a "From:" made with
mime::format_mailbox({sample, "user@example.com"}). Each is parsed with
email.parser.BytesParser(policy=email.policy.default); the decoded Subject and the display name
must equal the sample exactly, the address must be user@example.com, no line may exceed 78
characters, and the parser must report no defects. Prints what differs and exits 1 if anything
does.

Python's address parser (3.11 and others before the fix of CPython gh-128110) keeps the white
space between two adjacent encoded words of a display name, which RFC 2047 6.2 says a reader
ignores, and it turns each run of white space inside an encoded word into one space. For a
display name written as atoms and encoded words, its display_name is therefore compared with
white space removed, and the exact comparison is made with Python's RFC 2047 decoder for
unstructured text (policy.default's Subject header), which follows 6.2, on the phrase. A
quoted-string display name is compared exactly.
"""
import email.parser
import email.policy
import re
import subprocess
import sys

SAMPLES = [
    "Hello world",
    "日本語の件名です",
    "日本語のテキスト、とても長い件名です。これは折り返しのテストのために十分な長さが必要です。"
    "もう少し続けましょう。まだまだ続きます。",
    "مرحبا بالعالم، هذا نص عربي طويل لاختبار الترميز والطي في رؤوس البريد الإلكتروني",
    "😀😃😄😁😆😅😂🤣🥲😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝😜🤪🤨🧐🤓😎🥸🤩🥳",
    "👩‍👩‍👧‍👦 family 🇯🇵🇫🇷 flags 👍🏽 skin tones",
    "mixed ASCII and 日本 words  with  several   spaces and Grüße",
    "Grüße aus München  und   schöne Grüße",
    "日本  中国   😀 Ä",
    "e\u0301\u0302 combining a\u030a marks o\u0308",
    "a" * 300,
    "short " + "b" * 300 + " words " + "ü" * 100,
    "quotes \"a\" and \\ backslash, (parens) and commas, ;:<>@ [x]",
    "Doe, John (Jr.) \"The Boss\"",
    "Jörg \"Quote\" (Comment), Müller\\",
    "=?UTF-8?Q?not_encoded?=",
    "looks =?ISO-8859-1?Q?a?= like =? and ?= here",
    "=?utf-8?b?5pel5pys?= =?utf-8?b?5pel5pys?=",
    "under_score = equals ? question",
    "x" * 77,
    "y" * 78,
    "z" * 75 + ",",
    "tab\there",
    "Ä",
]


def check(sample, subject_lines, from_lines, problems):
    raw = b"".join(subject_lines + from_lines) + b"\r\n"
    for line in raw.split(b"\r\n"):
        if len(line) > 78:
            problems.append(f"{sample!r}: line of {len(line)} characters: {line!r}")
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    if msg.defects:
        problems.append(f"{sample!r}: message defects {msg.defects}")
    # A field folded right after its colon keeps the fold's space at the start of Python's
    # value; leading white space is not part of the text (no sample starts with a space).
    subject = str(msg["Subject"]).lstrip(" ")
    if subject != sample:
        problems.append(f"{sample!r}: Subject decoded as {subject!r} from {subject_lines!r}")
    sender = msg["From"]
    if sender.defects:
        problems.append(f"{sample!r}: From defects {sender.defects} in {from_lines!r}")
    if len(sender.addresses) != 1:
        problems.append(f"{sample!r}: From has {len(sender.addresses)} addresses")
        return
    address = sender.addresses[0]
    phrase = b"".join(from_lines).decode("ascii").replace("\r\n", "")[len("From:"):]
    suffix = " <user@example.com>"
    if not phrase.endswith(suffix):
        problems.append(f"{sample!r}: From does not end with {suffix!r}: {from_lines!r}")
        return
    phrase = phrase[:-len(suffix)].lstrip(" ")
    if phrase.startswith('"') or "=?" not in phrase:
        if address.display_name != sample:
            problems.append(f"{sample!r}: display name decoded as {address.display_name!r} "
                            f"from {from_lines!r}")
    else:
        unstructured = str(email.policy.default.header_factory("Subject", phrase))
        if unstructured != sample:
            problems.append(f"{sample!r}: display name phrase decoded as {unstructured!r} "
                            f"from {from_lines!r}")
        if re.sub(r"\s", "", address.display_name) != re.sub(r"\s", "", sample):
            problems.append(f"{sample!r}: display name decoded as {address.display_name!r} "
                            f"from {from_lines!r}")
    if address.addr_spec != "user@example.com":
        problems.append(f"{sample!r}: address {address.addr_spec!r}")


def main() -> int:
    tool = sys.argv[1]
    stdin = "".join(s + "\n" for s in SAMPLES).encode("utf-8")
    out = subprocess.run([tool], input=stdin, stdout=subprocess.PIPE, check=True).stdout
    lines = out.split(b"\r\n")[:-1]
    # Regroup the folded lines into fields: a field starts with a non-space.
    fields = []
    for line in lines:
        if line.startswith(b" ") and fields:
            fields[-1].append(line + b"\r\n")
        else:
            fields.append([line + b"\r\n"])
    problems = []
    if len(fields) != 2 * len(SAMPLES):
        print(f"expected {2 * len(SAMPLES)} fields, got {len(fields)}: {out[:2000]!r}",
              file=sys.stderr)
        return 1
    for i, sample in enumerate(SAMPLES):
        subject, sender = fields[2 * i], fields[2 * i + 1]
        if not subject[0].startswith(b"Subject:") or not sender[0].startswith(b"From:"):
            problems.append(f"{sample!r}: unexpected output {subject!r} {sender!r}")
            continue
        check(sample, subject, sender, problems)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"header_words: {len(SAMPLES)} samples, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
