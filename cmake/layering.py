#!/usr/bin/env python3
"""Checks the layering of DESIGN.md and STYLE.md over include/missive and src.

- A layer includes only itself and the layers above it:
  util, mime, dkim, sasl, smtp, net, client, testing (error.hpp, smtp/reply.hpp and
  smtp/result.hpp are base headers: Error carries a Reply and a SendResult).
- util, mime, dkim, sasl and smtp do no I/O: no Asio, no OpenSSL SSL, no socket headers,
  no clock reads.
Prints file:line for each violation and exits 1 if there is one.
"""
import pathlib
import re
import sys

ORDER = ["util", "mime", "dkim", "sasl", "smtp", "net", "client", "testing"]
ALLOWED = {  # which layers each layer may include (STYLE.md: dkim uses mime; smtp uses sasl …)
    "util": {"util"},
    "mime": {"util", "mime"},
    "dkim": {"util", "mime", "dkim"},
    "sasl": {"util", "sasl"},
    "smtp": {"util", "sasl", "smtp"},
    "net": {"util", "net"},
    "client": {"util", "mime", "dkim", "sasl", "smtp", "net", "client"},
    "testing": set(ORDER),
}
BASE = {"missive/error.hpp", "missive/smtp/reply.hpp", "missive/smtp/result.hpp"}
PURE = {"util", "mime", "dkim", "sasl", "smtp"}
BANNED = [
    (re.compile(r'#\s*include\s*[<"]asio'), "Asio"),
    (re.compile(r'#\s*include\s*[<"]openssl/ssl\.h'), "OpenSSL SSL"),
    (re.compile(r'#\s*include\s*[<"](sys/socket|netinet/|arpa/inet|netdb|poll\.h|unistd\.h)'),
     "socket/OS I/O header"),
    (re.compile(r'_clock::now\(\)'), "a clock read (time is an input of the core)"),
]
INCLUDE = re.compile(r'#\s*include\s*[<"](missive/[^>"]+|(?:util|mime|dkim|sasl|smtp|net|client|testing)/[^>"]+)[>"]')


def layer_of(path: pathlib.Path, root: pathlib.Path):
    rel = path.relative_to(root).parts
    if rel[0] == "include":
        rel = rel[2:]  # include/missive/<layer>/…
    else:
        rel = rel[1:]  # src/<layer>/…
    return rel[0] if len(rel) > 1 and rel[0] in ORDER else None


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files = [p for d in ("include/missive", "src") for p in (root / d).rglob("*")
             if p.suffix in (".hpp", ".cpp")]
    problems = []
    for path in sorted(files):
        layer = layer_of(path, root)
        if layer is None:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(root)}:{number}"
            m = INCLUDE.search(line)
            if m:
                target = m.group(1)
                if not target.startswith("missive/"):
                    target = "missive/" + target
                if target not in BASE and target != "missive/missive.hpp":
                    parts = target.split("/")
                    used = parts[1] if len(parts) > 2 else None
                    if used in ORDER and used not in ALLOWED[layer]:
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
