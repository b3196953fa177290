#!/usr/bin/env bash
# start-proxies.sh DIR: starts the proxies the tests connect through, on free loopback ports:
#   socks       microsocks, no authentication
#   socks_auth  microsocks, user "proxyuser", password "proxy-pass"
#   http        tinyproxy (HTTP CONNECT), no authentication
#   http_auth   tinyproxy with Basic authentication, same user and password
# Writes DIR/<name>.port and DIR/<name>.pid.
set -euo pipefail
dir=$1
. "$(dirname "$0")/lib.sh"
mkdir -p "$dir"

start_socks() {
    local name=$1 port
    shift
    port=$(free_port "$dir")
    microsocks -i 127.0.0.1 -p "$port" "$@" >"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
    echo "$port" >"$dir/$name.port"
    wait_for_port "$port"
    sole_listener "$port"
}

start_http() {
    local name=$1 auth=$2 port
    port=$(free_port "$dir")
    touch "$dir/$name.log"
    chown nobody:nogroup "$dir/$name.log"
    cat >"$dir/$name.conf" <<CONF
User nobody
Group nogroup
Port $port
Listen 127.0.0.1
Timeout 60
Allow 127.0.0.1
MaxClients 20
LogFile "$dir/$name.log"
LogLevel Error
DisableViaHeader Yes
$auth
CONF
    tinyproxy -d -c "$dir/$name.conf" >/dev/null 2>&1 &
    echo $! >"$dir/$name.pid"
    echo "$port" >"$dir/$name.port"
    wait_for_port "$port"
    sole_listener "$port"
}

start_socks socks
start_socks socks_auth -u proxyuser -P proxy-pass
start_http http ""
start_http http_auth "BasicAuth proxyuser proxy-pass"
