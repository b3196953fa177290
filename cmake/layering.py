#!/usr/bin/env python3
"""Checks the layering of DESIGN.md and STYLE.md over include/missive and src.

- A layer includes only itself and layers above it in DESIGN.md's order
  util, mime, dkim, sasl, smtp, net, client, transport, outbox, testing, and of those only the
  ones STYLE.md says it uses (ALLOWED below: dkim uses mime, smtp uses sasl, client uses smtp,
  net, mime, dkim; outbox uses client and what client's headers show: smtp, net, mime, and
  transport, which OutboxTransport implements). error.hpp, smtp/reply.hpp and smtp/result.hpp are base headers that every layer may
  include: Error carries a Reply and a SendResult.
- util, mime, dkim, sasl and smtp do no I/O: no Asio, no OpenSSL SSL, no socket headers,
  no clock reads. Neither do the base files (error.hpp/.cpp, smtp/reply.hpp, smtp/result.hpp),
  which every layer may use and which therefore include only util and each other.
- Top-level files (missive.hpp, send.hpp …) sit with client: they may use every layer but testing.
Prints file:line for each violation and exits 1 if there is one.

usage: layering.py [SOURCE_DIR]
"""
import pathlib
import re
import sys

ORDER = ["util", "mime", "dkim", "sasl", "smtp", "net", "client", "transport", "outbox",
         "testing"]
ALLOWED = {  # which layers each layer may include (STYLE.md: dkim uses mime; smtp uses sasl …)
    "util": {"util"},
    "mime": {"util", "mime"},
    "dkim": {"util", "mime", "dkim"},
    "sasl": {"util", "sasl"},
    "smtp": {"util", "sasl", "smtp"},
    "net": {"util", "net"},
    "client": {"util", "mime", "dkim", "sasl", "smtp", "net", "client"},
    "transport": {"util", "mime", "smtp", "net", "client", "transport"},
    "outbox": {"util", "mime", "smtp", "net", "client", "transport", "outbox"},
    "testing": set(ORDER),
}
ALLOWED["client"].add("top")  # the root's one-call send is implemented in src/client
ALLOWED["testing"].add("top")
ALLOWED["top"] = ALLOWED["client"]
ALLOWED["base"] = {"util"}
BASE = {"missive/error.hpp", "missive/smtp/reply.hpp", "missive/smtp/result.hpp"}
BASE_FILES = {"include/missive/error.hpp", "include/missive/smtp/reply.hpp",
              "include/missive/smtp/result.hpp", "src/error.cpp", "src/smtp/reply.cpp",
              "src/smtp/result.cpp"}
PURE = {"util", "mime", "dkim", "sasl", "smtp", "base"}
BANNED = [
    (re.compile(r'#\s*include\s*[<"]asio'), "Asio"),
    (re.compile(r'#\s*include\s*[<"]openssl/ssl\.h'), "OpenSSL SSL"),
    (re.compile(r'#\s*include\s*[<"](sys/socket|netinet/|arpa/inet|netdb|poll\.h|unistd\.h)'),
     "socket/OS I/O header"),
    (re.compile(r'_clock::now\(\)'), "a clock read (time is an input of the core)"),
]
INCLUDE = re.compile(r'#\s*include\s*[<"](missive/[^>"]+|(?:util|mime|dkim|sasl|smtp|net|client|transport|outbox|testing)/[^>"]+)[>"]')


def layer_of(path: pathlib.Path, root: pathlib.Path):
    """The layer a file belongs to, or None for a directory that is no layer."""
    if path.relative_to(root).as_posix() in BASE_FILES:
        return "base"
    rel = path.relative_to(root).parts
    if rel[0] == "include":
        rel = rel[2:]  # include/missive/<layer>/…
    else:
        rel = rel[1:]  # src/<layer>/…
    if len(rel) == 1:
        return "top"
    return rel[0] if rel[0] in ORDER else None


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = [p for d in ("include/missive", "src") for p in (root / d).rglob("*")
             if p.suffix in (".hpp", ".cpp")]
    problems = []
    for path in sorted(files):
        layer = layer_of(path, root)
        if layer is None:
            print(f"{path.relative_to(root)}: note: not in any layer of {ORDER}, not checked")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(root)}:{number}"
            m = INCLUDE.search(line)
            if m:
                target = m.group(1)
                if not target.startswith("missive/"):
                    target = "missive/" + target
                if target not in BASE:
                    parts = target.split("/")
                    used = parts[1] if len(parts) > 2 else "top"
                    if (used in ORDER or used == "top") and used not in ALLOWED[layer] \
                            and used != layer:
                        problems.append(f"{where}: layer '{layer}' includes '{target}' "
                                        f"from layer '{used}'")
            if layer in PURE:
                for pattern, what in BANNED:
                    if pattern.search(line):
                        problems.append(f"{where}: layer '{layer}' must do no I/O but uses {what}")
    for p in problems:
        print(p)
    print(f"layering: {len(files)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
