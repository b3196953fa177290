#!/usr/bin/env python3
"""ctest man_page_options: missive(1) covers every subcommand and option the binary has.

The binary's own description of itself (`missive completion bash`, made from its CLI11
definition) lists each command path and its long options; each must appear in docs/missive.1.

usage: man_page_test.py MISSIVE_BINARY MAN_PAGE
"""
import re
import subprocess
import sys


def main() -> int:
    binary, page = sys.argv[1], sys.argv[2]
    script = subprocess.run([binary, "completion", "bash"], check=True, capture_output=True,
                            text=True).stdout
    # groff source, with hyphens as typed and font changes (\fB, \fR …) as spaces.
    text = open(page, encoding="utf-8").read().replace("\\-", "-")
    text = re.sub(r"\\f[BIRP]", " ", text)
    tables = dict(re.findall(r'declare -gA (\w+)=\(\n(.*?)\n\)', script, re.S))
    missing = []
    for table in ("_missive_subcommands", "_missive_options"):
        for path, words in re.findall(r'\["([^"]*)"\]="([^"]*)"', tables[table]):
            for word in words.split():
                if word in ("--help", "-h"):
                    continue
                if not re.search(r'(?<![\w-])' + re.escape(word) + r'(?![\w-])', text):
                    missing.append(f"{path}: {word}")
    for m in missing:
        print(f"{page}: does not mention {m}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
