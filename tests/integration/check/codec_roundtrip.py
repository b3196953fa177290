#!/usr/bin/env python3
"""Checks missive's content transfer encoders with Python's decoders, which share no code with
them: varied inputs go through missive_codec_dump (base64_encode_lines, QuotedPrintableEncoder
in text and binary mode, whole and in chunks), and base64/binascii/quopri/email must decode the
output to the input (qp-text: with every line break as CRLF). It also checks the form of the
output: CRLF line breaks only, lines of at most 76 characters (base64: exactly 76 but the last),
printable US-ASCII, no white space at the end of a line, and that chunked output is the same as
the whole. Prints each mismatch and exits 1 if there is one.

usage: codec_roundtrip.py PATH_TO_missive_codec_dump
"""
import base64
import binascii
import email
import email.base64mime
import email.policy
import email.quoprimime
import quopri
import random
import re
import subprocess
import sys

BREAKS = re.compile(rb"\r\n|\r|\n")


def crlf(data: bytes) -> bytes:
    return BREAKS.sub(b"\r\n", data)


def text_inputs(rng: random.Random) -> dict:
    words = ["mail", "From", "From ", ".", "..", "=", "==", "=3D", "café", "naïve", "日本語",
             "€", "😀", " ", "  ", "\t", "x" * 74, "y" * 75, "z" * 76, "w" * 77, "long" * 60]
    breaks = ["\r\n", "\n", "\r", " \r\n", "\t\n", "  \r", "\n\n", "\r\r\n"]
    inputs = {
        "empty": b"",
        "one line": b"Hello, World!",
        "dots and From": b".\r\n.starts\r\nFrom me\r\nFromage\r\n>From x\r\n. \r\nFrom",
        "trailing white space": b"space \r\ntab\t\nboth \t\r  \r\n\t\nend ",
        "lines of 74 to 78": b"".join(b"a" * n + b"\r\n" for n in range(70, 80)),
        "equals at breaks": b"".join(b"b" * n + b"=\r\n" for n in range(70, 80)),
        "utf-8": "Grüße aus Köln — 日本語のテキスト 😀\r\n".encode() * 20,
        "ends with break": b"last line\r\n",
        "ends with lone CR": b"last line\r",
        "only breaks": b"\r\n\n\r\r\n\n",
    }
    for k in range(12):
        parts = []
        for _ in range(rng.randrange(20, 400)):
            parts.append(rng.choice(words))
            parts.append(rng.choice(breaks) if rng.random() < 0.15 else " ")
        data = "".join(parts).encode()
        if k % 3 == 0:  # about 3 % of the bytes 8-bit or control
            data = bytes(rng.randrange(128, 256) if rng.random() < 0.03 else b for b in data)
        inputs[f"random text {k}"] = data
    return inputs


def binary_inputs(rng: random.Random) -> dict:
    inputs = {f"random {n} bytes": rng.randbytes(n)
              for n in (1, 2, 3, 4, 56, 57, 58, 113, 114, 115, 1000, 65537)}
    inputs["all byte values"] = bytes(range(256)) * 3
    inputs["zeros"] = bytes(500)
    return inputs


def run(tool: str, mode: str, data: bytes, chunk=None) -> bytes:
    args = [tool, mode] + ([str(chunk)] if chunk else [])
    done = subprocess.run(args, input=data, capture_output=True, check=True)
    return done.stdout


def form_problems(encoded: bytes, base64_lines: bool) -> list:
    problems = []
    if encoded and not base64_lines and encoded.endswith(b"=\r\n"):
        problems.append("ends in a soft line break")
    lines = encoded.split(b"\r\n")
    if b"\r" in encoded.replace(b"\r\n", b"") or b"\n" in encoded.replace(b"\r\n", b""):
        problems.append("a CR or LF outside CRLF")
    for i, line in enumerate(lines):
        if len(line) > 76:
            problems.append(f"line {i} has {len(line)} characters")
        if base64_lines and i < len(lines) - 2 and len(line) != 76:
            problems.append(f"base64 line {i} has {len(line)} characters, not 76")
        if line.endswith((b" ", b"\t")):
            problems.append(f"line {i} ends in white space")
        if any(not (33 <= b <= 126 or b in (32, 9)) for b in line):
            problems.append(f"line {i} has a byte outside printable US-ASCII")
    if base64_lines and encoded and not encoded.endswith(b"\r\n"):
        problems.append("base64 does not end in CRLF")
    return problems


def decoded_base64(encoded: bytes) -> dict:
    message = email.message_from_bytes(
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded, policy=email.policy.default)
    return {
        "base64.b64decode": base64.b64decode(encoded.replace(b"\r\n", b""), validate=True),
        "binascii.a2b_base64": binascii.a2b_base64(encoded),
        "email.base64mime.decode": email.base64mime.decode(encoded.decode("ascii")),
        "email message payload": message.get_payload(decode=True) if encoded else b"",
    }


def decoded_qp(encoded: bytes) -> dict:
    message = email.message_from_bytes(
        b"Content-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded,
        policy=email.policy.default)
    return {
        "quopri.decodestring": quopri.decodestring(encoded),
        "binascii.a2b_qp": binascii.a2b_qp(encoded),
        "email.quoprimime.body_decode":
            email.quoprimime.body_decode(encoded.decode("ascii")).encode("latin-1"),
        "email message payload": message.get_payload(decode=True) if encoded else b"",
    }


def main() -> int:
    tool = sys.argv[1]
    rng = random.Random(20450607)  # fixed: a failure must be reproducible
    text = text_inputs(rng)
    binary = binary_inputs(rng)
    cases = ([("base64", name, data) for name, data in {**text, **binary}.items()]
             + [("qp-text", name, data) for name, data in text.items()]
             + [("qp-binary", name, data) for name, data in {**text, **binary}.items()])
    failures = 0
    checked = 0

    def fail(mode, name, what):
        nonlocal failures
        failures += 1
        print(f"FAIL {mode} [{name}]: {what}")

    for mode, name, data in cases:
        encoded = run(tool, mode, data)
        checked += 1
        chunks = (57, 114, 57 * 11) if mode == "base64" else (1, 2, 3, 7, 76, 1000)
        for chunk in chunks:
            if chunk < len(data) and run(tool, mode, data, chunk) != encoded:
                fail(mode, name, f"output in chunks of {chunk} differs from the whole")
        for problem in form_problems(encoded, mode == "base64"):
            fail(mode, name, problem)
        if mode == "base64":
            expected = data
            results = decoded_base64(encoded)
        elif mode == "qp-binary":
            expected = data
            results = decoded_qp(encoded)
            if b"\r\n" in encoded.replace(b"=\r\n", b""):
                fail(mode, name, "a hard line break in binary mode")
        else:
            expected = crlf(data)
            results = {k: crlf(v) for k, v in decoded_qp(encoded).items()}
            if encoded.endswith(b"\r\n") != bool(BREAKS.search(data[-2:] if data else b"x")
                                                 and data[-1:] in (b"\r", b"\n")):
                fail(mode, name, "ends in CRLF although the input does not end in a break"
                     if encoded.endswith(b"\r\n") else "does not end in CRLF after a break")
        for decoder, result in results.items():
            if result != expected:
                at = next((i for i, (a, b) in enumerate(zip(result, expected)) if a != b),
                          min(len(result), len(expected)))
                fail(mode, name, f"{decoder} gives {len(result)} bytes, expected "
                     f"{len(expected)}; first difference at {at}: "
                     f"{result[at:at + 20]!r} != {expected[at:at + 20]!r}")
    print(f"{checked} encodings checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
