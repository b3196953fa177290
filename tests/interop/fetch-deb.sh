#!/usr/bin/env bash
# fetch-deb.sh PACKAGE CACHE: unpacks Debian's PACKAGE (never installed: exim4-daemon-heavy and
# opensmtpd each provide mail-transport-agent, and installing one would remove Postfix) into
# CACHE/PACKAGE/ and prints that folder. The .deb is fetched once with `apt-get download` into
# CACHE and kept; `dpkg -x` keeps the setuid bit of Exim's binary. Needs root.
set -euo pipefail
pkg=$1 cache=$2
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
out=$cache/$pkg
if [ ! -f "$out/.unpacked" ]; then
    deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        # apt-get download needs the package lists; a fresh machine may have none yet. As root
        # apt warns "Download is performed unsandboxed as root": harmless.
        (cd "$cache" && apt-get download -qq "$pkg" 2>/dev/null) ||
            { apt-get update -qq && (cd "$cache" && apt-get download -qq "$pkg" 2>/dev/null); }
        deb=$(ls "$cache/${pkg}"_*.deb | head -n 1)
    fi
    rm -rf "$out"
    dpkg -x "$deb" "$out"
    basename "$deb" >"$out/.unpacked"
fi
echo "$out"
