#!/usr/bin/env bash
# setup.sh DIR: starts every server the integration tests use and writes DIR/env (KEY=VALUE),
# which the tests read through MISSIVE_TEST_ENV. Stop them with stop-servers.sh DIR.
set -euo pipefail
dir=$1
here=$(dirname "$0")
# Whatever a previous run left behind goes first; a failed start stops what did start.
"$here/stop-servers.sh" "$dir" >/dev/null
rm -rf "$dir"
mkdir -p "$dir"
trap 'echo "setup failed; stopping what started" >&2; "$here/stop-servers.sh" "$dir" >&2' ERR
"$here/start-smtp-sink.sh" "$dir" sink
"$here/start-smtp-sink.sh" "$dir" sink_nopipe -p
"$here/start-smtp-sink.sh" "$dir" sink_lmtp -L
"$here/start-postfix.sh" "$dir"
"$here/start-proxies.sh" "$dir"
"$here/start-dovecot.sh" "$dir" "$(cat "$dir/sink.port")"
# One line per server: DIR/<name>.port becomes MISSIVE_TEST_<NAME>_PORT.
{
    for f in "$dir"/*.port; do
        name=$(basename "$f" .port | tr '[:lower:]' '[:upper:]')
        echo "MISSIVE_TEST_${name}_PORT=$(cat "$f")"
    done
    echo "MISSIVE_TEST_CA_FILE=$dir/ca.crt"
    echo "MISSIVE_TEST_DIR=$dir"
} >"$dir/env"
cat "$dir/env"
