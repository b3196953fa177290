#!/usr/bin/env python3
"""ctest readme_examples: the README's C++ works as a newcomer would run it.

- The five-minute program (the first C++ block under "## Five minutes") is compiled as it is
  written and run against a fresh `missive capture`; only capture's port (2525) and Maildir
  (/tmp/maildir) are replaced by this run's.
- Each command of the examples table runs against the same capture and exits 0.
- The test under "## Testing your own code" is, word for word, part of a test in the suite,
  and the code under "## Sending many messages: Pool" part of examples/send_pool.cpp (built), and
  the code under "## Durable outbox (library)" part of examples/outbox.cpp (built).

usage: readme_test.py SOURCE_DIR BUILD_DIR MISSIVE_BINARY CXX LIBMISSIVE
"""
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time


def section(readme: str, title: str) -> str:
    start = readme.index("\n## " + title)
    end = readme.find("\n## ", start + 1)
    return readme[start:end if end >= 0 else len(readme)]


def start_capture(binary: str, maildir: pathlib.Path):
    out = maildir.parent / "capture.out"
    proc = subprocess.Popen([binary, "capture", "--listen", "127.0.0.1:0", "--maildir",
                             str(maildir)], stdout=open(out, "w"), stderr=subprocess.STDOUT)
    for _ in range(500):
        m = re.search(r"listening on 127\.0\.0\.1:(\d+),", out.read_text())
        if m:
            return proc, m.group(1)
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("capture did not start: " + out.read_text())


def localize(text: str, port: str, maildir: pathlib.Path, build: str) -> str:
    return (text.replace("2525", port).replace("/tmp/maildir", str(maildir))
            .replace("build/release/", build + "/"))


def main() -> int:
    source, build, binary, cxx, lib = sys.argv[1:6]
    readme = pathlib.Path(source, "README.md").read_text(encoding="utf-8")
    problems = []
    if "capture --listen 127.0.0.1:2525 --maildir /tmp/maildir" not in section(readme, "Set up"):
        problems.append("the set-up section no longer starts capture on 127.0.0.1:2525, "
                        "/tmp/maildir, which the five-minute program uses")
    five = section(readme, "Five minutes")
    program = re.search(r"```cpp\n(.*?)```", five, re.S).group(1)
    with tempfile.TemporaryDirectory(prefix="missive-readme-") as tmp:
        tmp = pathlib.Path(tmp)
        maildir = tmp / "maildir"
        capture, port = start_capture(binary, maildir)
        try:
            src = tmp / "hello.cpp"
            src.write_text(localize(program, port, maildir, build), encoding="utf-8")
            subprocess.run([cxx, "-std=c++20", "-I", str(pathlib.Path(source, "include")),
                            str(src), lib, "-lssl", "-lcrypto", "-lidn2", "-pthread", "-o",
                            str(tmp / "hello")], check=True)
            run = subprocess.run([str(tmp / "hello")], capture_output=True, text=True, timeout=60)
            if run.returncode != 0 or not run.stdout.startswith("sent: 250"):
                problems.append(f"the five-minute program: exit {run.returncode}, "
                                f"{run.stdout!r} {run.stderr!r}")
            commands = re.findall(r"^\| `[a-z_]+\.cpp` \|[^|]*\| `([^`]*)` \|$", five, re.M)
            if len(commands) < 5:
                problems.append(f"the examples table has {len(commands)} commands, not 5")
            for command in commands:
                env = dict(os.environ)
                words = shlex.split(localize(command, port, maildir, build))
                while "=" in words[0]:
                    name, value = words.pop(0).split("=", 1)
                    env[name] = value
                r = subprocess.run(words, capture_output=True, text=True, env=env, cwd=source,
                                   timeout=60)
                if r.returncode != 0:
                    problems.append(f"{command}: exit {r.returncode}: {r.stderr}")
            delivered = len(list((maildir / "new").iterdir()))
            # One message per program, but send_async sends three over its one connection
            # and send_pool twenty.
            expected = (1 + len(commands) + sum(2 for c in commands if "send_async" in c) +
                        sum(19 for c in commands if "send_pool" in c))
            if delivered != expected:
                problems.append(f"capture stored {delivered} messages, not {expected}")
        finally:
            capture.send_signal(signal.SIGTERM)
            capture.wait(timeout=10)

    testing = section(readme, "Testing your own code")
    test_file = pathlib.Path(source, "tests/unit/transport/welcome_test.cpp").read_text()
    for block in re.findall(r"```cpp\n(.*?)```", testing, re.S):
        if "MemoryTransport" in block and block not in test_file:
            problems.append("the MemoryTransport test in the README differs from "
                            "tests/unit/transport/welcome_test.cpp")
    pool = section(readme, "Sending many messages: Pool")
    pool_example = pathlib.Path(source, "examples/send_pool.cpp").read_text()
    for block in re.findall(r"```cpp\n(.*?)```", pool, re.S):
        if block not in pool_example:
            problems.append("the Pool example in the README differs from examples/send_pool.cpp")
    outbox = section(readme, "Durable outbox (library)")
    outbox_example = pathlib.Path(source, "examples/outbox.cpp").read_text()
    for block in re.findall(r"```cpp\n(.*?)```", outbox, re.S):
        if block not in outbox_example:
            problems.append("the outbox example in the README differs from examples/outbox.cpp")
    for p in problems:
        print("README.md:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
