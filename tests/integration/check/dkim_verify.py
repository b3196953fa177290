#!/usr/bin/python3
"""Two independent DKIM verifiers over messages that missive built and signed.

Runs `missive_dkim_samples make DIR`, then checks every DKIM-Signature of every message with
  - dkimpy (Debian python3-dkim), the public keys given through its dnsfunc hook, and
  - opendkim (Debian opendkim) in test mode (-t), the keys given by TestPublicKeys,
both offline. Every signature must pass in both. Then each message is tampered with (a body
octet, a signed header, a From added above) and every signature must fail in both, so that a
verifier that accepts anything cannot pass this test.

usage: dkim_verify.py MISSIVE_DKIM_SAMPLES WORKDIR
(run with Debian's /usr/bin/python3, which has python3-dkim)
"""
import pathlib
import re
import shutil
import subprocess
import sys

import dkim


def load_keys(path):
    keys = {}
    for line in path.read_text().splitlines():
        name, record = line.split(" ", 1)
        keys[name] = record
    return keys


def signature_count(message):
    head = message.split(b"\r\n\r\n", 1)[0]
    return len(re.findall(rb"(?im)^dkim-signature:", head))


def dkimpy_results(message, keys):
    def dnsfunc(name, timeout=5):
        return keys.get(name.decode().rstrip("."), "").encode()

    results = []
    for i in range(signature_count(message)):
        d = dkim.DKIM(message)
        try:
            results.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
        except dkim.DKIMException as e:  # some failures are raised, not returned
            results.append(False)
            print(f"  dkimpy: signature {i}: {e}")
    return results


class OpenDkim:
    def __init__(self, workdir, keys_file):
        self.conf = workdir / "opendkim.conf"
        self.conf.write_text(
            f"TestPublicKeys {keys_file}\nMode v\nSyslog no\nAlwaysAddARHeader yes\n"
            "MinimumKeyBits 1024\nMaximumSignaturesToVerify 10\n")

    def results(self, path):
        out = subprocess.run(["opendkim", "-vv", "-x", str(self.conf), "-t", str(path)],
                             capture_output=True, text=True, timeout=600)
        text = out.stdout + out.stderr
        # One "dkim=RESULT" per signature in the Authentication-Results field it would add
        # (printed at verbosity 2 as "INSHEADER").
        return re.findall(r"\bdkim=(\w+)", text), text


def tamper(message):
    """Variants that every signature must refuse."""
    head, body = message.split(b"\r\n\r\n", 1)
    yield "body octet", head + b"\r\n\r\n" + (body[:-3] + b"X" + body[-2:] if len(body) > 2
                                               else b"X\r\n")
    yield "subject changed", re.sub(rb"(?m)^Subject:", b"Subject: Re:", head, count=1) \
        + b"\r\n\r\n" + body if re.search(rb"(?m)^Subject:", head) else None
    yield "From added", b"From: mallory@evil.example\r\n" + head + b"\r\n\r\n" + body


def main():
    samples, workdir = sys.argv[1], pathlib.Path(sys.argv[2])
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    subprocess.run([samples, "make", str(workdir)], check=True)
    keys = load_keys(workdir / "keys.txt")
    opendkim = OpenDkim(workdir, workdir / "keys.txt")
    failures = []
    checked = 0
    messages = sorted(workdir.glob("*.eml"))
    if len(messages) < 20:
        failures.append(f"only {len(messages)} messages were made")
    for path in messages:
        message = path.read_bytes()
        n = signature_count(message)
        if n < 2:
            failures.append(f"{path.name}: {n} signatures, expected at least 2")
        py = dkimpy_results(message, keys)
        od, text = opendkim.results(path)
        if py != [True] * n:
            failures.append(f"{path.name}: dkimpy {py}")
        if ".dkimpy-only" in path.name:
            pass  # see dkim_samples.cpp: opendkim's milter interface changes such a field
        elif od != ["pass"] * n:
            failures.append(f"{path.name}: opendkim {od}\n{text}")
        checked += n
        if path.stat().st_size > 1 << 20:
            continue  # tampering with the large ones proves nothing more
        for what, bad in tamper(message):
            if bad is None:
                continue
            bad_path = workdir / "tampered.eml"
            bad_path.write_bytes(bad)
            py = dkimpy_results(bad, keys)
            od, _ = opendkim.results(bad_path)
            if any(py):
                failures.append(f"{path.name} with {what}: dkimpy still passes {py}")
            if "pass" in od:
                failures.append(f"{path.name} with {what}: opendkim still passes {od}")
    for f in failures:
        print("FAIL", f)
    print(f"dkim_verify: {len(messages)} messages, {checked} signatures, each checked by dkimpy "
          f"and opendkim; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
