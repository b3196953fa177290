#!/usr/bin/env bash
# Installs the Debian packages missive needs to build and test, if any is missing. Idempotent;
# runs apt-get update only when something has to be installed. Needs root.
set -euo pipefail
packages=(
  g++ clang clang-tidy clang-format git libclang-rt-14-dev cmake ninja-build ccache pkg-config python3
  libssl-dev libasio-dev libidn2-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev
  postfix   # smtp-sink and smtpd for the integration tests and the demo
  microsocks tinyproxy  # SOCKS5 and HTTP CONNECT proxies for the integration tests
  dovecot-core dovecot-submissiond dovecot-lmtpd  # AUTH and STARTTLS for the integration tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
