#!/usr/bin/python3
"""`missive dkim keygen` and `missive dkim dns` end to end.

For each algorithm: keygen writes a key file of mode 0600 (and refuses to overwrite it); dns
prints the record to publish; a message signed with that key by the library (through
missive_dkim_samples sign) then verifies in dkimpy, whose DNS lookup is answered with the
printed record's strings joined, as a resolver would join them. A message signed by another key
must fail against the same record.

usage: dkim_cli.py MISSIVE MISSIVE_DKIM_SAMPLES WORKDIR
"""
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import dkim

MESSAGE = (b"From: Ada <ada@example.org>\r\nTo: bob@example.com\r\nSubject: keygen, dns, sign\r\n"
           b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <cli@example.org>\r\n\r\n"
           b"Signed with a key from missive dkim keygen.\r\n")

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL", what)


def run(*args, stdin=None):
    return subprocess.run(list(args), input=stdin, capture_output=True, timeout=120)


def parse_record(text, selector, domain):
    """The owner and the joined TXT strings of a zone-file line; each string at most 255."""
    m = re.fullmatch(r'(\S+) IN TXT((?: "[^"]*")+)\n', text)
    check(m is not None, f"record line: {text!r}")
    if m is None:
        return None
    check(m.group(1) == f"{selector}._domainkey.{domain}.", f"owner {m.group(1)}")
    strings = re.findall(r'"([^"]*)"', m.group(2))
    check(all(len(s) <= 255 for s in strings), f"strings longer than 255: {strings}")
    return "".join(strings)


def sign(samples, key, selector, domain):
    out = run(samples, "sign", str(key), selector, domain, "relaxed/simple", stdin=MESSAGE)
    check(out.returncode == 0, f"sign: {out.stderr.decode()}")
    return out.stdout


def verifies(message, name, record):
    def dnsfunc(qname, timeout=5):
        return record.encode() if qname.decode().rstrip(".") == name else b""
    try:
        return dkim.DKIM(message).verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print("  dkimpy:", e)
        return False


def main():
    missive, samples, workdir = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    for algorithm, extra, k in [("ed25519", [], "ed25519"), ("rsa", ["--bits", "2048"], "rsa")]:
        key = workdir / f"{algorithm}.pem"
        out = run(missive, "dkim", "keygen", "--algorithm", algorithm, *extra, "--out", str(key))
        check(out.returncode == 0, f"keygen {algorithm}: {out.returncode} {out.stderr}")
        check(stat.S_IMODE(os.stat(key).st_mode) == 0o600, f"{key} mode")
        check(key.read_text().startswith("-----BEGIN PRIVATE KEY-----"), f"{key} is PKCS#8 PEM")
        before = key.read_bytes()
        again = run(missive, "dkim", "keygen", "--algorithm", algorithm, "--out", str(key))
        check(again.returncode == 73 and key.read_bytes() == before,
              f"keygen over an existing key: {again.returncode}")

        out = run(missive, "dkim", "dns", "--key", str(key), "--selector", "mail2026",
                  "--domain", "Example.org")
        check(out.returncode == 0, f"dns {algorithm}: {out.stderr}")
        record = parse_record(out.stdout.decode(), "mail2026", "example.org")
        if record is None:
            continue
        check(record.startswith(f"v=DKIM1; k={k}; p="), f"record {record}")
        check(b"PRIVATE" not in out.stdout, "the record holds no private key")

        signed = sign(samples, key, "mail2026", "example.org")
        check(verifies(signed, "mail2026._domainkey.example.org", record),
              f"{algorithm}: dkimpy does not verify with the published record")

        other = workdir / f"other-{algorithm}.pem"
        run(missive, "dkim", "keygen", "--algorithm", algorithm, "--out", str(other))
        forged = sign(samples, other, "mail2026", "example.org")
        check(not verifies(forged, "mail2026._domainkey.example.org", record),
              f"{algorithm}: another key's signature verifies against the record")

    out = run(missive, "dkim", "keygen", "--algorithm", "ed25519", "--bits", "2048", "--out",
              str(workdir / "x.pem"))
    check(out.returncode == 64 and not (workdir / "x.pem").exists(), "--bits with ed25519")
    out = run(missive, "dkim", "dns", "--key", str(workdir / "missing.pem"), "--selector", "s",
              "--domain", "example.org")
    check(out.returncode == 78 and b"cannot be read" in out.stderr, f"missing key: {out}")
    print(f"dkim_cli: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
