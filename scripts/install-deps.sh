#!/usr/bin/env bash
# Installs the Debian 12 packages missive needs to build and test, if any is missing.
# Idempotent: when everything is there it only checks; apt-get update runs only when something
# has to be installed. Needs root.
set -euo pipefail
packages=(
  # build
  g++ cmake ninja-build ccache pkg-config python3 git
  libssl-dev libasio-dev libidn2-dev libsqlite3-dev libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  libcli11-dev libtomlplusplus-dev             # the missive CLI
  nlohmann-json3-dev                           # the CLI's JSON (send --batch); not the library
  clang libclang-rt-14-dev                     # fuzz targets (libFuzzer)
  clang-tidy clang-format                      # the lint tests
  # test servers and clients (tests/integration/scripts)
  postfix                                      # smtpd and smtp-sink
  dovecot-core dovecot-submissiond dovecot-lmtpd  # AUTH, STARTTLS, LMTP
  microsocks tinyproxy                         # SOCKS5 and HTTP CONNECT proxies
  openssl                                      # the test CA and certificates
  postgresql                                   # the outbox's PostgreSQL store (15 on Debian 12)
  swaks libauthen-sasl-perl                    # checking servers by hand (DIGEST-MD5 in swaks)
  bsd-mailx                                    # a real program using missive as its sendmail
  python3-dkim opendkim                        # independent DKIM verifiers (dkimpy, opendkim -t)
  groff-base                                   # the man page check
  # the interoperability matrix (tests/interop/run)
  python3-aiosmtpd                             # Python's aiosmtpd server
  libmariadb3 libspf2-2 libidn12               # libraries of exim4-daemon-heavy, which the
                                               # matrix unpacks itself and never installs
  libevent-2.1-7                               # OpenSMTPD's, unpacked likewise
  gcc util-linux                               # OpenSMTPD's TLS fix; unshare, mount
  zsh                                          # the zsh completion check
  # benchmarks (bench/run_scale.sh)
  time gnuplot-nox valgrind                    # max RSS, the chart, CALLGRIND=1
)
# Nodemailer's smtp-server (tests/interop) runs on the machine's Node.js with npm; Debian's
# only when there is none.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests run private Postfix instances; the system's own must not be set up to send mail.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
