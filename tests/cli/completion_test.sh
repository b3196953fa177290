#!/bin/bash
# ctest completion_bash: the completion script `missive completion bash` prints (and the build
# installs) is taken by bash itself, and completes subcommands, options and their values.
# usage: completion_test.sh BASH_COMPLETION_FILE
set -u
file=$1
status=0
# shellcheck disable=SC1090
source "$file" || { echo "bash refused $file"; exit 1; }
[[ "$(complete -p missive)" == "complete -o default -F _missive missive" ]] ||
    { echo "not registered: $(complete -p missive 2>&1)"; status=1; }

# expect WORDS… -- REPLY…: completing the last word of WORDS gives REPLY (in order).
expect() {
    local words=() reply=()
    while [[ $1 != -- ]]; do words+=("$1"); shift; done
    shift
    reply=("$@")
    COMP_WORDS=("${words[@]}")
    COMP_CWORD=$((${#words[@]} - 1))
    _missive
    if [[ "${COMPREPLY[*]}" != "${reply[*]}" ]]; then
        echo "completing '${words[*]}': got '${COMPREPLY[*]}', expected '${reply[*]}'"
        status=1
    fi
}

expect missive se -- send sendmail
expect missive send --fr -- --from
expect missive send --tls im -- implicit
expect missive send --attach re -- # file names: bash's default completion
expect missive dkim k -- keygen
expect missive capture --list -- --listen
expect missive completion "" -- --help -h
exit $status
